"""A small run of the outbox fan-out benchmark, so `make bench` never rots."""

from __future__ import annotations

from bench.outbox_fanout import report_fanout
from tests.bench.smoke import assert_rows


def test_the_fanout_benchmark_gives_throughput_and_counts_nothing_lost() -> None:
    rows = report_fanout(40, slow_dms=10, crash_dms=40, over_dms=40, workers=3)
    assert_rows(
        rows,
        [
            "outbox fan-out, 40 DMs",
            "outbox at 200 ms, 10/s",
            "outbox set to 2x Slack's 30/s",
            "outbox killed and restarted",
            "outbox, two copies, shared limits",
        ],
    )
    for row in rows:
        assert "lost 0, duplicated 0" in row.note, row
    assert "out of order 0" in rows[0].note and "out of order 0" in rows[3].note
    assert rows[3].ratio == 1.0, "every message posted exactly once across the kill"
