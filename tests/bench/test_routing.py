"""Small runs of the ranking and click-to-first-offer benchmarks, so `make bench` never rots."""

from __future__ import annotations

from bench.click_to_offer import report_click_to_offer
from bench.routing import report_ranking
from tests.bench.smoke import assert_rows, databases


def test_the_ranking_benchmark_gives_a_row_per_database_and_size(db_url: str) -> None:
    postgres_url, labels = databases(db_url)
    rows = report_ranking([10, 200], postgres_url=postgres_url, repeats=3)
    assert_rows(rows, [f"rank {n} ({label})" for label in labels for n in (10, 200)])


def test_the_click_to_offer_benchmark_gives_a_row_per_database_and_size(db_url: str) -> None:
    postgres_url, labels = databases(db_url)
    rows = report_click_to_offer([10, 200], postgres_url=postgres_url, repeats=2)
    assert_rows(rows, [f"click to offer {n} ({label})" for label in labels for n in (10, 200)])
    assert rows[0].note.startswith("1.0× the 10 time")
