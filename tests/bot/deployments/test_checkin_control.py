"""A coordinator pauses, resumes or snoozes any support's check-ins (*Check-ins for a
support…*): coordinators only (refusals carry what to audit), keyed by the deployment, once
however many submits, never on an ended support; the head and the lead supporter are told in
one line, and the check-in messages show it in place."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.checkins.service import change_cadence, pause_checkins
from bot.core.audit_trail import describe
from bot.core.clock import FixedClock
from bot.core.errors import Conflict, NotAllowed, NotFound
from bot.deployments.checkin_control import (
    ALREADY_PAUSED,
    ALREADY_PUT_OFF,
    NOT_A_COORDINATOR,
    NOT_PAUSED,
    PAUSED,
    change_checkins,
)
from bot.deployments.ending import ALREADY_ENDED, end_support
from bot.teamwork.flows import add_to_team
from storage.models import AuditEntry, CheckInAnswer, CheckInStatus
from tests.support.blockkit import action_ids, texts
from tests.support.checkin_world import World, act, make_world, utc
from tests.support.team_directory import TEAM_DIRECTORY

HEAD, LEAD, COLLEAGUE, COORDINATOR = "UHEAD1", "UNLE1", "UOAK1", "UCOORD"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock, directory=TEAM_DIRECTORY) as world:
        yield world


@pytest.fixture
def support(world: World) -> int:
    """Nadia supports Mere Green (Monday 23 November) with a colleague; the first check-in went
    out on Monday 30 November and nobody has answered it yet."""
    deployment_id = world.deploy(supporter=LEAD, tags=("maths",))
    act(
        world,
        add_to_team,
        actor=LEAD,
        deployment_id=deployment_id,
        colleagues=[COLLEAGUE],
        shadow=None,
    )
    world.at(utc(2026, 11, 30, 9, 30))
    world.clock.set(utc(2026, 12, 1, 10, 0))  # Tuesday
    return deployment_id


def change(world: World, deployment_id: int, what: str, actor: str = COORDINATOR) -> Any:
    return act(world, change_checkins, actor=actor, deployment_id=deployment_id, change=what)


def local(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def audited(world: World) -> list[AuditEntry]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(AuditEntry).order_by(AuditEntry.id)))


def told(world: World, user: str) -> list[str]:
    """The one-line notices `user` was sent about a coordinator's change."""
    return [m["text"] for m in world.fake.messages(user) if m["text"].startswith("A coordinator")]


def latest_checkin_dm(world: World, user: str) -> dict[str, Any]:
    return [m for m in world.fake.messages(user) if m["text"].endswith("going?")][-1]


def test_a_coordinator_pauses_a_supports_checkins(world: World, support: int) -> None:
    assert change(world, support, "pause") == PAUSED
    assert world.deployment(support).checkins_paused
    assert {c.status for c in world.checkins(support)} == {CheckInStatus.CANCELLED}
    entry = audited(world)[-1]
    assert (entry.actor, entry.action, entry.subject_type, entry.subject_id) == (
        COORDINATOR,
        "deployment.checkins_paused",
        "deployment",
        str(support),
    )
    request_id = world.deployment(support).request_id
    line = (
        "A coordinator has paused the check-ins for the support at *Mere Green Primary School* "
        f"(request #{request_id})."
    )
    assert told(world, HEAD) == [line] and told(world, LEAD) == [line]
    assert told(world, COLLEAGUE) == []
    assert COORDINATOR not in line and "Chris" not in line
    # The check-in messages show it in place: paused, with *Resume check-ins*.
    for user in (HEAD, LEAD):
        dm = latest_checkin_dm(world, user)
        assert dm.get("edited") and "checkin_resume" in action_ids(dm["blocks"])
        assert "checkin_on_track" not in action_ids(dm["blocks"])
    # Nothing more is sent, however long the due work runs.
    results = world.at(utc(2026, 12, 21, 9, 30))
    assert (results["checkins_sent"], results["checkin_reminders"]) == (0, 0)


def test_pausing_twice_changes_nothing_the_second_time(world: World, support: int) -> None:
    change(world, support, "pause")
    before = (len(audited(world)), len(world.fake.messages(HEAD)), world.checkins(support))
    assert change(world, support, "pause") == ALREADY_PAUSED
    after = (len(audited(world)), len(world.fake.messages(HEAD)), world.checkins(support))
    assert after == before


def test_a_coordinator_resumes_them_at_the_cadence_from_today(world: World, support: int) -> None:
    change(world, support, "pause")
    world.clock.set(utc(2026, 12, 7, 10, 0))  # Monday a week later
    reply = change(world, support, "resume")
    # Today plus the default fortnight.
    assert reply == (
        "Done: check-ins for this support are back on. The next is on Monday 21 December, 09:30."
    )
    assert not world.deployment(support).checkins_paused
    scheduled = world.checkins(support)[-1]
    assert scheduled.status == "scheduled" and local(scheduled.due_at) == "Mon 21 Dec 2026 09:30"
    entry = audited(world)[-1]
    assert (entry.actor, entry.action, entry.subject_id) == (
        COORDINATOR,
        "deployment.checkins_resumed",
        str(support),
    )
    assert [t.split(" the check-ins")[0] for t in told(world, HEAD)] == [
        "A coordinator has paused",
        "A coordinator has resumed",
    ]
    assert "checkin_resume" not in action_ids(latest_checkin_dm(world, LEAD)["blocks"])
    assert world.at(scheduled.due_at)["checkins_sent"] == 1


def test_resuming_checkins_that_run_changes_nothing(world: World, support: int) -> None:
    before = (len(audited(world)), world.checkins(support))
    assert change(world, support, "resume") == NOT_PAUSED
    assert (len(audited(world)), world.checkins(support)) == before
    assert told(world, HEAD) == []


def test_snoozing_closes_the_waiting_checkin_and_never_brings_the_next_forward(
    world: World, support: int
) -> None:
    # Check-in 1 went out on Monday 30 November; the next is a fortnight on, 14 December.
    reply = change(world, support, "snooze")
    assert reply == (
        "Done: the check-in awaiting answers is closed, and the next is a week or more away "
        "already. The next is on Monday 14 December, 09:30."
    )
    first, second = world.checkins(support)
    # Closed, not answered in the coordinator's name: neither reminded nor missed.
    assert first.status == "cancelled"
    with world.runtime.sessions() as session:
        assert session.exec(select(CheckInAnswer)).all() == []
    assert (second.status, local(second.due_at)) == ("scheduled", "Mon 14 Dec 2026 09:30")
    assert audited(world)[-1].action == "deployment.checkins_snoozed"
    assert audited(world)[-1].actor == COORDINATOR
    request_id = world.deployment(support).request_id
    assert told(world, LEAD) == [
        "A coordinator has closed the check-in awaiting your answers (no reminder will come) for "
        f"the support at *Mere Green Primary School* (request #{request_id}). The next is on "
        "Monday 14 December, 09:30."
    ]
    dm = latest_checkin_dm(world, HEAD)
    assert "This check-in was closed." in texts(dm["blocks"])
    assert "(coordinator)" not in texts(dm["blocks"]), "no coordinator's name on their messages"
    # A double submit: nothing awaits answers and the next is a week away: nothing changes.
    before = (len(audited(world)), len(world.fake.messages(HEAD)))
    assert change(world, support, "snooze").startswith(ALREADY_PUT_OFF)
    assert (len(audited(world)), len(world.fake.messages(HEAD))) == before
    assert world.at(utc(2026, 12, 7, 17, 0))["checkin_reminders"] == 0


def test_snoozing_weekly_checkins_puts_the_next_off_a_week(world: World, support: int) -> None:
    [first, _] = world.checkins(support)
    act(world, change_cadence, actor=HEAD, checkin_id=first.id or 0, days=7)
    world.clock.set(utc(2026, 12, 3, 10, 0))  # Thursday: the next is due Monday 7 December
    reply = change(world, support, "snooze")
    assert reply == (
        "Done: the next check-in is put off for a week. The next is on Thursday 10 December, 09:30."
    )
    assert [c.status for c in world.checkins(support)] == ["cancelled", "scheduled"]
    assert local(world.checkins(support)[1].due_at) == "Thu 10 Dec 2026 09:30"
    assert told(world, HEAD)[-1].startswith("A coordinator has put off the next check-in")
    assert world.at(utc(2026, 12, 7, 9, 30))["checkins_sent"] == 0


def test_snoozing_before_the_first_checkin_moves_it(world: World) -> None:
    deployment = world.deploy(supporter=LEAD)  # first due Monday 30 November
    world.clock.set(utc(2026, 11, 27, 12, 0))  # Friday
    change(world, deployment, "snooze")
    [first] = world.checkins(deployment)
    assert (first.status, local(first.due_at)) == ("scheduled", "Fri 04 Dec 2026 09:30")


def test_snoozing_never_brings_the_next_checkin_forward(world: World, support: int) -> None:
    [first, _] = world.checkins(support)
    act(world, change_cadence, actor=HEAD, checkin_id=first.id or 0, days=28)
    act(world, pause_checkins, actor=HEAD, checkin_id=first.id or 0)
    with pytest.raises(Conflict, match="paused, so there's nothing to snooze"):
        change(world, support, "snooze")
    change(world, support, "resume")  # every four weeks from today: 29 December
    due = world.checkins(support)[-1].due_at
    assert change(world, support, "snooze").startswith(ALREADY_PUT_OFF)
    assert world.checkins(support)[-1].due_at == due


@pytest.mark.parametrize("who", [HEAD, LEAD, COLLEAGUE, "UNKNOWN9"])
@pytest.mark.parametrize("what", ["pause", "resume", "snooze"])
def test_only_a_coordinator_changes_them_from_afar(
    world: World, support: int, who: str, what: str
) -> None:
    before = (len(audited(world)), world.checkins(support))
    with pytest.raises(NotAllowed) as refused:
        change(world, support, what, actor=who)
    assert refused.value.message == NOT_A_COORDINATOR
    # What the edge audits once the refused change is rolled back.
    assert (refused.value.action, refused.value.subject_type, refused.value.subject_id) == (
        f"checkins.{what}",
        "deployment",
        support,
    )
    assert (len(audited(world)), world.checkins(support)) == before
    assert not world.deployment(support).checkins_paused


@pytest.mark.parametrize("what", ["pause", "resume", "snooze"])
def test_an_ended_support_is_left_alone(world: World, support: int, what: str) -> None:
    act(world, end_support, actor=COORDINATOR, deployment_id=support, reason="Joined a trust.")
    before = (len(audited(world)), len(world.fake.messages(HEAD)))
    with pytest.raises(Conflict) as refused:
        change(world, support, what)
    assert refused.value.message == ALREADY_ENDED
    assert (len(audited(world)), len(world.fake.messages(HEAD))) == before


def test_a_forged_change_or_support_is_refused(world: World, support: int) -> None:
    with pytest.raises(NotFound):
        change(world, support, "stop")
    with pytest.raises(NotFound):
        change(world, support + 1000, "pause")
    assert not world.deployment(support).checkins_paused


def test_the_audit_trail_says_what_a_coordinator_did(world: World, support: int) -> None:
    for what in ("snooze", "pause", "resume"):
        change(world, support, what)
    words = [
        describe(e.action, e.subject_type, e.subject_id, e.detail)
        for e in audited(world)
        if e.action.startswith("deployment.checkins")
    ]
    assert words == [
        "put off the next check-in for a week",
        "paused the check-ins",
        "resumed the check-ins",
    ]
