"""A small run of the directory import benchmark, so `make bench` never rots."""

from __future__ import annotations

from bench.directory_import import report_directory_import
from tests.bench.test_routing_and_startup import _ratio


def test_the_import_benchmark_prints_a_ratio_and_rows_per_second() -> None:
    [line] = report_directory_import(300)
    assert line.startswith("import 300 rows (SQLite)")
    assert _ratio(line)
    assert line.endswith(" rows/s)")
