"""The directory import at scale: statements per batch, not per row."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
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


def test_people_saved_in_bulk_read_back_as_written(engine: Engine) -> None:
    """The bulk insert (one array a column on PostgreSQL) keeps every kind of value: times
    in UTC, dates, the audit entry's JSON, NULLs."""
    sessions = make_session_factory(engine)
    text = (
        "slack_user_id,name,email,roles,expertise,capacity,available_from\n"
        "U0BULK001,Ada Bulk,,nle;sle,maths;send,3,2027-01-04\n"
        "U0BULK002,Bo Bulk,bo@example.org,head,,,\n"
    )
    report = import_directory(sessions, io.StringIO(text), now=NOW, actor="UCOORD")
    assert report.added == ["U0BULK001", "U0BULK002"], report.render()
    with sessions() as session:
        ada, bo = session.exec(select(Person).order_by(Person.slack_user_id)).all()
        assert (ada.name, ada.email, ada.capacity, ada.available) == ("Ada Bulk", None, 3, True)
        assert ada.available_from == date(2027, 1, 4) and bo.available_from is None
        assert ada.created_at == NOW and ada.updated_at == NOW and ada.created_at.tzinfo
        assert (bo.email, bo.capacity, bo.school_id) == ("bo@example.org", 1, None)
        roles = session.exec(select(PersonRole.role).where(PersonRole.person_id == ada.id))
        assert sorted(roles) == ["nle", "sle"]
        entry = session.exec(select(AuditEntry).where(AuditEntry.subject_id == str(ada.id))).one()
        assert (entry.action, entry.actor, entry.at) == ("directory.person_added", "UCOORD", NOW)
        assert entry.detail == {"line": 2, "school_id": None}
