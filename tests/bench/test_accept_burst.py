"""A small run of the burst-of-Accepts benchmark, so `make bench` never rots."""

from __future__ import annotations

from bench.accept_burst import PER_SUBJECT, burst, directory, subjects_for


def test_the_accept_burst_benchmark_drains_the_backlog_losing_nothing(db_url: str) -> None:
    postgres_url = db_url if db_url.startswith("postgresql") else None
    result = burst(2, postgres_url=postgres_url)
    assert result.accepts == 2 and result.messages > 0
    assert (result.lost, result.duplicated, result.late) == (0, 0, 0)
    assert result.binding == "chat.update"  # the offer cards, updated for everyone, bind
    assert result.fastest > 0 and result.seconds >= result.fastest * 0.9


def test_a_burst_of_200_spreads_over_enough_supporters_for_their_capacity() -> None:
    subjects = subjects_for(200)
    assert len(subjects) * PER_SUBJECT >= 200 > (len(subjects) - 1) * PER_SUBJECT
    assert directory(subjects).count(",sle,") == 3 * len(subjects)
