"""Small runs of the routing and start-up benchmarks, so `make bench` never rots."""

from __future__ import annotations

import math
import re

from bench.routing import report_ranking
from bench.startup import report_startup

LINE = re.compile(r"(.+?)\s+([0-9.]+)×  \((.*)\)")


def _ratio(line: str) -> float:
    match = LINE.fullmatch(line)
    assert match, line
    ratio = float(match[2])
    assert math.isfinite(ratio) and ratio > 0, line
    return ratio


def test_the_ranking_benchmark_prints_a_ratio_per_database_and_size() -> None:
    lines = report_ranking([10, 200], postgres_url=None, repeats=3)
    assert [line.split("  ")[0].strip() for line in lines] == [
        "rank 10 (SQLite)",
        "rank 200 (SQLite)",
    ]
    assert all(_ratio(line) for line in lines)


def test_the_startup_benchmark_prints_a_ratio() -> None:
    [line] = report_startup(repeats=1)
    assert line.startswith("python -m bot --help")
    assert _ratio(line)
