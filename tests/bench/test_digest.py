"""A small run of the digest benchmark, so `make bench` never rots."""

from __future__ import annotations

from bench.digest import report_digest
from tests.bench.test_routing_and_startup import _ratio


def test_the_digest_benchmark_prints_a_ratio_per_history() -> None:
    lines = report_digest([1, 2], per_year=50, repeats=2)
    assert [line.split("  ")[0].strip() for line in lines] == [
        "digest, 1 y history (SQLite)",
        "digest, 2 y history (SQLite)",
    ]
    assert all(_ratio(line) for line in lines)
