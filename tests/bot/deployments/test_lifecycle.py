"""The deployment lifecycle through time: next steps, first visit, agreement, visits, the
mid-point review and the closing record; each step optional, audited and owed durably."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.checkins.service import COMPLETED, answer_checkin
from bot.core.clock import FixedClock
from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.deployments.record import SUMMARY_AGAIN_AFTER, send_summary
from bot.deployments.service import (
    agreement_form,
    answer_review,
    book_first_visit,
    confirm_agreement,
    draft_agreement,
    log_visit,
    record_impact,
    skip_step,
)
from bot.routing.service import rank_for
from storage.db import transaction
from storage.models import (
    AuditEntry,
    DeploymentObjective,
    DeploymentPlan,
    DeploymentReview,
    SupportRequest,
)
from tests.support.checkin_world import COORDINATOR_CHANNEL, World, act, make_world, utc

LONDON = ZoneInfo("Europe/London")
HEAD, SUPPORTER = "UHEAD1", "USLE1"


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock) as world:
        yield world


def plan(world: World, deployment_id: int) -> DeploymentPlan:
    with world.runtime.sessions() as session:
        found = session.get(DeploymentPlan, deployment_id)
        assert found is not None
        return found


def audited(world: World, action: str) -> list[AuditEntry]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def texts_to(world: World, user: str) -> list[str]:
    return [m["text"] for m in world.fake.messages(user)]


@pytest.fixture
def started(world: World) -> int:
    """A deployment whose plan and next-steps messages the due work has made."""
    deployment_id = world.deploy()
    world.at(world.clock.now())
    return deployment_id


def agree(world: World, deployment_id: int, **changes: Any) -> None:
    fields: dict[str, Any] = {
        "objectives": ["Set up an SEND register", "Train the new SENCO"],
        "expected_impact": "EHCP reviews on time",
        "days_committed": 6.0,
        "review_on": date(2027, 1, 15),
    }
    act(world, draft_agreement, actor=SUPPORTER, deployment_id=deployment_id, **fields | changes)


# --- next steps ------------------------------------------------------------------------------
def test_next_steps_owed_outside_working_time_wait_for_working_time(world: World) -> None:
    world.clock.set(utc(2026, 11, 28, 20, 0))  # accepted on Saturday evening
    world.deploy()
    assert world.at(world.clock.now())["deployments_started"] == 0
    assert world.at(utc(2026, 11, 30, 7, 59))["deployments_started"] == 0
    assert "Next steps for your support." not in texts_to(world, HEAD)
    assert world.at(utc(2026, 11, 30, 8, 0))["deployments_started"] == 1
    assert texts_to(world, HEAD).count("Next steps for your support.") == 1


def test_a_new_deployment_gets_next_steps_once(world: World) -> None:
    deployment_id = world.deploy()
    first = world.at(world.clock.now())
    again = world.at(world.clock.now())
    assert first["deployments_started"] == 1 and again["deployments_started"] == 0
    assert texts_to(world, SUPPORTER).count("Next steps for your support.") == 1
    assert texts_to(world, HEAD).count("Next steps for your support.") == 1
    [supporter_dm] = world.dms(SUPPORTER, "deployment_agreement")
    assert "deployment_book_visit" in str(supporter_dm["blocks"])
    assert "deployment_agreement" not in str(world.dms(HEAD, "deployment_book_visit"))
    assert plan(world, deployment_id).created_at == world.clock.now()
    assert len(audited(world, "deployment.plan_started")) == 1


def test_a_step_taken_before_the_next_steps_still_gets_them(world: World) -> None:
    deployment_id = world.deploy()
    act(world, book_first_visit, actor=HEAD, deployment_id=deployment_id, on=date(2026, 12, 1))
    assert world.at(world.clock.now())["deployments_started"] == 1
    assert texts_to(world, HEAD).count("Next steps for your support.") == 1
    assert plan(world, deployment_id).first_visit_on == date(2026, 12, 1)


# --- the first visit -------------------------------------------------------------------------
def test_booking_the_first_visit_tells_the_other_person(world: World, started: int) -> None:
    reply = act(world, book_first_visit, actor=HEAD, deployment_id=started, on=date(2026, 12, 1))
    assert reply == "First visit booked for Tuesday 1 December 2026."
    assert plan(world, started).first_visit_on == date(2026, 12, 1)
    assert "First visit booked for Tuesday 1 December 2026." in texts_to(world, SUPPORTER)
    [entry] = audited(world, "deployment.visit_booked")
    assert entry.actor == HEAD and entry.detail["on"] == "2026-12-01"


@pytest.mark.parametrize(
    ("on", "says"),
    [
        (date(2026, 11, 20), "today or a later date"),
        (date(2026, 11, 28), "isn't a school day"),  # a Saturday
        (date(2026, 12, 25), "isn't a school day"),  # Christmas Day
        (None, "choose a date"),
    ],
)
def test_a_visit_on_a_past_or_closed_day_is_refused(
    world: World, started: int, on: date | None, says: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        act(world, book_first_visit, actor=SUPPORTER, deployment_id=started, on=on)
    assert says in refused.value.errors["visit_on"]
    assert plan(world, started).first_visit_on is None


def test_only_the_people_involved_may_book(world: World, started: int) -> None:
    with pytest.raises(NotAllowed):
        act(world, book_first_visit, actor="UHEAD2", deployment_id=started, on=date(2026, 12, 1))


# --- the agreement ---------------------------------------------------------------------------
def test_the_supporter_drafts_and_the_head_confirms(world: World, started: int) -> None:
    agree(world, started)
    [ask] = world.dms(HEAD, "deployment_confirm_agreement")
    assert "Set up an SEND register" in str(ask["blocks"])
    assert "6 days" in str(ask["blocks"])
    reply = act(world, confirm_agreement, actor=HEAD, deployment_id=started)
    assert reply == "Agreement confirmed. Thank you."
    confirmed = plan(world, started)
    assert confirmed.agreement_confirmed_at == world.clock.now()
    # The review is due on the review date, at CHECKIN_TIME in London.
    assert confirmed.review_due_at == utc(2027, 1, 15, 9, 30)
    assert "The head has confirmed the agreement." in texts_to(world, SUPPORTER)
    with pytest.raises(Conflict):
        act(world, confirm_agreement, actor=HEAD, deployment_id=started)


def test_only_the_supporter_drafts_and_only_the_head_confirms(world: World, started: int) -> None:
    with pytest.raises(NotAllowed):
        act(
            world,
            draft_agreement,
            actor=HEAD,
            deployment_id=started,
            objectives=["Mine"],
            expected_impact="",
            days_committed=None,
            review_on=None,
        )
    agree(world, started)
    with pytest.raises(NotAllowed):
        act(world, confirm_agreement, actor=SUPPORTER, deployment_id=started)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"objectives": []}, "objectives"),
        ({"objectives": [f"objective {n}" for n in range(7)]}, "objectives"),
        ({"days_committed": 0.0}, "days"),
        ({"days_committed": 500.0}, "days"),
        ({"review_on": date(2026, 11, 23)}, "review_on"),
    ],
)
def test_a_bad_agreement_is_refused_and_changes_nothing(
    world: World, started: int, changes: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        agree(world, started, **changes)
    assert field in refused.value.errors
    assert plan(world, started).agreement_drafted_at is None


def test_a_revised_agreement_needs_confirming_again(world: World, started: int) -> None:
    agree(world, started)
    act(world, confirm_agreement, actor=HEAD, deployment_id=started)
    agree(world, started, objectives=["Only this"])
    assert plan(world, started).agreement_confirmed_at is None
    with world.runtime.sessions() as session:
        texts = [o.text for o in session.exec(select(DeploymentObjective))]
    assert texts == ["Only this"]
    assert len(world.dms(HEAD, "deployment_confirm_agreement")) == 2


# --- visits and the review ---------------------------------------------------------------------
def test_days_given_are_counted_and_halfway_brings_the_review(world: World, started: int) -> None:
    agree(world, started, review_on=None, days_committed=4.0)
    act(world, confirm_agreement, actor=HEAD, deployment_id=started)
    assert plan(world, started).review_due_at is None
    reply = act(world, log_visit, actor=SUPPORTER, deployment_id=started, days=1.5, note="Met SLT")
    assert reply == "Logged. 1.5 days of 4 days committed given so far."
    assert plan(world, started).review_due_at is None
    act(world, log_visit, actor=SUPPORTER, deployment_id=started, days=0.5, note="")
    # Half the days given: the review is due at the next CHECKIN_TIME on a working day.
    assert plan(world, started).review_due_at == utc(2026, 11, 23, 9, 30)
    done = world.at(utc(2026, 11, 23, 9, 30))
    assert done["deployment_reviews"] == 1
    assert world.at(utc(2026, 11, 23, 9, 31))["deployment_reviews"] == 0
    for user in (HEAD, SUPPORTER):
        [review] = world.dms(user, "deployment_review")
        assert "Days given so far: 2 days of 4 days committed." in str(review["blocks"])


def test_a_review_due_while_the_bot_was_down_waits_for_the_next_working_morning(
    world: World, started: int
) -> None:
    agree(world, started, review_on=date(2027, 1, 14))  # a Thursday
    act(world, confirm_agreement, actor=HEAD, deployment_id=started)
    # Down from Thursday morning, back at 02:00 on Saturday, and again on Sunday.
    for back in (utc(2027, 1, 16, 2, 0), utc(2027, 1, 17, 14, 0)):
        assert world.at(back)["deployment_reviews"] == 0
    assert plan(world, started).review_due_at == utc(2027, 1, 18, 9, 30)
    assert not world.dms(HEAD, "deployment_review")
    assert world.at(utc(2027, 1, 18, 9, 30))["deployment_reviews"] == 1
    assert world.dms(HEAD, "deployment_review") and world.dms(SUPPORTER, "deployment_review")


def test_a_review_of_support_that_has_ended_is_left_where_it_was(
    world: World, started: int
) -> None:
    agree(world, started, review_on=date(2027, 1, 14))
    act(world, confirm_agreement, actor=HEAD, deployment_id=started)
    complete(world, started)
    world.at(utc(2027, 1, 16, 2, 0))
    assert plan(world, started).review_due_at == utc(2027, 1, 14, 9, 30)


def test_the_head_logs_notes_but_not_days(world: World, started: int) -> None:
    with pytest.raises(InvalidInput):
        act(world, log_visit, actor=HEAD, deployment_id=started, days=1.0, note="")
    reply = act(world, log_visit, actor=HEAD, deployment_id=started, days=None, note="Useful")
    assert reply == "Visit note saved. Thank you."
    with pytest.raises(InvalidInput):
        act(world, log_visit, actor=SUPPORTER, deployment_id=started, days=None, note=" ")


def test_review_answers_are_recorded_once_and_told_to_coordinators(
    world: World, started: int
) -> None:
    reply = act(world, answer_review, actor=HEAD, deployment_id=started, decision="adjust")
    assert "revise the agreement" in reply
    with pytest.raises(Conflict):
        act(world, answer_review, actor=HEAD, deployment_id=started, decision="close")
    act(world, answer_review, actor=SUPPORTER, deployment_id=started, decision="continue")
    with world.runtime.sessions() as session:
        decisions = {r.role: r.decision for r in session.exec(select(DeploymentReview))}
    assert decisions == {"head": "adjust", "supporter": "continue"}
    told = [m["text"] for m in world.fake.messages(COORDINATOR_CHANNEL)]
    assert any("the head said adjust" in text for text in told)


def test_every_step_can_be_skipped_and_is_audited(world: World, started: int) -> None:
    for step in ("visit", "agreement", "review"):
        act(world, skip_step, actor=SUPPORTER, deployment_id=started, step=step)
    skipped = plan(world, started)
    assert skipped.first_visit_skipped and skipped.agreement_skipped and skipped.review_skipped
    assert [e.detail["step"] for e in audited(world, "deployment.step_skipped")] == [
        "visit",
        "agreement",
        "review",
    ]


# --- closure -----------------------------------------------------------------------------------
def complete(world: World, deployment_id: int) -> None:
    [first] = world.checkins(deployment_id)
    world.at(first.due_at)
    act(
        world,
        answer_checkin,
        actor=HEAD,
        checkin_id=first.id,
        outcome=COMPLETED,
        note="The SENCO is confident now.",
    )


def test_a_closing_record_owed_when_the_bot_went_down_waits_for_working_time(
    world: World, started: int
) -> None:
    complete(world, started)  # Monday 30 November; the bot stops before asking
    assert world.at(utc(2026, 12, 6, 2, 0))["closing_records_asked"] == 0  # back on Sunday
    assert not world.dms(HEAD, "deployment_impact") and not world.dms(
        SUPPORTER, "deployment_impact"
    )
    assert world.at(utc(2026, 12, 7, 8, 0))["closing_records_asked"] == 1
    assert world.dms(HEAD, "deployment_impact") and world.dms(SUPPORTER, "deployment_impact")


def test_at_closure_the_head_rates_each_objective(world: World, started: int) -> None:
    agree(world, started)
    with pytest.raises(Conflict):  # not before it has closed
        act(
            world,
            record_impact,
            actor=HEAD,
            deployment_id=started,
            ratings={},
            comments={},
            overall="",
        )
    complete(world, started)
    assert world.at(world.clock.now())["closing_records_asked"] == 1
    assert world.at(world.clock.now())["closing_records_asked"] == 0
    assert world.dms(HEAD, "deployment_impact") and world.dms(SUPPORTER, "deployment_impact")
    with world.runtime.sessions() as session:
        first, second = session.exec(
            select(DeploymentObjective.id).order_by(DeploymentObjective.position)
        ).all()
    act(
        world,
        record_impact,
        actor=HEAD,
        deployment_id=started,
        ratings={first: "met", second: "some"},
        comments={first: "Register in place"},
        overall="Much better",
    )
    act(
        world,
        record_impact,
        actor=SUPPORTER,
        deployment_id=started,
        ratings={},
        comments={second: "Needs another term"},
        overall="A good start",
    )
    with world.runtime.sessions() as session:
        rows = [
            (o.rating, o.head_comment, o.supporter_comment)
            for o in session.exec(
                select(DeploymentObjective).order_by(DeploymentObjective.position)
            )
        ]
    assert rows == [("met", "Register in place", None), ("some", None, "Needs another term")]
    with pytest.raises(InvalidInput):
        act(
            world,
            record_impact,
            actor=HEAD,
            deployment_id=started,
            ratings={first: "brilliant"},
            comments={},
            overall="",
        )
    assert [e.detail["role"] for e in audited(world, "deployment.impact_recorded")] == [
        "head",
        "supporter",
    ]


# --- the review's "close" and "adjust" (issue #13 gaps) --------------------------------------
def review_due(world: World, deployment_id: int) -> None:
    """Agree, confirm, and run the due work on the review date: both get the review."""
    agree(world, deployment_id)
    act(world, confirm_agreement, actor=HEAD, deployment_id=deployment_id)
    world.at(utc(2027, 1, 15, 9, 30))


def supporter_is_free(world: World, deployment_id: int) -> bool:
    """Whether USLE1 would be offered a fresh SEND request from another head."""
    request_id, supporter_id = world.request(head="UHEAD2"), world.person_id(SUPPORTER)
    with transaction(world.runtime.sessions) as session:
        request = session.get(SupportRequest, request_id)
        assert request is not None
        fits = rank_for(
            session,
            request,
            world.runtime.vocabulary,
            only_person_id=supporter_id,
            ctx=world.runtime.context(),
        )
        return bool(fits)


@pytest.mark.parametrize("closer", [HEAD, SUPPORTER])
def test_a_review_answered_close_closes_the_support_as_completed_does(
    world: World, started: int, closer: str
) -> None:
    review_due(world, started)
    assert not supporter_is_free(world, started)
    reply = act(world, answer_review, actor=closer, deployment_id=started, decision="close")
    assert "now closed" in reply
    deployment = world.deployment(started)
    assert deployment.status == "completed" and deployment.ended_at == world.clock.now()
    assert deployment.impact_note == "Closed at the mid-point review."
    with world.runtime.sessions() as session:
        request = session.get(SupportRequest, deployment.request_id)
        assert request is not None and request.status == "closed"
    assert {c.status for c in world.checkins(started)} == {"cancelled"}
    [entry] = audited(world, "deployment.completed")
    assert entry.actor == closer and entry.detail["via"] == "review"
    told = [m["text"] for m in world.fake.messages(COORDINATOR_CHANNEL)]
    assert f"Support on request #{deployment.request_id} has been completed." in told
    # The closing record is asked for, once, as after a completed check-in.
    assert world.at(world.clock.now())["closing_records_asked"] == 1
    assert world.dms(HEAD, "deployment_impact") and world.dms(SUPPORTER, "deployment_impact")
    assert supporter_is_free(world, started)
    # Both review DMs lose their buttons.
    for user in (HEAD, SUPPORTER):
        assert not world.dms(user, "deployment_review_close")
        assert any("closed at the mid-point review" in str(m["blocks"]) for m in world.dms(user))


def test_closing_at_the_review_twice_closes_once(world: World, started: int) -> None:
    review_due(world, started)
    act(world, answer_review, actor=HEAD, deployment_id=started, decision="close")
    for who in (HEAD, SUPPORTER):  # a double click, then the other person's late answer
        with pytest.raises(Conflict):
            act(world, answer_review, actor=who, deployment_id=started, decision="close")
    assert len(audited(world, "deployment.completed")) == 1
    told = [m["text"] for m in world.fake.messages(COORDINATOR_CHANNEL)]
    assert sum("has been completed" in text for text in told) == 1
    with world.runtime.sessions() as session:
        assert len(session.exec(select(DeploymentReview)).all()) == 1


def test_a_close_note_becomes_the_impact_note(world: World, started: int) -> None:
    review_due(world, started)
    act(
        world,
        answer_review,
        actor=SUPPORTER,
        deployment_id=started,
        decision="close",
        note="Objectives met early",
    )
    assert world.deployment(started).impact_note == "Objectives met early"


def test_adjust_offers_the_supporter_the_agreement_again_once(world: World, started: int) -> None:
    review_due(world, started)
    act(world, answer_review, actor=HEAD, deployment_id=started, decision="adjust")
    act(world, answer_review, actor=SUPPORTER, deployment_id=started, decision="adjust")
    revise = [m for m in world.dms(SUPPORTER) if "revise the agreement" in m["text"]]
    assert len(revise) == 1 and "deployment_agreement" in str(revise[0]["blocks"])
    assert world.deployment(started).status == "active"
    # The form holds the agreement, but not the review date that has passed.
    with transaction(world.runtime.sessions) as session:
        form = agreement_form(
            session, world.runtime.context(), actor=SUPPORTER, deployment_id=started
        )
    assert form.objectives == ("Set up an SEND register", "Train the new SENCO")
    assert form.review_on is None
    agree(world, started, review_on=None, days_committed=8.0)
    assert plan(world, started).agreement_confirmed_at is None  # the head confirms again
    assert len(world.dms(HEAD, "deployment_confirm_agreement")) == 2


def test_continue_changes_nothing_but_the_answer(world: World, started: int) -> None:
    review_due(world, started)
    act(world, answer_review, actor=HEAD, deployment_id=started, decision="continue")
    assert world.deployment(started).status == "active"
    assert not [m for m in world.dms(SUPPORTER) if "revise the agreement" in m["text"]]


# --- the one-page summary: once per burst of clicks --------------------------------------------
def test_the_summary_is_sent_once_per_burst_and_again_later(world: World, started: int) -> None:
    first = act(world, send_summary, actor=SUPPORTER, deployment_id=started)
    again = act(world, send_summary, actor=SUPPORTER, deployment_id=started)
    assert "sent you" in first and "just sent you" in again
    assert len(world.fake.files(SUPPORTER)) == 1
    act(world, send_summary, actor=HEAD, deployment_id=started)  # someone else: their own
    assert len(world.fake.files(HEAD)) == 1
    world.clock.set(world.clock.now() + SUMMARY_AGAIN_AFTER + timedelta(seconds=1))
    later = act(world, send_summary, actor=SUPPORTER, deployment_id=started)
    assert "just" not in later
    assert len(world.fake.files(SUPPORTER)) == 2
    assert len(audited(world, "deployment.summary_sent")) == 3
