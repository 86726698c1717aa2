"""Small runs of the start-up and burst benchmarks, so `make bench` never rots."""

from __future__ import annotations

from bench.slack_burst import report_burst
from bench.startup import report_startup
from tests.bench.smoke import assert_rows


def test_the_startup_benchmark_times_help_and_healthz_and_weighs_memory() -> None:
    rows = report_startup(repeats=1)
    assert_rows(
        rows,
        [
            "python -m bot --help",
            "first healthy /healthz",
            "bare Bolt on SQLModel: /healthz",
            "first healthy /healthz, vs floor",
            "idle memory (RSS)",
        ],
    )
    assert [row.unit for row in rows] == ["s", "s", "s", "s", "MB"]
    bot_vs_bare, floor_vs_bare, bot_vs_floor = rows[1:4]
    assert bot_vs_floor.measured == bot_vs_bare.measured
    assert bot_vs_floor.baseline == floor_vs_bare.measured
    assert floor_vs_bare.baseline == bot_vs_bare.baseline


def test_the_burst_benchmark_times_acks_against_bare_bolt() -> None:
    rows = report_burst(at_once=4, latency=0.2, repeats=1)
    assert_rows(rows, ["burst: ack p50", "burst: ack p99", "burst: views.open late p99"])
    assert rows[2].note == "past 3 s: bot 0/4, bare 0/4"
