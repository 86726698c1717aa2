"""The directory CSV's open-classroom columns, `hosts_visits` and `visits_per_half_term`:
imported onto the school, left alone when blank, checked, and exported back."""

from __future__ import annotations

import io

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.directory.service import ImportReport, export_directory, import_directory
from storage.db import SessionFactory
from storage.models import School

HEADER = "slack_user_id,name,roles,school,school_urn,expertise,hosts_visits,visits_per_half_term\n"


def run(sessions: SessionFactory, rows: str, clock: FixedClock) -> ImportReport:
    return import_directory(sessions, io.StringIO(HEADER + rows), now=clock.now())


def school(sessions: SessionFactory, name: str) -> School:
    with sessions() as session:
        return session.exec(select(School).where(School.name == name)).one()


def test_a_school_that_hosts_visits_is_imported_and_exported(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run(sessions, "U0HOST001,Ann Host,sle,Oak Hill Primary,103500,maths,yes,3\n", clock)
    assert report.ok, report.render()
    oak = school(sessions, "Oak Hill Primary")
    assert (oak.hosts_visits, oak.visits_per_half_term) == (True, 3)
    out = io.StringIO()
    with sessions() as session:
        export_directory(session, out)
    header, row = out.getvalue().splitlines()
    assert header.endswith(",hosts_visits,visits_per_half_term")
    assert row.endswith(",yes,3")


def test_blank_cells_leave_the_school_as_it_is_and_no_turns_hosting_off(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    run(sessions, "U0HOST001,Ann Host,sle,Oak Hill Primary,103500,maths,yes,3\n", clock)
    run(sessions, "U0HOST002,Bob Host,sle,Oak Hill Primary,103500,maths,,\n", clock)
    oak = school(sessions, "Oak Hill Primary")
    assert (oak.hosts_visits, oak.visits_per_half_term) == (True, 3)
    run(sessions, "U0HOST001,Ann Host,sle,Oak Hill Primary,103500,maths,No,\n", clock)
    oak = school(sessions, "Oak Hill Primary")
    assert (oak.hosts_visits, oak.visits_per_half_term) == (False, 3)


def test_bad_hosting_values_reject_the_row_with_a_reason(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run(
        sessions,
        "U0HOST001,Ann Host,sle,Oak Hill Primary,103500,maths,maybe,\n"
        "U0HOST002,Bob Host,sle,Elm Primary,103700,maths,yes,99\n"
        "U0HOST003,Cat Host,sle,Ash Primary,103800,maths,yes,2\n",
        clock,
    )
    reasons = {row.slack_user_id: row.reason for row in report.rejected}
    assert "hosts_visits must be yes or no, not 'maybe'" in reasons["U0HOST001"]
    assert "visits_per_half_term must be a whole number from 0 to 30" in reasons["U0HOST002"]
    assert school(sessions, "Ash Primary").hosts_visits is True


def test_hosting_without_a_school_is_ignored_with_a_warning(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    report = run(sessions, "U0HOST001,Ann Host,sle,,,maths,yes,2\n", clock)
    assert report.ok
    assert any("visit hosting belongs to the school" in w for w in report.warnings)
