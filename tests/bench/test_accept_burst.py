"""A small run of the burst-of-Accepts benchmark, so `make bench` never rots."""

from __future__ import annotations

from bench.accept_burst import report_accept_burst
from tests.bench.smoke import assert_rows, databases


def test_the_accept_burst_benchmark_drains_the_backlog_losing_nothing(db_url: str) -> None:
    postgres_url, labels = databases(db_url)
    rows = report_accept_burst(3, postgres_url=postgres_url)
    assert_rows(rows, [f"burst of 3 Accepts ({label})" for label in labels])
    for row in rows:
        assert "0 lost, 0 duplicated" in row.note, row
        assert "of the allowed rate (chat.update)" in row.note, row  # the offer cards bind
