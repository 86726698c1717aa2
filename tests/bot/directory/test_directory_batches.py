"""The directory import at scale: statements per batch, not per row."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, func
from sqlmodel import select

from bench.directory_import import NOW, directory_csv
from bot.directory.service import BATCH_SIZE, import_directory
from storage.db import make_session_factory
from storage.models import AuditEntry, Person, PersonRole, School


@contextmanager
def counting_statements(engine: Engine) -> Iterator[list[str]]:
    """Collect every statement sent to the database while the block runs."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_importing_thousands_of_rows_takes_a_few_statements_per_batch(engine: Engine) -> None:
    rows = 3_000
    sessions = make_session_factory(engine)
    text = directory_csv(rows)
    with counting_statements(engine) as statements:
        report = import_directory(sessions, io.StringIO(text), now=NOW)
    assert (len(report.added), report.rejected) == (rows, [])
    batches = rows // BATCH_SIZE
    assert len(statements) <= 40 * batches, len(statements)  # row by row took > 10 per row

    with sessions() as session:
        assert session.exec(select(func.count()).select_from(Person)).one() == rows
        assert session.exec(select(func.count()).select_from(School)).one() == rows // 10
        assert session.exec(select(func.count()).select_from(AuditEntry)).one() == rows
        assert session.exec(select(func.count()).select_from(PersonRole)).one() >= rows


def test_reimporting_changed_rows_updates_them_in_a_few_statements_per_batch(
    engine: Engine,
) -> None:
    rows = 2_000
    sessions = make_session_factory(engine)
    import_directory(sessions, io.StringIO(directory_csv(rows)), now=NOW)
    changed = directory_csv(rows, seed=8)  # other roles, expertise and schools
    with counting_statements(engine) as statements:
        report = import_directory(sessions, io.StringIO(changed), now=NOW)
    assert report.rejected == []
    assert len(report.updated) + len(report.unchanged) == rows
    assert len(report.updated) > rows // 2
    assert len(statements) <= 40 * (rows // BATCH_SIZE), len(statements)
