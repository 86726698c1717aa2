"""The deployment record: one per deployment, exported as CSV or JSON and summarised on one
printable page; its text goes with retention and erasure, and subject access includes it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.checkins.service import COMPLETED, answer_checkin
from bot.core.clock import FixedClock
from bot.deployments.html import summary_html
from bot.deployments.record import CSV_COLUMNS, export_records, records_between
from bot.deployments.service import (
    answer_review,
    confirm_agreement,
    draft_agreement,
    log_visit,
    record_impact,
)
from bot.members.service import COLLEAGUE, SHADOW, add_member, end_membership
from bot.privacy.retention import erase_request_text
from bot.privacy.service import erase_person, export_person
from storage.db import transaction
from storage.models import (
    Deployment,
    DeploymentMember,
    DeploymentObjective,
    DeploymentPlan,
    DeploymentVisit,
    Person,
)
from tests.support.checkin_world import World, act, make_world, utc

LONDON = ZoneInfo("Europe/London")
HEAD, SUPPORTER = "UHEAD1", "USLE1"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock) as world:
        yield world


@pytest.fixture
def closed(world: World) -> int:
    """A deployment taken through every step, <script> and all in what people wrote."""
    deployment_id = world.deploy()
    world.at(world.clock.now())
    act(
        world,
        draft_agreement,
        actor=SUPPORTER,
        deployment_id=deployment_id,
        objectives=["Set up the <script>alert(1)</script> register", "Train the SENCO"],
        expected_impact="Reviews on time",
        days_committed=4.0,
        review_on=date(2026, 12, 14),
    )
    act(world, confirm_agreement, actor=HEAD, deployment_id=deployment_id)
    act(world, log_visit, actor=SUPPORTER, deployment_id=deployment_id, days=2.5, note="SLT met")
    act(world, answer_review, actor=HEAD, deployment_id=deployment_id, decision="continue")
    [first] = world.checkins(deployment_id)
    world.at(first.due_at)
    act(world, answer_checkin, actor=HEAD, checkin_id=first.id, outcome=COMPLETED, note="Better")
    with world.runtime.sessions() as session:
        ids = list(session.exec(select(DeploymentObjective.id).order_by("position")))
    act(
        world,
        record_impact,
        actor=HEAD,
        deployment_id=deployment_id,
        ratings={ids[0]: "met", ids[1]: "good"},
        comments={ids[0]: "In place"},
        overall="Governors are pleased",
    )
    return deployment_id


def records(world: World, **dates: date | None) -> list[dict[str, Any]]:
    with world.runtime.sessions() as session:
        return records_between(session, LONDON, start=dates.get("start"), end=dates.get("end"))


def test_the_record_holds_every_step(world: World, closed: int) -> None:
    [record] = records(world)
    assert record["status"] == "completed"
    assert record["head"] == {"slack_user_id": HEAD, "name": "Hannah Head"}
    assert record["school"]["urn"] == "103413"
    assert record["days_committed"] == 4.0 and record["days_given"] == 2.5
    agreement = record["agreement"]
    assert agreement["state"] == "confirmed"
    assert [o["rating"] for o in agreement["objectives"]] == ["met", "good"]
    assert record["review"]["head"] == {"decision": "continue", "note": None}
    assert record["impact"]["head_comment"] == "Governors are pleased"
    assert record["checkins"]["answered"] == 1


def test_csv_and_json_exports(world: World, closed: int) -> None:
    data = records(world)
    rows = list(csv.DictReader(io.StringIO(export_records(data, "csv"))))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert rows[0]["days_given"] == "2.5" and rows[0]["ratings"] == "1: met; 2: good"
    assert json.loads(export_records(data, "json"))[0]["deployment_id"] == closed


def test_the_export_keeps_to_the_dates_asked(world: World, closed: int) -> None:
    assert len(records(world, start=date(2026, 11, 1), end=date(2026, 11, 30))) == 1
    assert records(world, end=date(2026, 11, 22)) == []  # before it started
    assert records(world, start=date(2027, 1, 1)) == []  # it ended before


def test_the_summary_is_one_escaped_page(world: World, closed: int) -> None:
    [record] = records(world)
    page = summary_html(record, generated=utc(2026, 12, 1, 10, 0).astimezone(LONDON))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Met" in page and "2.5 days of 4 days committed" in page
    assert "@page{size:A4" in page


def test_retention_erases_the_records_text(world: World, closed: int) -> None:
    with transaction(world.runtime.sessions) as session:
        [record] = records_between(session, LONDON, start=None, end=None)
        erase_request_text(session, [record["request_id"]], now=world.clock.now())
    [after] = records(world)
    assert [o["text"] for o in after["agreement"]["objectives"]] == ["[erased]", "[erased]"]
    assert after["impact"]["head_comment"] is None
    assert after["days_given"] == 2.5  # figures stay


def test_subject_access_and_erasure_cover_the_record(world: World, closed: int) -> None:
    with world.runtime.sessions() as session:
        exported = export_person(session, SUPPORTER, tz=LONDON)
    assert exported is not None
    [mine] = exported["deployment_records"]
    assert mine["supporter"]["name"] == "Sam Specialist" and mine["head"]["name"] is None
    with transaction(world.runtime.sessions) as session:
        report = erase_person(session, world.runtime.context(), SUPPORTER)
    assert report is not None and report.deployment_records == 1
    with world.runtime.sessions() as session:
        assert session.exec(select(DeploymentVisit.note)).all() == [None]
        plan = session.get(DeploymentPlan, closed)
        assert plan is not None and plan.expected_impact is None


# --- the team ------------------------------------------------------------------------------------
@pytest.fixture
def team(world: World, closed: int) -> int:
    """Nadia joined as a colleague on 24 November; Priya (whose name is markup) as a shadow the
    same day, and left on 30 November."""
    with transaction(world.runtime.sessions) as session:
        deployment = session.get(Deployment, closed)
        people = {
            p.slack_user_id: p
            for p in session.exec(select(Person).where(col(Person.slack_user_id).in_(TEAM)))
        }
        people["USPEC1"].name = "Priya <b>Senco</b>"
        lead = people[SUPPORTER]
        assert deployment is not None
        for who, role in (("UNLE1", COLLEAGUE), ("USPEC1", SHADOW)):
            add_member(
                session, deployment=deployment, person=people[who], role=role, added_by=lead,
                actor=SUPPORTER, now=utc(2026, 11, 24, 10, 0),
            )  # fmt: skip
        shadow = session.exec(
            select(DeploymentMember).where(DeploymentMember.person_id == people["USPEC1"].id)
        ).one()
        end_membership(
            session, shadow, removed_by=lead, actor=SUPPORTER, now=utc(2026, 11, 30, 10, 0),
            reason="removed",
        )  # fmt: skip
    return closed


TEAM = ("UNLE1", "USPEC1", SUPPORTER)


def test_the_record_names_the_team_with_roles_and_dates(world: World, team: int) -> None:
    [record] = records(world)
    assert record["team"] == [
        {"slack_user_id": "UNLE1", "name": "Nadia Leader", "role": "colleague",
         "added_on": "2026-11-24", "removed_on": None},
        {"slack_user_id": "USPEC1", "name": "Priya <b>Senco</b>", "role": "shadow",
         "added_on": "2026-11-24", "removed_on": "2026-11-30"},
    ]  # fmt: skip
    [row] = csv.DictReader(io.StringIO(export_records([record], "csv")))
    assert row["team"] == (
        "Nadia Leader (colleague, 2026-11-24 onwards); "
        "Priya <b>Senco</b> (shadow, 2026-11-24 to 2026-11-30)"
    )
    [exported] = json.loads(export_records([record], "json"))
    assert [m["role"] for m in exported["team"]] == ["colleague", "shadow"]


def test_the_summary_shows_the_team_escaped(world: World, team: int) -> None:
    [record] = records(world)
    page = summary_html(record, generated=utc(2026, 12, 1, 10, 0).astimezone(LONDON))
    assert "<h2>Team: colleagues and shadows</h2>" in page
    assert "<td>Nadia Leader</td><td>colleague</td><td>Tuesday 24 November 2026</td><td>—</td>" in (
        page
    )
    assert "Priya &lt;b&gt;Senco&lt;/b&gt;" in page and "<b>Senco" not in page
    assert "Monday 30 November 2026" in page


def test_a_deployment_without_a_team_says_so(world: World, closed: int) -> None:
    [record] = records(world)
    assert record["team"] == []
    [row] = csv.DictReader(io.StringIO(export_records([record], "csv")))
    assert row["team"] == ""
    page = summary_html(record, generated=utc(2026, 12, 1, 10, 0).astimezone(LONDON))
    assert "No colleagues or shadows joined the supporter." in page


def test_subject_access_shows_the_team_by_id_only(world: World, team: int) -> None:
    with world.runtime.sessions() as session:
        exported = export_person(session, SUPPORTER, tz=LONDON)
    assert exported is not None
    [mine] = exported["deployment_records"]
    assert [(m["slack_user_id"], m["name"]) for m in mine["team"]] == [
        ("UNLE1", None),
        ("USPEC1", None),
    ]


@pytest.mark.parametrize("member", ["UNLE1", "USPEC1"])  # a colleague; a shadow who left
def test_subject_access_of_a_team_member_has_the_whole_record(
    world: World, team: int, member: str
) -> None:
    with world.runtime.sessions() as session:
        exported = export_person(session, member, tz=LONDON)
    assert exported is not None
    [record] = exported["deployment_records"]
    assert record["deployment_id"] == team
    assert record["days_given"] == 2.5 and len(record["agreement"]["objectives"]) == 2
    assert record["head"]["name"] is None and record["supporter"]["name"] is None
    named = {m["slack_user_id"]: m["name"] for m in record["team"]}
    assert named[member] is not None  # their own name; the other member's only by id
    assert [name for who, name in named.items() if who != member] == [None]


def test_an_erased_team_member_keeps_only_their_id_in_the_record(world: World, team: int) -> None:
    with transaction(world.runtime.sessions) as session:
        erase_person(session, world.runtime.context(), "UNLE1")
    [record] = records(world)
    nadia = record["team"][0]
    assert nadia["slack_user_id"] == "UNLE1" and nadia["name"] is None
    assert (nadia["role"], nadia["added_on"]) == ("colleague", "2026-11-24")  # the facts stay
    assert "Nadia" not in export_records([record], "csv") + export_records([record], "json")
    page = summary_html(record, generated=utc(2026, 12, 1, 10, 0).astimezone(LONDON))
    assert "Nadia" not in page


def run_cli(*args: str, db_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "DATABASE_URL": db_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_line_exports_and_summarises(
    world: World, closed: int, db_url: str, tmp_path: Path
) -> None:
    exported = run_cli("deployments", "export", "--format", "json", db_url=db_url)
    assert exported.returncode == 0, exported.stderr
    assert [r["deployment_id"] for r in json.loads(exported.stdout)] == [closed]
    out = tmp_path / "summary.html"
    summary = run_cli("deployments", "summary", str(closed), "--out", str(out), db_url=db_url)
    assert summary.returncode == 0, summary.stderr
    assert "Governors are pleased" in out.read_text()
    missing = run_cli("deployments", "summary", "999", db_url=db_url)
    assert missing.returncode == 1 and missing.stderr == "error: there is no deployment 999\n"
    backwards = run_cli(
        "deployments", "export", "--from", "2026-12-01", "--to", "2026-11-01", db_url=db_url
    )
    assert backwards.returncode == 1 and backwards.stderr.count("\n") == 1
