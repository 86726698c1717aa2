"""The deployment lifecycle through Slack: next steps, first visit, agreement, visit logs from
a check-in, the mid-point review, the closing record and the one-page summary, all as real
signed requests against the running bot and its fake Web API."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.entry.jobs import run_due
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_event,
    view_submission_payload,
)
from storage.models import (
    AuditEntry,
    CheckIn,
    DeploymentObjective,
    DeploymentPlan,
    DeploymentReview,
    DeploymentVisit,
    Offer,
    Person,
    SupportRequest,
)
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_home import open_home
from tests.support.blockkit import action_ids, button_value, texts

HEAD, SUPPORTER, STRANGER = "UHEAD1", "USLE1", "UHEAD2"


def click(slack: SlackWorld, user: str, action_id: str, value: str, **kwargs: Any) -> None:
    status, _, _ = slack.sender.interact(block_actions_payload(user, action_id, value, **kwargs))
    assert status == 200
    slack.settle()


def dm_with(slack: SlackWorld, user: str, action_id: str) -> dict[str, Any]:
    """The latest DM to `user` holding a button `action_id`."""
    found = [m for m in slack.fake.messages(user) if action_id in action_ids(m.get("blocks"))]
    assert found, f"{user} has no DM with {action_id}"
    return found[-1]


def press(slack: SlackWorld, user: str, action_id: str) -> None:
    dm = dm_with(slack, user, action_id)
    click(slack, user, action_id, button_value(dm["blocks"], action_id), message=dm)


def opened(slack: SlackWorld, callback_id: str) -> dict[str, Any]:
    views = [c.args["view"] for c in slack.fake.calls_to("views.open")]
    found = [v for v in views if v.get("callback_id") == callback_id]
    assert found, f"no {callback_id} form was opened"
    return found[-1]


def submit(
    slack: SlackWorld, user: str, callback_id: str, values: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Submit the form last opened with `callback_id`; returns the status and the JSON ack."""
    form = opened(slack, callback_id)
    payload = view_submission_payload(user, callback_id, values, form["private_metadata"])
    status, body, _ = slack.sender.interact(payload)
    slack.settle()
    return status, json.loads(body) if body else {}


def replies(slack: SlackWorld, user: str) -> str:
    """What `user` was told: replies where they clicked, and DMs (a form's answer)."""
    dms = [m["text"] for m in slack.fake.messages(user)]
    return " ".join([*slack.fake.replies_to(user), *dms])


def plan(slack: SlackWorld) -> DeploymentPlan:
    with slack.runtime.sessions() as session:
        return session.exec(select(DeploymentPlan)).one()


@pytest.fixture
def deployed(slack: SlackWorld) -> int:
    """A head's request accepted by Sam through Slack and the due work run: the deployment id."""
    slack.import_directory()
    event = message_event(HEAD, "We need help with SEND: our SENCO has left", SUPPORT_CHANNEL)
    assert slack.sender.event(event)[0] == 200
    slack.settle()
    with slack.runtime.sessions() as session:
        request = session.exec(select(SupportRequest)).one()
    click(slack, HEAD, "request_confirm", str(request.id), channel_id=SUPPORT_CHANNEL)
    with slack.runtime.sessions() as session:
        sam = session.exec(select(Person).where(Person.slack_user_id == SUPPORTER)).one()
        offer = session.exec(select(Offer).where(Offer.supporter_id == sam.id)).one()
    click(slack, SUPPORTER, "offer_accept", str(offer.id))
    run_due(slack.runtime)
    slack.settle()
    return plan(slack).deployment_id


AGREEMENT = {
    "objectives": {"value": {"type": "plain_text_input", "value": "1. SEND register\n2. Train"}},
    "impact": {"value": {"type": "plain_text_input", "value": "EHCP reviews on time"}},
    "days": {"value": {"type": "number_input", "value": "6"}},
    "review_on": {"value": {"type": "datepicker", "selected_date": "2027-01-15"}},
}


def agree(slack: SlackWorld) -> None:
    press(slack, SUPPORTER, "deployment_agreement")
    assert submit(slack, SUPPORTER, "deployment_agreement_form", AGREEMENT)[0] == 200
    press(slack, HEAD, "deployment_confirm_agreement")


# --- next steps and the first visit -----------------------------------------------------------
def test_both_people_get_next_steps_after_acceptance(slack: SlackWorld, deployed: int) -> None:
    supporter = dm_with(slack, SUPPORTER, "deployment_book_visit")
    assert action_ids(supporter["blocks"]) == [
        "deployment_book_visit",
        "deployment_agreement",
        "deployment_skip_visit",
        "deployment_skip_agreement",
    ]
    head = dm_with(slack, HEAD, "deployment_book_visit")
    assert action_ids(head["blocks"]) == ["deployment_book_visit"]
    assert f"<@{SUPPORTER}>" in texts(head["blocks"])


def test_booking_the_first_visit_with_the_date_picker(slack: SlackWorld, deployed: int) -> None:
    press(slack, SUPPORTER, "deployment_book_visit")
    form = opened(slack, "deployment_visit_form")
    assert form["blocks"][1]["element"]["type"] == "datepicker"
    saturday = {"visit_on": {"value": {"type": "datepicker", "selected_date": "2026-11-28"}}}
    status, ack = submit(slack, SUPPORTER, "deployment_visit_form", saturday)
    assert status == 200 and ack["response_action"] == "errors"
    assert "isn't a school day" in ack["errors"]["visit_on"]
    assert plan(slack).first_visit_on is None
    tuesday = {"visit_on": {"value": {"type": "datepicker", "selected_date": "2026-12-01"}}}
    assert submit(slack, SUPPORTER, "deployment_visit_form", tuesday) == (200, {})
    assert plan(slack).first_visit_on == date(2026, 12, 1)
    told = [m["text"] for m in slack.fake.messages(HEAD)]
    assert "First visit booked for Tuesday 1 December 2026." in told


def test_someone_else_cannot_open_the_forms(slack: SlackWorld, deployed: int) -> None:
    click(slack, STRANGER, "deployment_book_visit", str(deployed))
    assert "Only the school's head and their supporter" in replies(slack, STRANGER)
    click(slack, HEAD, "deployment_agreement", str(deployed))
    assert "Only the school's head and their supporter" in replies(slack, HEAD)
    assert slack.fake.calls_to("views.open") == []


def test_skipping_a_step_is_saved_before_the_ack(slack: SlackWorld, deployed: int) -> None:
    press(slack, SUPPORTER, "deployment_skip_visit")
    assert plan(slack).first_visit_skipped
    assert "Skipped: no first visit booked." in replies(slack, SUPPORTER)


# --- the agreement --------------------------------------------------------------------------------
def test_the_agreement_is_drafted_then_confirmed(slack: SlackWorld, deployed: int) -> None:
    agree(slack)
    ask = dm_with(slack, HEAD, "deployment_confirm_agreement")
    assert "SEND register" in texts(ask["blocks"]) and "6 days" in texts(ask["blocks"])
    confirmed = plan(slack)
    assert confirmed.agreement_confirmed_at is not None
    assert confirmed.days_committed == 6.0 and confirmed.review_on == date(2027, 1, 15)
    assert "Agreement confirmed" in replies(slack, HEAD)
    assert "The head has confirmed the agreement." in [
        m["text"] for m in slack.fake.messages(SUPPORTER)
    ]


def test_a_long_agreement_reaches_the_head_whole(slack: SlackWorld, deployed: int) -> None:
    """Six objectives of 500 characters and a 2,000-character impact are more than one Slack
    section holds: the head confirms what they can read, every word of it."""
    objectives = [f"Objective {n} & <more>: " + "x" * 470 + f" end {n}." for n in range(1, 7)]
    impact = "Pupils with EHCPs & <SEN> support " + "y" * 1940 + " impact ends."
    long = {
        **AGREEMENT,
        "objectives": {"value": {"type": "plain_text_input", "value": "\n".join(objectives)}},
        "impact": {"value": {"type": "plain_text_input", "value": impact}},
    }
    press(slack, SUPPORTER, "deployment_agreement")
    assert submit(slack, SUPPORTER, "deployment_agreement_form", long) == (200, {})
    shown = texts(dm_with(slack, HEAD, "deployment_confirm_agreement")["blocks"])
    assert all(f"end {n}." in shown for n in range(1, 7)) and "impact ends." in shown
    assert "&amp; &lt;more&gt;" in shown and "…" not in shown


def test_objectives_that_begin_with_a_number_keep_it(slack: SlackWorld, deployed: int) -> None:
    """Only list markers are dropped: "100 pupils…" is saved and shown to the head whole."""
    objectives = (
        "1. 100 pupils in Year 6 reach the expected standard in reading\n"
        "2027 SATs: close the gap\n"
        "- 95 per cent attendance by July\n"
        "3 teachers trained in precision teaching"
    )
    form = {**AGREEMENT, "objectives": {"value": {"type": "plain_text_input", "value": objectives}}}
    press(slack, SUPPORTER, "deployment_agreement")
    assert submit(slack, SUPPORTER, "deployment_agreement_form", form) == (200, {})
    with slack.runtime.sessions() as session:
        saved = session.exec(select(DeploymentObjective).order_by(DeploymentObjective.position))
        assert [o.text for o in saved] == [
            "100 pupils in Year 6 reach the expected standard in reading",
            "2027 SATs: close the gap",
            "95 per cent attendance by July",
            "3 teachers trained in precision teaching",
        ]
    shown = texts(dm_with(slack, HEAD, "deployment_confirm_agreement")["blocks"])
    assert "1. 100 pupils in Year 6" in shown and "2. 2027 SATs: close the gap" in shown
    assert "3. 95 per cent attendance" in shown


def test_a_bad_agreement_goes_back_to_the_form(slack: SlackWorld, deployed: int) -> None:
    press(slack, SUPPORTER, "deployment_agreement")
    bad = {**AGREEMENT, "days": {"value": {"type": "number_input", "value": "lots"}}}
    status, ack = submit(slack, SUPPORTER, "deployment_agreement_form", bad)
    assert status == 200 and ack["response_action"] == "errors" and "days" in ack["errors"]
    empty = {**AGREEMENT, "objectives": {"value": {"type": "plain_text_input", "value": " "}}}
    status, ack = submit(slack, SUPPORTER, "deployment_agreement_form", empty)
    assert ack["errors"] == {"objectives": "Please write at least one objective, one per line."}
    assert plan(slack).agreement_drafted_at is None


# --- check-ins, the review and closure ---------------------------------------------------
def send_checkin(slack: SlackWorld) -> CheckIn:
    with slack.runtime.sessions() as session:
        checkin = session.exec(select(CheckIn)).one()
    slack.clock.set(checkin.due_at)
    run_due(slack.runtime)
    slack.settle()
    return checkin


def test_a_checkin_asks_for_days_given_and_a_note_once(slack: SlackWorld, deployed: int) -> None:
    checkin = send_checkin(slack)
    press(slack, SUPPORTER, "deployment_log_visit")
    form = opened(slack, "deployment_log_form")
    assert json.loads(form["private_metadata"])["checkin_id"] == checkin.id
    log = {
        "days": {"value": {"type": "number_input", "value": "1.5"}},
        "note": {"value": {"type": "plain_text_input", "value": "Met the SLT"}},
    }
    assert submit(slack, SUPPORTER, "deployment_log_form", log) == (200, {})
    assert "Logged. 1.5 days given so far." in replies(slack, SUPPORTER)
    status, ack = submit(slack, SUPPORTER, "deployment_log_form", log)
    assert status == 200 and ack["response_action"] == "update"
    assert "already logged" in texts(ack["view"]["blocks"])
    with slack.runtime.sessions() as session:
        assert [(v.days, v.note) for v in session.exec(select(DeploymentVisit))] == [
            (1.5, "Met the SLT")
        ]


def test_the_review_asks_both_and_records_each_answer(slack: SlackWorld, deployed: int) -> None:
    agree(slack)
    slack.clock.set(plan(slack).review_due_at)
    run_due(slack.runtime)
    slack.settle()
    press(slack, HEAD, "deployment_review_adjust")
    press(slack, SUPPORTER, "deployment_review_continue")
    press(slack, SUPPORTER, "deployment_review_close")  # a second answer is refused politely
    assert "already answered the review" in replies(slack, SUPPORTER)
    with slack.runtime.sessions() as session:
        answers = {r.role: r.decision for r in session.exec(select(DeploymentReview))}
    assert answers == {"head": "adjust", "supporter": "continue"}


def test_at_closure_the_head_rates_each_objective(slack: SlackWorld, deployed: int) -> None:
    agree(slack)
    send_checkin(slack)
    dm = [m for m in slack.fake.messages(HEAD) if m["text"].endswith("going?")][-1]
    click(
        slack,
        HEAD,
        "checkin_completed",
        button_value(dm["blocks"], "checkin_completed"),
        message=dm,
    )
    completed = {"impact": {"value": {"type": "plain_text_input", "value": "Much better"}}}
    assert submit(slack, HEAD, "checkin_completed", completed)[0] == 200
    run_due(slack.runtime)
    slack.settle()
    press(slack, HEAD, "deployment_impact")
    form = opened(slack, "deployment_impact_form")
    rating_blocks = [
        b["block_id"] for b in form["blocks"] if b.get("block_id", "").startswith("rating:")
    ]
    assert len(rating_blocks) == 2
    values = {
        rating_blocks[0]: {"value": {"type": "static_select", "selected_option": {"value": "met"}}},
        rating_blocks[1]: {
            "value": {"type": "static_select", "selected_option": {"value": "some"}}
        },
        "overall": {"value": {"type": "plain_text_input", "value": "Reviews now on time"}},
    }
    assert submit(slack, HEAD, "deployment_impact_form", values) == (200, {})
    with slack.runtime.sessions() as session:
        ratings = [o.rating for o in session.exec(select(DeploymentObjective).order_by("position"))]
    assert ratings == ["met", "some"]


# --- App Home and the summary ------------------------------------------------------------
def test_app_home_shows_the_deployment_and_sends_the_summary(
    slack: SlackWorld, deployed: int
) -> None:
    agree(slack)
    home = open_home(slack, SUPPORTER)
    assert "Your deployments" in texts(home["blocks"])
    assert "deployment_summary" in action_ids(home["blocks"])
    click(slack, SUPPORTER, "deployment_summary", str(deployed), view=home)
    [page] = slack.fake.files(SUPPORTER)
    html = page["content"].decode("utf-8")
    assert html.startswith("<!DOCTYPE html>") and "SEND register" in html
    with slack.runtime.sessions() as session:
        sent = session.exec(
            select(AuditEntry).where(AuditEntry.action == "deployment.summary_sent")
        ).all()
    assert [e.actor for e in sent] == [SUPPORTER]


def test_the_summary_is_refused_to_anyone_not_involved(slack: SlackWorld, deployed: int) -> None:
    click(slack, STRANGER, "deployment_summary", str(deployed))
    assert "Only the school's head and their supporter" in replies(slack, STRANGER)
    assert slack.fake.files(STRANGER) == []
    click(slack, "UCOORD", "deployment_summary", str(deployed))
    assert len(slack.fake.files("UCOORD")) == 1


def test_a_coordinator_sees_recent_deployments_with_their_summary(
    slack: SlackWorld, deployed: int
) -> None:
    home = open_home(slack, "UCOORD")
    assert "Recent deployments" in texts(home["blocks"])
    assert button_value(home["blocks"], "deployment_summary") == str(deployed)
    assert "deployment_agreement" not in action_ids(home["blocks"])
    assert "Your deployments" not in texts(open_home(slack, STRANGER)["blocks"])


def test_double_submits_are_saved_once(slack: SlackWorld, deployed: int) -> None:
    """Slack may deliver one form twice (a double click on Save, a retry): same view id."""
    send_checkin(slack)
    press(slack, SUPPORTER, "deployment_log_visit")
    form = opened(slack, "deployment_log_form")
    log = {"days": {"value": {"type": "number_input", "value": "1"}}}
    payload = view_submission_payload(
        SUPPORTER, "deployment_log_form", log, form["private_metadata"], view_id="V0SAMEFORM"
    )
    for _ in range(2):
        assert slack.sender.interact(payload)[0] == 200
        slack.settle()
    with slack.runtime.sessions() as session:
        assert [v.days for v in session.exec(select(DeploymentVisit))] == [1.0]
    press(slack, SUPPORTER, "deployment_agreement")
    for _ in range(2):
        assert submit(slack, SUPPORTER, "deployment_agreement_form", AGREEMENT)[0] == 200
    assert len([m for m in slack.fake.messages(HEAD) if "confirm the agreement" in m["text"]]) == 1
    press(slack, HEAD, "deployment_book_visit")
    tuesday = {"visit_on": {"value": {"type": "datepicker", "selected_date": "2026-12-01"}}}
    for _ in range(2):
        assert submit(slack, HEAD, "deployment_visit_form", tuesday)[0] == 200
    booked = [m for m in slack.fake.messages(SUPPORTER) if m["text"].startswith("First visit")]
    assert len(booked) == 1


# --- the review closes, adjust revises; the summary once per burst (issue #13 gaps) ---------
def review(slack: SlackWorld) -> None:
    agree(slack)
    slack.clock.set(plan(slack).review_due_at)
    run_due(slack.runtime)
    slack.settle()


def audited(slack: SlackWorld, action: str) -> list[AuditEntry]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_close_at_the_review_closes_the_support_once(slack: SlackWorld, deployed: int) -> None:
    review(slack)
    dm = dm_with(slack, SUPPORTER, "deployment_review_close")
    [close] = [
        e
        for b in dm["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "deployment_review_close"
    ]
    assert close["confirm"]["confirm"]["text"] == "Close the support"
    value = button_value(dm["blocks"], "deployment_review_close")
    for _ in range(2):  # a double click
        click(slack, SUPPORTER, "deployment_review_close", value, message=dm)
    assert "the support is now closed" in replies(slack, SUPPORTER)
    assert "This support has ended, so there's nothing more to do here." in replies(
        slack, SUPPORTER
    )
    with slack.runtime.sessions() as session:
        request = session.exec(select(SupportRequest)).one()
        assert request.status == "closed"
        assert {c.status for c in session.exec(select(CheckIn))} == {"cancelled"}
    assert len(audited(slack, "deployment.completed")) == 1
    run_due(slack.runtime)
    slack.settle()
    assert dm_with(slack, HEAD, "deployment_impact") and dm_with(
        slack, SUPPORTER, "deployment_impact"
    )
    assert not [m for m in slack.fake.messages(HEAD) if "deployment_review_close" in str(m)]


def test_adjust_at_the_review_offers_the_agreement_form_again(
    slack: SlackWorld, deployed: int
) -> None:
    review(slack)
    press(slack, HEAD, "deployment_review_adjust")
    assert "asked the supporter to revise the agreement" in replies(slack, HEAD)
    revise = dm_with(slack, SUPPORTER, "deployment_agreement")
    assert "should be *adjusted*" in texts(revise["blocks"])
    press(slack, SUPPORTER, "deployment_agreement")
    form = opened(slack, "deployment_agreement_form")
    assert "SEND register" in json.dumps(form["blocks"])
    revised = {**AGREEMENT, "review_on": {"value": {"type": "datepicker"}}}
    assert submit(slack, SUPPORTER, "deployment_agreement_form", revised) == (200, {})
    asks = [m for m in slack.fake.messages(HEAD) if "confirm the agreement" in m["text"]]
    assert len(asks) == 2


def test_summary_pressed_twice_quickly_is_sent_once(slack: SlackWorld, deployed: int) -> None:
    home = open_home(slack, HEAD)
    for _ in range(2):
        click(slack, HEAD, "deployment_summary", str(deployed), view=home)
    assert len(slack.fake.files(HEAD)) == 1
    assert "just sent you the one-page summary" in replies(slack, HEAD)
    slack.clock.set(slack.clock.now() + timedelta(minutes=2))
    click(slack, HEAD, "deployment_summary", str(deployed), view=home)
    assert len(slack.fake.files(HEAD)) == 2
