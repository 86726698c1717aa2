"""What a test can learn of the SQL a block sends: the statements, and SQLite's plans."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent while the block runs, with its parameters (but SQLite's BEGIN)."""
    sent: list[tuple[str, Any]] = []

    def keep(_conn: object, _cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE, opening a transaction
            sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def sqlite_plan(engine: Engine, statements: list[tuple[str, Any]]) -> list[str]:
    """The steps of SQLite's query plan for each statement, in order."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        found: list[str] = []
        for statement, parameters in statements:
            cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
            found += [row[3] for row in cursor.fetchall()]
        return found
    finally:
        raw.close()
