"""A small run of the burst benchmark, so `make bench` never rots."""

from __future__ import annotations

import math
import re

from bench.slack_burst import report_burst


def test_the_burst_benchmark_runs_and_prints_ratios() -> None:
    lines = report_burst(at_once=4, latency=0.2)
    ratios = {}
    for line in lines[:3]:
        match = re.fullmatch(
            r"(burst: [a-z0-9. ]+?)\s+([0-9.]+)×  \(vs a bare Bolt app; .*\)", line
        )
        assert match, line
        ratios[match[1]] = float(match[2])
    assert set(ratios) == {"burst: ack p50", "burst: ack p99", "burst: views.open late p99"}
    assert all(math.isfinite(r) and r > 0 for r in ratios.values()), ratios
    assert re.fullmatch(r"burst: past 3 s\s+bot 0/4, bare 0/4  \(.*\)", lines[3]), lines[3]
