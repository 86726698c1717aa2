"""The directory CSV on two platforms: `teams_user_id` and `preferred_platform` in import
and export, a person keyed by either id; on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.directory.people import person_by_user_id
from bot.directory.service import COLUMNS, ImportReport, export_directory, import_directory
from storage.db import SessionFactory
from storage.models import Person, Platform

HEADER = ",".join(COLUMNS)
CARA = "6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f"
DEV = "0b7e4c3a-1111-4222-8333-944455556666"


def run_import(sessions: SessionFactory, text: str, clock: FixedClock) -> ImportReport:
    return import_directory(sessions, io.StringIO(text), now=clock.now())


def row(slack: str, name: str, roles: str, teams: str = "", preferred: str = "") -> str:
    return f"{slack},{name},,{roles},,,,,,1,{teams},{preferred}"


def test_people_on_teams_on_slack_and_on_both_are_imported(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = "\n".join(
        [
            HEADER,
            row("", "Cara Teams", "head", CARA.upper(), "teams"),
            row("U0BOTH001", "Dev Both", "nle", DEV, "teams"),
            row("U0SLACK01", "Sam Slack", "sle"),
        ]
    )
    report = run_import(sessions, text + "\n", clock)
    assert report.ok, report.render()
    assert sorted(report.added) == sorted([CARA, "U0BOTH001", "U0SLACK01"])
    with sessions() as session:
        cara = person_by_user_id(session, CARA)
        assert cara is not None and cara.slack_user_id is None  # GUIDs are kept lower-case
        assert cara.preferred_platform == Platform.TEAMS
        dev = person_by_user_id(session, DEV)
        assert dev is not None and dev.slack_user_id == "U0BOTH001"
        sam = person_by_user_id(session, "U0SLACK01")
        assert sam is not None and sam.teams_user_id is None and sam.preferred_platform is None


def test_export_round_trips_both_ids_and_the_preference(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = "\n".join(
        [
            HEADER,
            row("", "Cara Teams", "head", CARA),
            row("U0BOTH001", "Dev Both", "nle", DEV, "slack"),
        ]
    )
    assert run_import(sessions, text + "\n", clock).ok
    out = io.StringIO()
    with sessions() as session:
        export_directory(session, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == HEADER
    assert lines[1] == f",Cara Teams,,head,,,,,,1,{CARA},,,,,"
    assert lines[2] == f"U0BOTH001,Dev Both,,nle,,,,,,1,{DEV},slack,,,,"
    again = run_import(sessions, out.getvalue(), clock)
    assert again.ok and sorted(again.unchanged) == sorted([CARA, "U0BOTH001"])


def test_a_teams_id_is_added_to_someone_known_on_slack(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    assert run_import(sessions, f"{HEADER}\n{row('U0BOTH001', 'Dev', 'nle')}\n", clock).ok
    report = run_import(
        sessions, f"{HEADER}\n{row('U0BOTH001', 'Dev', 'nle', DEV, 'teams')}\n", clock
    )
    assert report.updated == ["U0BOTH001"]
    # A later file without the Slack id still finds them by their Teams id, and keeps both.
    report = run_import(sessions, f"{HEADER}\n{row('', 'Dev B', 'nle', DEV, 'teams')}\n", clock)
    assert report.updated == [DEV]
    with sessions() as session:
        [dev] = session.exec(select(Person)).all()
        assert (dev.slack_user_id, dev.teams_user_id, dev.name) == ("U0BOTH001", DEV, "Dev B")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (row("", "Nobody", "head"), "missing slack_user_id (or teams_user_id"),
        (row("", "Bad", "head", "not-a-guid"), "does not look like a Microsoft Entra object id"),
        (row("U0X000001", "Pat", "head", "", "email"), "must be slack or teams"),
        (row("U0X000001", "Pat", "head", "", "teams"), "preferred_platform teams needs"),
        (row("", "Pat", "head", CARA, "slack"), "preferred_platform slack needs"),
    ],
)
def test_bad_ids_and_platforms_are_rejected_with_a_reason(
    sessions: SessionFactory, clock: FixedClock, line: str, reason: str
) -> None:
    report = run_import(sessions, f"{HEADER}\n{line}\n", clock)
    [rejected] = report.rejected
    assert reason in rejected.reason
    with sessions() as session:
        assert session.exec(select(Person)).all() == []


def test_a_teams_id_twice_in_a_file_is_rejected_the_second_time(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    text = "\n".join([HEADER, row("", "One", "head", CARA), row("", "Two", "head", CARA)])
    report = run_import(sessions, text + "\n", clock)
    assert report.added == [CARA]
    assert "duplicate of line 2" in report.rejected[0].reason


def test_ids_of_two_different_people_on_one_row_are_rejected(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    first = "\n".join([HEADER, row("U0SLACK01", "Sam", "sle"), row("", "Cara", "head", CARA)])
    assert run_import(sessions, first + "\n", clock).ok
    report = run_import(sessions, f"{HEADER}\n{row('U0SLACK01', 'Sam', 'sle', CARA)}\n", clock)
    [rejected] = report.rejected
    assert "belong to two different people" in rejected.reason
