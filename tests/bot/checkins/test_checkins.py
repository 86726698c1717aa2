"""Check-ins through time: when they land, reminders, missed rounds, and every answer.

Times are worked out by hand from the calendar: working days exclude weekends, England's
bank holidays and (when HOLIDAYS_FILE is set) the shipped 2026-27 example's closures; working
hours are 08:00-17:00 in Europe/London.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.checkins.service import (
    COMPLETED,
    NEEDS_ATTENTION,
    ON_TRACK,
    SNOOZED,
    answer_checkin,
    change_cadence,
    check_may_answer,
    close_deployment,
    pause_checkins,
    resume_checkins,
)
from bot.core.clock import FixedClock
from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.core.school_calendar import EXAMPLE_HOLIDAYS_FILE
from bot.routing.service import load_candidates, release_deployment
from storage.db import transaction
from storage.models import AuditEntry, CheckIn, CheckInAnswer, Deployment, Person, SupportRequest
from tests.support.blockkit import action_ids, mrkdwn_markup, texts
from tests.support.checkin_world import COORDINATOR_CHANNEL, World, act, make_world, utc

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock) as world:
        yield world


def local(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


def checkin_dms(world: World, user: str) -> list[dict[str, Any]]:
    """The check-in DMs (first asks and reminders) a user holds, oldest first."""
    return [
        m
        for m in world.fake.messages(user)
        if m["text"].endswith("going?") or "check-in is closed" in m["text"]
    ]


# --- when check-ins land ---------------------------------------------------------------------
def test_first_checkin_is_a_week_after_acceptance_at_checkin_time(world: World) -> None:
    deployment = world.deploy()  # Monday 23 November 2026, 09:00
    [first] = world.checkins(deployment)
    assert first.status == "scheduled"
    assert local(first.due_at) == "Mon 30 Nov 2026 09:30"


def test_weekends_move_checkins_to_monday(engine: Engine, clock: FixedClock) -> None:
    with make_world(engine, clock, CHECKIN_FIRST_DAYS="8", CHECKIN_EVERY_DAYS="13") as world:
        clock.set(utc(2026, 11, 27, 10, 0))  # Friday
        deployment = world.deploy()
        [first] = world.checkins(deployment)
        # Friday + 8 days is Saturday 5 December: moved to Monday.
        assert local(first.due_at) == "Mon 07 Dec 2026 09:30"
        world.at(first.due_at)
        first_again, second = world.checkins(deployment)
        assert first_again.status == "sent"
        # Monday + 13 days is Sunday 20 December: moved to Monday.
        assert local(second.due_at) == "Mon 21 Dec 2026 09:30"


@pytest.mark.parametrize(
    ("accepted", "expected"),
    [
        # +7 is Monday 21 December: Christmas holiday to 1 January, INSET on Monday 4 January.
        (utc(2026, 12, 14, 10, 0), "Tue 05 Jan 2027 09:30"),
        # +7 is Monday 26 October: autumn half-term runs to Friday 30 October.
        (utc(2026, 10, 19, 10, 0), "Mon 02 Nov 2026 09:30"),
    ],
)
def test_school_holidays_from_the_holidays_file_are_skipped(
    engine: Engine, clock: FixedClock, accepted: datetime, expected: str
) -> None:
    with make_world(engine, clock, HOLIDAYS_FILE=str(EXAMPLE_HOLIDAYS_FILE)) as world:
        clock.set(accepted)
        deployment = world.deploy()
        [first] = world.checkins(deployment)
        assert local(first.due_at) == expected


def test_without_a_holidays_file_only_weekends_and_bank_holidays_are_skipped(
    world: World,
) -> None:
    world.clock.set(utc(2026, 12, 14, 10, 0))
    deployment = world.deploy()
    [first] = world.checkins(deployment)
    assert local(first.due_at) == "Mon 21 Dec 2026 09:30"
    world.at(first.due_at)
    # Monday 21 December + 14 is Monday 4 January 2027: an ordinary day without the file.
    assert local(world.checkins(deployment)[1].due_at) == "Mon 04 Jan 2027 09:30"


def test_clocks_going_back_in_october_keep_the_local_time(world: World) -> None:
    world.clock.set(utc(2026, 10, 12, 8, 0))  # Monday 09:00 BST
    deployment = world.deploy()
    [first] = world.checkins(deployment)
    assert first.due_at == utc(2026, 10, 19, 8, 30)  # 09:30 BST
    world.at(first.due_at)
    assert len(checkin_dms(world, "UHEAD1")) == 1
    second = world.checkins(deployment)[1]
    # Clocks go back on Sunday 25 October: 09:30 GMT is 09:30 UTC.
    assert second.due_at == utc(2026, 11, 2, 9, 30)
    assert local(second.due_at) == "Mon 02 Nov 2026 09:30"


def test_clocks_going_forward_in_march_keep_the_local_time(
    engine: Engine, clock: FixedClock
) -> None:
    with make_world(engine, clock, CHECKIN_EVERY_DAYS="7") as world:
        clock.set(utc(2027, 3, 15, 10, 0))
        deployment = world.deploy()
        [first] = world.checkins(deployment)
        assert first.due_at == utc(2027, 3, 22, 9, 30)  # 09:30 GMT
        world.at(first.due_at)
        second = world.checkins(deployment)[1]
        # Clocks go forward on Sunday 28 March 2027; +7 is Easter Monday (29 March), a bank
        # holiday, so Tuesday 30 March at 09:30 BST, which is 08:30 UTC.
        assert second.due_at == utc(2027, 3, 30, 8, 30)
        assert local(second.due_at) == "Tue 30 Mar 2027 09:30"


# --- sending, reminding, missing ---------------------------------------------------------------
def test_due_checkin_is_sent_once_to_the_head_and_the_supporter(world: World) -> None:
    deployment = world.deploy()
    [first] = world.checkins(deployment)
    assert world.at(utc(2026, 11, 30, 9, 29))["checkins_sent"] == 0
    assert checkin_dms(world, "UHEAD1") == []
    assert world.at(first.due_at)["checkins_sent"] == 1
    assert world.at(first.due_at)["checkins_sent"] == 0, "sent once, however often it runs"
    [to_head] = checkin_dms(world, "UHEAD1")
    [to_supporter] = checkin_dms(world, "USLE1")
    for message in (to_head, to_supporter):
        assert message["text"] == "How is the support at Mere Green Primary School going?"
        assert action_ids(message["blocks"])[:4] == [
            "checkin_on_track",
            "checkin_needs_attention",
            "checkin_completed",
            "checkin_snooze",
        ]
        assert "checkin_cadence" in action_ids(message["blocks"])
    assert "with <@UHEAD1>" in texts(to_supporter["blocks"])
    assert "from <@USLE1>" in texts(to_head["blocks"])
    first, second = world.checkins(deployment)
    assert first.status == "sent" and first.sent_at == first.due_at
    assert second.status == "scheduled" and local(second.due_at) == "Mon 14 Dec 2026 09:30"
    with world.runtime.sessions() as session:
        sent = session.exec(select(AuditEntry).where(AuditEntry.action == "checkin.sent")).all()
    assert [(a.subject_id, a.detail["recipients"]) for a in sent] == [(str(first.id), 2)]


def test_the_checkin_notification_text_escapes_the_school_name(world: World) -> None:
    deployment = world.deploy(school="<!channel> & Sons Academy")
    [first] = world.checkins(deployment)
    world.at(first.due_at)
    for user in ("UHEAD1", "USLE1"):
        [message] = checkin_dms(world, user)
        assert message["text"] == "How is the support at &lt;!channel&gt; &amp; Sons Academy going?"


def test_one_reminder_after_48_working_hours_then_missed_when_the_next_is_due(
    world: World,
) -> None:
    deployment = world.deploy()
    world.at(utc(2026, 11, 30, 9, 30))
    first = world.checkins(deployment)[0]
    # From Monday 09:30: 7.5 hours on Monday, 9 on Tuesday to Friday (43.5), then 4.5 on
    # the next Monday: 48 working hours end on Monday 7 December at 12:30.
    assert local(first.remind_at) == "Mon 07 Dec 2026 12:30"
    assert world.at(utc(2026, 12, 7, 12, 29))["checkin_reminders"] == 0
    assert world.at(utc(2026, 12, 7, 12, 30))["checkin_reminders"] == 1
    assert world.at(utc(2026, 12, 9, 12, 0))["checkin_reminders"] == 0, "one reminder only"
    for user in ("UHEAD1", "USLE1"):
        asked, reminded = checkin_dms(world, user)
        assert reminded["text"].startswith("Reminder:")
        assert "checkin_on_track" in action_ids(reminded["blocks"])

    results = world.at(utc(2026, 12, 14, 9, 30))
    assert (results["checkins_missed"], results["checkins_sent"]) == (1, 1)
    first, second, third = world.checkins(deployment)
    assert first.status == "missed" and first.missed_at == utc(2026, 12, 14, 9, 30)
    assert second.status == "sent"
    assert third.status == "scheduled"
    for user in ("UHEAD1", "USLE1"):
        asked, reminded, fresh = checkin_dms(world, user)
        for old in (asked, reminded):  # both updated in place
            assert old.get("edited")
            assert "marked it missed" in texts(old["blocks"])
            assert "checkin_on_track" not in action_ids(old["blocks"])
        assert "checkin_on_track" in action_ids(fresh["blocks"])


def test_an_answered_checkin_gets_no_reminder_and_the_next_counts_from_the_answer(
    world: World,
) -> None:
    deployment = world.deploy()
    world.at(utc(2026, 11, 30, 9, 30))
    first = world.checkins(deployment)[0]
    world.clock.set(utc(2026, 12, 2, 10, 0))  # Wednesday
    result = act(world, answer_checkin, actor="UHEAD1", checkin_id=first.id, outcome=ON_TRACK)
    assert result.first_answer
    assert local(result.next_due_at) == "Wed 16 Dec 2026 09:30"
    assert world.at(utc(2026, 12, 8, 12, 0))["checkin_reminders"] == 0
    assert world.at(utc(2026, 12, 14, 9, 30))["checkins_sent"] == 0
    assert world.at(utc(2026, 12, 16, 9, 30))["checkins_sent"] == 1
    first, second, _third = world.checkins(deployment)
    assert first.status == "answered" and second.status == "sent"


def test_after_two_missed_rounds_the_checkin_asks_whether_they_are_still_wanted(
    world: World,
) -> None:
    deployment = world.deploy()
    world.at(utc(2026, 11, 30, 9, 30))
    assert "Still want these?" not in texts(checkin_dms(world, "USLE1")[-1]["blocks"])
    world.at(utc(2026, 12, 14, 9, 30))
    assert "Still want these?" not in texts(checkin_dms(world, "USLE1")[-1]["blocks"])
    # 14 December + 14 is Monday 28 December, Boxing Day (observed): Tuesday 29 December.
    world.at(utc(2026, 12, 29, 9, 30))
    statuses = [c.status for c in world.checkins(deployment)]
    assert statuses == ["missed", "missed", "sent", "scheduled"]
    latest = checkin_dms(world, "USLE1")[-1]["blocks"]
    assert "Nobody has answered the last 2 check-ins" in texts(latest)
    assert {"checkin_less_often", "checkin_stop"} <= set(action_ids(latest))


# --- after downtime: never outside working time --------------------------------------------------
@pytest.mark.parametrize(
    ("accepted", "back", "sent_at"),
    [
        # Due Monday 30 November; down from the Sunday, back on Saturday 5 December.
        (utc(2026, 11, 23, 9, 0), utc(2026, 12, 5, 10, 0), "Mon 07 Dec 2026 09:30"),
        # Due Monday 30 November; back that evening, after working hours.
        (utc(2026, 11, 23, 9, 0), utc(2026, 11, 30, 20, 0), "Tue 01 Dec 2026 09:30"),
        # Due Monday 21 December; back on Monday 28th, Boxing Day's bank holiday.
        (utc(2026, 12, 14, 10, 0), utc(2026, 12, 28, 10, 0), "Tue 29 Dec 2026 09:30"),
    ],
    ids=["saturday", "evening", "boxing-day"],
)
def test_a_checkin_due_while_the_bot_was_down_waits_for_the_next_working_morning(
    world: World, accepted: datetime, back: datetime, sent_at: str
) -> None:
    world.clock.set(accepted)
    deployment = world.deploy()
    assert world.at(back)["checkins_sent"] == 0
    assert world.at(back)["checkins_sent"] == 0  # a second run (or copy) changes nothing
    [first] = world.checkins(deployment)
    assert (first.status, local(first.due_at)) == ("scheduled", sent_at)
    assert checkin_dms(world, "UHEAD1") == []
    assert world.at(first.due_at)["checkins_sent"] == 1
    assert len(checkin_dms(world, "UHEAD1")) == 1


def test_a_reminder_due_while_the_bot_was_down_waits_for_the_next_working_morning(
    world: World,
) -> None:
    deployment = world.deploy()
    world.at(utc(2026, 11, 30, 9, 30))
    assert local(world.checkins(deployment)[0].remind_at) == "Mon 07 Dec 2026 12:30"
    # Down from Monday morning, back on Wednesday evening.
    assert world.at(utc(2026, 12, 9, 20, 0))["checkin_reminders"] == 0
    first = world.checkins(deployment)[0]
    assert (first.reminded_at, local(first.remind_at)) == (None, "Thu 10 Dec 2026 09:30")
    assert len(checkin_dms(world, "UHEAD1")) == 1
    assert world.at(first.remind_at)["checkin_reminders"] == 1


@pytest.fixture
def open_when_the_next_fell_due_in_an_outage(world: World) -> tuple[World, int]:
    """A check-in asked and reminded, unanswered; the bot down from the morning its successor
    was due (Thursday 17 December) to Saturday: (world, deployment)."""
    world.clock.set(utc(2026, 11, 26, 10, 0))  # accepted on Thursday 26 November
    deployment = world.deploy()
    world.at(utc(2026, 12, 3, 9, 30))
    world.at(utc(2026, 12, 10, 12, 30))  # 48 working hours later: the one reminder
    first, second = world.checkins(deployment)
    assert first.reminded_at is not None
    assert local(second.due_at) == "Thu 17 Dec 2026 09:30"
    return world, deployment


def test_a_checkin_is_not_missed_while_the_next_waits_out_of_working_time(
    open_when_the_next_fell_due_in_an_outage: tuple[World, int],
) -> None:
    world, deployment = open_when_the_next_fell_due_in_an_outage
    for back in (utc(2026, 12, 19, 10, 0), utc(2026, 12, 20, 2, 0)):  # Saturday, Sunday night
        results = world.at(back)
        assert (results["checkins_missed"], results["checkins_sent"]) == (0, 0)
    first, second = world.checkins(deployment)
    assert (first.status, first.missed_at) == ("sent", None)
    assert (second.status, local(second.due_at)) == ("scheduled", "Mon 21 Dec 2026 09:30")
    for old in checkin_dms(world, "UHEAD1"):
        assert not old.get("edited") and "checkin_on_track" in action_ids(old["blocks"])
    # Missed when the next one really goes, on the working morning.
    results = world.at(second.due_at)
    assert (results["checkins_missed"], results["checkins_sent"]) == (1, 1)
    first, second, _third = world.checkins(deployment)
    assert (first.status, first.missed_at) == ("missed", utc(2026, 12, 21, 9, 30))
    assert second.status == "sent"


def test_a_checkin_can_still_be_answered_while_the_next_waits_out_of_working_time(
    open_when_the_next_fell_due_in_an_outage: tuple[World, int],
) -> None:
    world, deployment = open_when_the_next_fell_due_in_an_outage
    world.at(utc(2026, 12, 19, 10, 0))
    first = world.checkins(deployment)[0]
    world.clock.set(utc(2026, 12, 20, 15, 0))  # Sunday afternoon
    result = act(world, answer_checkin, actor="UHEAD1", checkin_id=first.id, outcome=ON_TRACK)
    assert result.first_answer
    # Sunday 20 December + 14 is Sunday 3 January: Monday 4 January without a holidays file.
    assert local(result.next_due_at) == "Mon 04 Jan 2027 09:30"
    results = world.at(utc(2026, 12, 21, 9, 30))
    assert (results["checkins_missed"], results["checkins_sent"]) == (0, 0)
    assert [c.status for c in world.checkins(deployment)] == ["answered", "scheduled"]


def test_a_reminder_due_at_closing_time_goes_when_that_minutes_run_comes_late(
    engine: Engine, clock: FixedClock
) -> None:
    env = {"CHECKIN_TIME": "08:00", "CHECKIN_REMINDER_HOURS": "9"}
    with make_world(engine, clock, **env) as world:
        deployment = world.deploy()
        world.at(utc(2026, 11, 30, 8, 0))
        assert local(world.checkins(deployment)[0].remind_at) == "Mon 30 Nov 2026 17:00"
        assert world.at(utc(2026, 11, 30, 17, 0, 40))["checkin_reminders"] == 1


# --- answers -----------------------------------------------------------------------------------
@pytest.fixture
def asked(world: World) -> tuple[World, int, int]:
    """A deployment whose first check-in has just been sent: (world, deployment, check-in)."""
    deployment = world.deploy()
    world.at(utc(2026, 11, 30, 9, 30))
    return world, deployment, world.checkins(deployment)[0].id or 0


def answers(world: World, checkin_id: int) -> list[tuple[str, str | None]]:
    with world.runtime.sessions() as session:
        rows = session.exec(
            select(CheckInAnswer).where(CheckInAnswer.checkin_id == checkin_id)
        ).all()
    return [(a.outcome, a.note) for a in rows]


def test_both_people_can_answer_and_needs_attention_alerts_coordinators(
    asked: tuple[World, int, int],
) -> None:
    world, deployment, checkin_id = asked
    act(world, answer_checkin, actor="USLE1", checkin_id=checkin_id, outcome=ON_TRACK)
    note = "Visits keep being cancelled <!channel> & nobody has said why"
    act(
        world,
        answer_checkin,
        actor="UHEAD1",
        checkin_id=checkin_id,
        outcome=NEEDS_ATTENTION,
        note=note,
    )
    assert sorted(answers(world, checkin_id)) == [(NEEDS_ATTENTION, note), (ON_TRACK, None)]
    [alert] = [
        m for m in world.fake.messages(COORDINATOR_CHANNEL) if "needs attention" in m["text"]
    ]
    shown = texts(alert["blocks"])
    assert "&lt;!channel&gt; &amp; nobody" in shown and "<!channel>" not in shown
    assert "Hannah Head (head)" in shown and "request #" in shown
    # Both DMs now show both answers; each person has answered, so no buttons are left.
    for user in ("UHEAD1", "USLE1"):
        [dm] = checkin_dms(world, user)
        assert "On track" in texts(dm["blocks"]) and "Needs attention" in texts(dm["blocks"])
        assert "checkin_on_track" not in action_ids(dm["blocks"])
    # The first answer counts: the next check-in is 14 days from it.
    assert local(world.checkins(deployment)[1].due_at) == "Mon 14 Dec 2026 09:30"


def test_needs_attention_and_completed_need_a_note(asked: tuple[World, int, int]) -> None:
    world, _, checkin_id = asked
    with pytest.raises(InvalidInput) as attention:
        act(world, answer_checkin, actor="UHEAD1", checkin_id=checkin_id, outcome=NEEDS_ATTENTION)
    assert "note" in attention.value.errors
    with pytest.raises(InvalidInput) as completed:
        act(
            world,
            answer_checkin,
            actor="UHEAD1",
            checkin_id=checkin_id,
            outcome=COMPLETED,
            note=" ",
        )
    assert "impact" in completed.value.errors
    assert answers(world, checkin_id) == []


def test_completed_closes_the_deployment_and_frees_the_supporter(
    asked: tuple[World, int, int],
) -> None:
    world, deployment_id, checkin_id = asked
    with world.runtime.sessions() as session:
        [sam] = [c for c in load_candidates(session) if c.user_id == "USLE1"]
    assert sam.active_deployments == 1
    world.clock.set(utc(2026, 12, 1, 11, 0))
    impact = "Our new SENCO is confident with EHCP reviews.\nAll six are now done."
    act(
        world,
        answer_checkin,
        actor="UHEAD1",
        checkin_id=checkin_id,
        outcome=COMPLETED,
        note=impact,
    )
    deployment = world.deployment(deployment_id)
    assert deployment.status == "completed"
    assert deployment.ended_at == utc(2026, 12, 1, 11, 0)
    assert deployment.impact_note == impact
    with world.runtime.sessions() as session:
        request = session.get(SupportRequest, deployment.request_id)
        [sam] = [c for c in load_candidates(session) if c.user_id == "USLE1"]
    assert request.status == "closed" and request.closed_at == utc(2026, 12, 1, 11, 0)
    assert request.impact_note == impact
    assert sam.active_deployments == 0
    assert [c.status for c in world.checkins(deployment_id)] == ["answered", "cancelled"]
    assert world.at(utc(2026, 12, 14, 9, 30))["checkins_sent"] == 0
    for user in ("UHEAD1", "USLE1"):
        [dm] = checkin_dms(world, user)
        assert "completed" in texts(dm["blocks"]).lower()
        assert "checkin_on_track" not in action_ids(dm["blocks"])
    notices = world.fake.messages(COORDINATOR_CHANNEL)
    [notice] = [m for m in notices if "has been completed" in m["text"]]
    assert "All six are now done." in texts(notice["blocks"])
    with pytest.raises(Conflict, match="completed"):
        act(world, answer_checkin, actor="USLE1", checkin_id=checkin_id, outcome=ON_TRACK)


def test_snooze_asks_again_in_a_week(asked: tuple[World, int, int]) -> None:
    world, deployment, checkin_id = asked
    world.clock.set(utc(2026, 11, 30, 14, 0))
    act(world, answer_checkin, actor="USLE1", checkin_id=checkin_id, outcome=SNOOZED)
    first, second = world.checkins(deployment)
    assert first.status == "answered"
    assert local(second.due_at) == "Mon 07 Dec 2026 09:30"
    with pytest.raises(Conflict, match="nothing to snooze"):
        act(world, answer_checkin, actor="UHEAD1", checkin_id=checkin_id, outcome=SNOOZED)
    assert world.at(utc(2026, 12, 7, 9, 30))["checkins_sent"] == 1


def test_someone_not_involved_is_refused_and_nothing_changes(
    asked: tuple[World, int, int],
) -> None:
    world, deployment, checkin_id = asked
    for stranger in ("UHEAD2", "UCOORD", "UNOBODY"):
        with pytest.raises(NotAllowed) as refused:
            act(world, answer_checkin, actor=stranger, checkin_id=checkin_id, outcome=ON_TRACK)
        assert refused.value.subject_id == checkin_id
        if stranger == "UCOORD":
            continue  # a coordinator may pause or resume them (tests/bot/teamwork)
        with pytest.raises(NotAllowed):
            act(world, pause_checkins, actor=stranger, checkin_id=checkin_id)
    assert answers(world, checkin_id) == []
    assert not world.deployment(deployment).checkins_paused


def test_stale_answers_are_refused_politely(asked: tuple[World, int, int]) -> None:
    world, _, checkin_id = asked
    act(world, answer_checkin, actor="UHEAD1", checkin_id=checkin_id, outcome=ON_TRACK)
    with pytest.raises(Conflict, match="already answered"):
        act(world, answer_checkin, actor="UHEAD1", checkin_id=checkin_id, outcome=ON_TRACK)
    with world.runtime.sessions() as session, pytest.raises(Conflict):
        check_may_answer(session, world.runtime.context(), actor="UHEAD1", checkin_id=checkin_id)
    assert answers(world, checkin_id) == [(ON_TRACK, None)]


def test_a_missed_checkin_can_no_longer_be_answered(asked: tuple[World, int, int]) -> None:
    world, _, checkin_id = asked
    world.at(utc(2026, 12, 14, 9, 30))
    with pytest.raises(Conflict, match="newer check-in"):
        act(world, answer_checkin, actor="USLE1", checkin_id=checkin_id, outcome=ON_TRACK)


# --- cadence, pause and resume ---------------------------------------------------------------
def test_changing_the_cadence_moves_the_next_checkin(asked: tuple[World, int, int]) -> None:
    world, deployment, checkin_id = asked
    world.clock.set(utc(2026, 11, 30, 10, 0))
    reply = act(world, change_cadence, actor="UHEAD1", checkin_id=checkin_id, days=7)
    assert reply.startswith("Check-ins are now weekly.")
    assert world.deployment(deployment).checkin_every_days == 7
    # A week after the last one was sent (Monday 30 November).
    assert local(world.checkins(deployment)[1].due_at) == "Mon 07 Dec 2026 09:30"
    act(world, change_cadence, actor="USLE1", checkin_id=checkin_id, days=28)
    # Four weeks after 30 November is Boxing Day (observed), a bank holiday.
    assert local(world.checkins(deployment)[1].due_at) == "Tue 29 Dec 2026 09:30"
    [dm] = checkin_dms(world, "USLE1")
    select_menu = next(
        e
        for b in dm["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "checkin_cadence"
    )
    assert select_menu["initial_option"]["value"] == f"{checkin_id}:28"


def test_choosing_the_cadence_already_chosen_changes_nothing(
    asked: tuple[World, int, int],
) -> None:
    world, deployment, checkin_id = asked
    act(world, change_cadence, actor="UHEAD1", checkin_id=checkin_id, days=7)
    due = world.checkins(deployment)[1].due_at
    with world.runtime.sessions() as session:
        before = len(session.exec(select(AuditEntry)).all())
    reply = act(world, change_cadence, actor="USLE1", checkin_id=checkin_id, days=7)
    assert reply == "Check-ins are already weekly. The next is on Monday 7 December, 09:30."
    assert world.checkins(deployment)[1].due_at == due
    with world.runtime.sessions() as session:
        assert len(session.exec(select(AuditEntry)).all()) == before  # a double click: once


def test_pause_stops_checkins_until_resumed(asked: tuple[World, int, int]) -> None:
    world, deployment, checkin_id = asked
    act(world, pause_checkins, actor="USLE1", checkin_id=checkin_id)
    assert world.deployment(deployment).checkins_paused
    assert [c.status for c in world.checkins(deployment)] == ["cancelled", "cancelled"]
    [dm] = checkin_dms(world, "UHEAD1")
    assert "checkin_resume" in action_ids(dm["blocks"])
    assert "checkin_on_track" not in action_ids(dm["blocks"])
    results = world.at(utc(2026, 12, 21, 9, 30))
    assert (results["checkins_sent"], results["checkin_reminders"]) == (0, 0)
    with pytest.raises(Conflict, match="paused"):
        act(world, answer_checkin, actor="UHEAD1", checkin_id=checkin_id, outcome=ON_TRACK)

    world.clock.set(utc(2026, 12, 21, 10, 0))
    assert act(world, resume_checkins, actor="UHEAD1", checkin_id=checkin_id).startswith(
        "Check-ins are back on."
    )
    assert not world.deployment(deployment).checkins_paused
    third = world.checkins(deployment)[2]
    # 21 December + 14 is 4 January 2027.
    assert third.status == "scheduled" and local(third.due_at) == "Mon 04 Jan 2027 09:30"
    assert world.at(third.due_at)["checkins_sent"] == 1


def test_choosing_a_cadence_while_paused_resumes(asked: tuple[World, int, int]) -> None:
    world, deployment, checkin_id = asked
    act(world, pause_checkins, actor="USLE1", checkin_id=checkin_id)
    act(world, change_cadence, actor="USLE1", checkin_id=checkin_id, days=7)
    assert not world.deployment(deployment).checkins_paused
    assert world.checkins(deployment)[-1].status == "scheduled"
    with world.runtime.sessions() as session:
        actions = [a.action for a in session.exec(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-2:] == ["deployment.checkins_paused", "deployment.checkins_resumed"]


def test_a_released_deployment_closes_its_open_checkin(asked: tuple[World, int, int]) -> None:
    world, deployment, checkin_id = asked
    act(world, release_deployment, actor="USLE1", deployment_id=deployment)
    assert [c.status for c in world.checkins(deployment)] == ["cancelled", "cancelled"]
    for user in ("UHEAD1", "USLE1"):
        updated = [m for m in world.fake.messages(user) if "this check-in is closed" in m["text"]]
        assert len(updated) == 1 and updated[0].get("edited")
    assert world.at(utc(2026, 12, 9, 12, 0))["checkin_reminders"] == 0
    with pytest.raises(Conflict, match="ended"):
        act(world, answer_checkin, actor="UHEAD1", checkin_id=checkin_id, outcome=ON_TRACK)


def test_closing_a_deployment_without_checkins_tells_coordinators_without_pinging(
    world: World,
) -> None:
    """The notice's fallback (no check-in to show) names the person as text: a name holding
    Slack's markup neither pings the channel nor mentions anyone."""
    deployment_id = world.deploy()
    with transaction(world.runtime.sessions) as session:
        for checkin in session.exec(select(CheckIn).where(CheckIn.deployment_id == deployment_id)):
            session.delete(checkin)
        head = session.exec(select(Person).where(Person.slack_user_id == "UHEAD1")).one()
        head.name = "Hannah <!channel> <@UCOORD> *Head*"
    with transaction(world.runtime.sessions) as session:
        deployment = session.get(Deployment, deployment_id)
        assert deployment is not None
        close_deployment(
            session,
            world.runtime.context(),
            deployment=deployment,
            request=session.get(SupportRequest, deployment.request_id),
            person=session.exec(select(Person).where(Person.slack_user_id == "UHEAD1")).one(),
            role="head",
            impact="",
            via="review",
        )
    world.runtime.deliverer.drain()
    [notice] = [
        m for m in world.fake.messages(COORDINATOR_CHANNEL) if "has been completed" in m["text"]
    ]
    assert "Hannah &lt;!channel&gt; &lt;@UCOORD&gt; *Head*" in texts(notice["blocks"])
    assert mrkdwn_markup(notice["blocks"]) == []
