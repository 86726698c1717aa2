"""A small run of the burst-of-Accepts benchmark, so `make bench` never rots."""

from __future__ import annotations

from bench.accept_burst import burst


def test_the_accept_burst_benchmark_drains_the_backlog_losing_nothing(db_url: str) -> None:
    postgres_url = db_url if db_url.startswith("postgresql") else None
    result = burst(2, postgres_url=postgres_url)
    assert result.accepts == 2 and result.messages > 0
    assert (result.lost, result.duplicated) == (0, 0)
    assert result.binding == "chat.update"  # the offer cards, updated for everyone, bind
    assert result.fastest > 0 and result.seconds >= result.fastest * 0.9
