"""A small run of the outbox fan-out benchmark, so `make bench` never rots."""

from __future__ import annotations

from bench.outbox_fanout import report_fanout
from tests.bench.test_routing_and_startup import LINE, _ratio


def test_the_fanout_benchmark_prints_throughput_and_counts_nothing_lost() -> None:
    lines = report_fanout(40, slow_dms=10, crash_dms=40, over_dms=40, workers=3)
    assert [line.split("  ")[0].strip() for line in lines] == [
        "outbox fan-out, 40 DMs",
        "outbox at 200 ms, 10/s",
        "outbox set to 2x Slack's 30/s",
        "outbox killed and restarted",
    ]
    assert all(_ratio(line) for line in lines)
    for line in lines:
        detail = LINE.fullmatch(line)[3]  # type: ignore[index]  # _ratio matched it
        assert "lost 0, duplicated 0" in detail, line
    assert "out of order 0" in lines[0] and "out of order 0" in lines[3]
    assert _ratio(lines[3]) == 1.0, "every message posted exactly once across the kill"
