"""The directory's `trust` and `available_from` columns, and imports that save nothing."""

from __future__ import annotations

import io
from dataclasses import asdict
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.directory import service as directory
from bot.directory.service import COLUMNS, import_directory
from storage.db import SessionFactory, make_engine, make_session_factory
from storage.models import AuditEntry, Person, PersonRole, School
from tests.bot.directory.test_directory import (
    SAMPLE,
    count,
    export_text,
    person,
    run_cli,
    run_import,
    sample_rows,
    school_of,
)

HEADER = ",".join((*COLUMNS[:10], "trust", "available_from"))  # in any order


def test_trust_is_kept_on_the_school_and_available_from_on_the_person(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run_import(
        sessions,
        f"{HEADER}\n"
        "U0TRUST01,Ann Lee,,sle,Oak Primary,123456,primary,London,maths,1,"
        "Arden  Learning Trust,2027-01-04\n"
        "U0TRUST02,Bo Chan,,nle,Oak Primary,123456,,,leadership,1,,04/02/2027\n",
        clock,
    )
    assert report.added == ["U0TRUST01", "U0TRUST02"] and report.ok
    with sessions() as session:
        school = school_of(session, "U0TRUST01")
        assert school is not None and school.trust == "Arden Learning Trust"
        assert person(session, "U0TRUST01").available_from == date(2027, 1, 4)
        assert person(session, "U0TRUST02").available_from == date(2027, 2, 4)
    lines = export_text(sessions).splitlines()
    assert ",capacity,teams_user_id,preferred_platform,trust,available_from," in lines[0]
    assert ",Arden Learning Trust,2027-01-04," in lines[1]


def test_a_blank_available_from_clears_it_and_a_missing_column_leaves_it(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    run_import(sessions, f"{HEADER}\nU0TRUST01,Ann Lee,,sle,,,,,maths,1,,2027-01-04\n", clock)
    run_import(sessions, "slack_user_id,name,roles\nU0TRUST01,Ann Lee,sle\n", clock)
    with sessions() as session:
        assert person(session, "U0TRUST01").available_from == date(2027, 1, 4)
    report = run_import(sessions, f"{HEADER}\nU0TRUST01,Ann Lee,,sle,,,,,maths,1,,\n", clock)
    assert report.updated == ["U0TRUST01"]
    with sessions() as session:
        assert person(session, "U0TRUST01").available_from is None


def test_a_bad_date_rejects_the_row_and_a_trust_without_a_school_is_ignored(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run_import(
        sessions,
        f"{HEADER}\nU0TRUST01,Ann Lee,,sle,,,,,maths,1,,next term\n"
        "U0TRUST02,Bo Chan,,sle,,,,,maths,1,Arden Learning Trust,\n",
        clock,
    )
    [rejected] = report.rejected
    assert rejected.line == 2
    assert "available_from must be a date like 2027-01-04 or 04/01/2027" in rejected.reason
    assert report.added == ["U0TRUST02"]
    assert any("trust belongs to the school" in warning for warning in report.warnings)


def _snapshot(sessions: SessionFactory) -> tuple[int, ...]:
    with sessions() as session:
        return tuple(count(session, table) for table in (Person, PersonRole, School, AuditEntry))


def test_a_dry_run_reports_what_an_import_would_do_and_saves_nothing(
    sessions: SessionFactory, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(directory, "BATCH_SIZE", 7)  # later batches find earlier batches' schools
    text = SAMPLE.read_text(encoding="utf-8")
    before = _snapshot(sessions)
    dry = import_directory(sessions, io.StringIO(text), now=clock.now(), dry_run=True)
    assert _snapshot(sessions) == before
    real = import_directory(sessions, io.StringIO(text), now=clock.now())
    assert {**asdict(dry), "dry_run": False} == asdict(real)
    assert len(dry.added) == len(sample_rows()) and dry.schools_created > 0
    assert dry.render().startswith("Directory import (dry run: nothing was saved): ")


def test_a_dry_run_of_changes_reports_updates_and_rejections_without_making_them(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    run_import(sessions, f"{HEADER}\nU0TRUST01,Ann Lee,,sle,,,,,maths,1,,\n", clock)
    changes = (
        f"{HEADER}\nU0TRUST01,Ann Lee-Smith,,sle,,,,,maths,2,,\n"
        "U0TRUST02,,,sle,,,,,maths,1,,\nU0TRUST03,Cy Dee,,head,,,,,,1,,\n"
    )
    report = import_directory(sessions, io.StringIO(changes), now=clock.now(), dry_run=True)
    assert (report.added, report.updated) == (["U0TRUST03"], ["U0TRUST01"])
    assert [row.line for row in report.rejected] == [3]
    with sessions() as session:
        ann = person(session, "U0TRUST01")
        assert (ann.name, ann.capacity) == ("Ann Lee", 1)
        assert (
            session.exec(select(Person).where(Person.slack_user_id == "U0TRUST03")).first() is None
        )


def test_cli_dry_run_prints_the_report_and_leaves_the_database_empty(
    db_url: str, tmp_path: Path
) -> None:
    result = run_cli(db_url, tmp_path, "directory", "import", "--dry-run", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        f"Directory import (dry run: nothing was saved): {len(sample_rows())} added"
    )
    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as session:
            assert count(session, Person) == 0
    finally:
        engine.dispose()
