"""Small runs of the directory import and digest benchmarks, so `make bench` never rots."""

from __future__ import annotations

from bench.digest import report_digest
from bench.directory_import import report_directory_import
from tests.bench.smoke import assert_rows, databases


def test_the_import_benchmark_gives_a_row_per_database_with_rows_per_second(
    db_url: str,
) -> None:
    postgres_url, labels = databases(db_url)
    rows = report_directory_import(300, postgres_url=postgres_url)
    assert_rows(rows, [f"import 300 rows ({label})" for label in labels])
    assert all(" rows/s;" in row.note for row in rows)


def test_the_digest_benchmark_gives_a_row_per_database_and_history(db_url: str) -> None:
    postgres_url, labels = databases(db_url)
    rows = report_digest([1, 2], per_year=50, postgres_url=postgres_url, repeats=2)
    assert_rows(rows, [f"digest, {n} y history ({label})" for label in labels for n in (1, 2)])
