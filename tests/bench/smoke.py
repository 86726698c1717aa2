"""What every benchmark's smoke run checks: its rows, named as expected, with real ratios."""

from __future__ import annotations

import math

from bench.table import Row


def databases(db_url: str) -> tuple[str | None, list[str]]:
    """(the PostgreSQL URL to pass, the database labels expected) for a `db_url` fixture."""
    if db_url.startswith("postgresql"):
        return db_url, ["SQLite", "PostgreSQL"]
    return None, ["SQLite"]


def assert_rows(rows: list[Row], names: list[str]) -> None:
    """The rows carry exactly `names`, in order, each with a finite positive ratio."""
    assert [row.name for row in rows] == names
    for row in rows:
        assert math.isfinite(row.ratio) and row.ratio > 0, row
        assert row.measured > 0 and row.baseline > 0, row
