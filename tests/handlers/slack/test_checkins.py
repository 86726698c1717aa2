"""Check-ins through Slack: each answer, note modals, cadence, pause and resume, refusals and
stale clicks, all as real signed requests against the running bot."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import select

from bot.entry.jobs import run_due
from bot.routing.service import load_candidates
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_event,
    view_submission_payload,
)
from storage.models import (
    AuditEntry,
    CheckIn,
    CheckInAnswer,
    Deployment,
    Offer,
    Person,
    SupportRequest,
)
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL, SUPPORT_CHANNEL, SlackWorld
from tests.support.blockkit import action_ids, button_value, texts

SUPPORTER = "USLE1"


@pytest.fixture
def asked(slack: SlackWorld) -> int:
    """A head's request accepted by Sam through Slack, and its first check-in sent; its id."""
    slack.import_directory()
    event = message_event("UHEAD1", "We need help with SEND: our SENCO has left", SUPPORT_CHANNEL)
    assert slack.sender.event(event)[0] == 200
    slack.settle()
    with slack.runtime.sessions() as session:
        request = session.exec(select(SupportRequest)).one()
    click(slack, "UHEAD1", "request_confirm", str(request.id), channel_id=SUPPORT_CHANNEL)
    with slack.runtime.sessions() as session:
        sam = session.exec(select(Person).where(Person.slack_user_id == SUPPORTER)).one()
        offer = session.exec(select(Offer).where(Offer.supporter_id == sam.id)).one()
    click(slack, SUPPORTER, "offer_accept", str(offer.id))
    with slack.runtime.sessions() as session:
        checkin = session.exec(select(CheckIn)).one()
    slack.clock.set(checkin.due_at)
    run_due(slack.runtime)
    slack.settle()
    slack.fake.clear()
    return checkin.id or 0


def click(slack: SlackWorld, user: str, action_id: str, value: str, **kwargs: Any) -> None:
    status, _, _ = slack.sender.interact(block_actions_payload(user, action_id, value, **kwargs))
    assert status == 200
    slack.settle()


def checkin_dm(slack: SlackWorld, user: str) -> dict[str, Any]:
    """The latest check-in DM the user holds (as Slack holds it now)."""
    found = [m for m in slack.fake.messages(user) if m["text"].endswith("going?")]
    assert found, f"{user} has no check-in DM"
    return found[-1]


def press(slack: SlackWorld, user: str, action_id: str, **kwargs: Any) -> None:
    """The user presses `action_id` on their check-in DM."""
    dm = checkin_dm(slack, user)
    click(slack, user, action_id, button_value(dm["blocks"], action_id), message=dm, **kwargs)


def choose(slack: SlackWorld, user: str, value: str) -> None:
    """The user picks `value` in the check-in DM's frequency menu."""
    dm = checkin_dm(slack, user)
    click(slack, user, "checkin_cadence", value, message=dm, action_type="static_select")


def ephemerals(slack: SlackWorld, user: str) -> list[str]:
    """Replies only `user` saw where they acted (through a response_url, or ephemeral)."""
    return slack.fake.replies_to(user)


def answers(slack: SlackWorld) -> list[tuple[str, str | None]]:
    with slack.runtime.sessions() as session:
        rows = session.exec(
            select(Person.slack_user_id, CheckInAnswer.outcome)
            .join(CheckInAnswer, CheckInAnswer.person_id == Person.id)
            .order_by(CheckInAnswer.id)
        ).all()
    return [(user, outcome) for user, outcome in rows]


def checkins(slack: SlackWorld) -> list[CheckIn]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(CheckIn).order_by(CheckIn.sequence)))


def submit_note(slack: SlackWorld, user: str, callback_id: str, block_id: str, note: str) -> None:
    """Submit the modal the bot last opened for `user`."""
    [opened] = [
        c.args["view"]
        for c in slack.fake.calls_to("views.open")
        if c.args["view"]["callback_id"] == callback_id
    ]
    payload = view_submission_payload(
        user, callback_id, {block_id: {"value": note}}, opened["private_metadata"]
    )
    status, _, _ = slack.sender.interact(payload)
    assert status == 200
    slack.settle()


# --- the DMs ---------------------------------------------------------------------------------
def test_checkin_dms_reach_the_head_and_the_supporter(slack: SlackWorld, asked: int) -> None:
    for user in ("UHEAD1", SUPPORTER):
        dm = checkin_dm(slack, user)
        assert action_ids(dm["blocks"])[:4] == [
            "checkin_on_track",
            "checkin_needs_attention",
            "checkin_completed",
            "checkin_snooze",
        ]
        assert button_value(dm["blocks"], "checkin_on_track") == str(asked)
        assert "How is the support going?" in texts(dm["blocks"])


def test_on_track_is_recorded_and_both_dms_update_in_place(slack: SlackWorld, asked: int) -> None:
    before = {user: checkin_dm(slack, user) for user in ("UHEAD1", SUPPORTER)}
    press(slack, SUPPORTER, "checkin_on_track")
    assert answers(slack) == [(SUPPORTER, "on_track")]
    assert checkins(slack)[0].status == "answered"
    updates = slack.fake.calls_to("chat.update")
    assert {(c.args["channel"], c.args["ts"]) for c in updates} == {
        (f"D{user[1:]}", before[user]["ts"]) for user in before
    }
    sam, head = checkin_dm(slack, SUPPORTER), checkin_dm(slack, "UHEAD1")
    assert sam["ts"] == before[SUPPORTER]["ts"] and sam.get("edited")
    assert "On track* — you (supporter)" in texts(sam["blocks"])
    assert "checkin_on_track" not in action_ids(sam["blocks"])
    # The head can still add their own view, but there is nothing left to snooze.
    assert "On track* — Sam Specialist (supporter)" in texts(head["blocks"])
    assert "checkin_on_track" in action_ids(head["blocks"])
    assert "checkin_snooze" not in action_ids(head["blocks"])
    assert "Next check-in: Monday 14 December, 09:30." in texts(head["blocks"])


def test_needs_attention_asks_for_a_note_and_alerts_coordinators(
    slack: SlackWorld, asked: int
) -> None:
    press(slack, "UHEAD1", "checkin_needs_attention")
    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok and opened.args["view"]["callback_id"] == "checkin_needs_attention"
    assert answers(slack) == [], "nothing is recorded until the note is sent"
    submit_note(
        slack,
        "UHEAD1",
        "checkin_needs_attention",
        "note",
        "Visits keep being cancelled <@UCOORD> & we're worried",
    )
    assert answers(slack) == [("UHEAD1", "needs_attention")]
    [alert] = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL
    ]
    shown = texts(alert["blocks"])
    assert "needs attention" in shown
    assert "Visits keep being cancelled &lt;@UCOORD&gt; &amp; we're worried" in shown
    assert "Hannah Head (head)" in shown and "<@USLE1>" in shown
    assert "Needs attention* — you (head)" in texts(checkin_dm(slack, "UHEAD1")["blocks"])


def test_completed_asks_for_impact_closes_the_support_and_frees_the_supporter(
    slack: SlackWorld, asked: int
) -> None:
    press(slack, SUPPORTER, "checkin_completed")
    [opened] = slack.fake.calls_to("views.open")
    assert opened.args["view"]["callback_id"] == "checkin_completed"
    submit_note(
        slack,
        SUPPORTER,
        "checkin_completed",
        "impact",
        "All six EHCP reviews done; the new SENCO leads them confidently.",
    )
    with slack.runtime.sessions() as session:
        deployment = session.exec(select(Deployment)).one()
        request = session.get(SupportRequest, deployment.request_id)
        [sam] = [c for c in load_candidates(session) if c.user_id == SUPPORTER]
    assert deployment.status == "completed" and request.status == "closed"
    assert request.impact_note.startswith("All six EHCP reviews done")
    assert sam.active_deployments == 0
    assert [c.status for c in checkins(slack)] == ["answered", "cancelled"]
    for user in ("UHEAD1", SUPPORTER):
        dm = checkin_dm(slack, user)
        assert "This support has been completed" in texts(dm["blocks"])
        assert "checkin_on_track" not in action_ids(dm["blocks"])
    [notice] = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL
    ]
    assert "All six EHCP reviews done" in texts(notice["blocks"])
    # The head's click on the old DM is now stale: polite, and nothing changes.
    click(
        slack,
        "UHEAD1",
        "checkin_on_track",
        str(asked),
        message=slack.fake.messages("UHEAD1")[-1],
    )
    assert any("marked completed" in text for text in ephemerals(slack, "UHEAD1"))
    assert answers(slack) == [(SUPPORTER, "completed")]


SNOOZED_WORDS = "Thank you: snoozed for a week. The next is on Monday 7 December, 09:30."


def test_snooze_asks_again_a_week_later(slack: SlackWorld, asked: int) -> None:
    press(slack, "UHEAD1", "checkin_snooze")
    assert answers(slack) == [("UHEAD1", "snoozed")]
    first, second = checkins(slack)
    assert first.status == "answered"
    assert second.due_at.isoformat() == "2026-12-07T09:30:00+00:00"
    assert "Snoozed for a week* — you (head)" in texts(checkin_dm(slack, "UHEAD1")["blocks"])
    # Told when the next comes, in the core's words (Teams says the same).
    assert ephemerals(slack, "UHEAD1") == [SNOOZED_WORDS]
    slack.clock.set(second.due_at)
    run_due(slack.runtime)
    slack.settle()
    assert checkins(slack)[1].status == "sent"


def test_the_frequency_menu_changes_the_cadence_and_pauses_and_resumes(
    slack: SlackWorld, asked: int
) -> None:
    choose(slack, "UHEAD1", f"{asked}:7")
    with slack.runtime.sessions() as session:
        assert session.exec(select(Deployment)).one().checkin_every_days == 7
    assert checkins(slack)[1].due_at.isoformat() == "2026-12-07T09:30:00+00:00"
    assert any("now weekly" in text for text in ephemerals(slack, "UHEAD1"))

    choose(slack, SUPPORTER, f"{asked}:pause")
    with slack.runtime.sessions() as session:
        assert session.exec(select(Deployment)).one().checkins_paused
    assert [c.status for c in checkins(slack)] == ["cancelled", "cancelled"]
    dm = checkin_dm(slack, SUPPORTER)
    assert "checkin_resume" in action_ids(dm["blocks"])
    assert "checkin_on_track" not in action_ids(dm["blocks"])

    press(slack, "UHEAD1", "checkin_resume")
    with slack.runtime.sessions() as session:
        assert not session.exec(select(Deployment)).one().checkins_paused
    third = checkins(slack)[2]
    assert third.status == "scheduled"
    assert third.due_at.isoformat() == "2026-12-07T09:30:00+00:00"  # weekly from today
    assert any("back on" in text for text in ephemerals(slack, "UHEAD1"))
    with slack.runtime.sessions() as session:
        actions = [
            a.action
            for a in session.exec(select(AuditEntry).where(AuditEntry.subject_type == "deployment"))
        ]
    assert actions[-3:] == [
        "deployment.cadence_changed",
        "deployment.checkins_paused",
        "deployment.checkins_resumed",
    ]


def test_someone_not_involved_is_refused_and_the_refusal_audited(
    slack: SlackWorld, asked: int
) -> None:
    for action_id in ("checkin_on_track", "checkin_completed", "checkin_snooze"):
        click(slack, "UHEAD2", action_id, str(asked))
    click(slack, "UHEAD2", "checkin_cadence", f"{asked}:pause", action_type="static_select")
    assert answers(slack) == []
    assert slack.fake.calls_to("views.open") == []
    refusals = ephemerals(slack, "UHEAD2")
    assert len(refusals) == 4 and all("only they can" in text for text in refusals)
    with slack.runtime.sessions() as session:
        audited = session.exec(
            select(AuditEntry).where(AuditEntry.action.like("checkin.%.refused"))
        ).all()
        assert not session.exec(select(Deployment)).one().checkins_paused
    assert {(a.actor, a.subject_type, a.subject_id) for a in audited} == {
        ("UHEAD2", "checkin", str(asked))
    }
    assert len(audited) == 4


def test_answering_twice_is_a_polite_no_op(slack: SlackWorld, asked: int) -> None:
    press(slack, "UHEAD1", "checkin_on_track")
    dm = slack.fake.messages("UHEAD1")[-1]
    click(slack, "UHEAD1", "checkin_on_track", str(asked), message=dm)
    click(slack, "UHEAD1", "checkin_needs_attention", str(asked), message=dm)
    assert answers(slack) == [("UHEAD1", "on_track")]
    assert slack.fake.calls_to("views.open") == []
    assert sum("already answered" in text for text in ephemerals(slack, "UHEAD1")) == 2


def test_a_note_for_support_that_closed_meanwhile_is_not_saved(
    slack: SlackWorld, asked: int
) -> None:
    press(slack, "UHEAD1", "checkin_needs_attention")
    press(slack, SUPPORTER, "checkin_completed")
    submit_note(slack, SUPPORTER, "checkin_completed", "impact", "Done and dusted.")
    submit_note(slack, "UHEAD1", "checkin_needs_attention", "note", "Too late to say this")
    assert answers(slack) == [(SUPPORTER, "completed")]
    alerts = [
        c.args["text"]
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL
    ]
    assert not any("needs attention" in text for text in alerts)


def test_after_two_missed_rounds_stop_pauses_the_checkins(slack: SlackWorld, asked: int) -> None:
    for due in ("2026-12-14T09:30:00+00:00", "2026-12-29T09:30:00+00:00"):
        next_one = checkins(slack)[-1]
        assert next_one.due_at.isoformat() == due
        slack.clock.set(next_one.due_at)
        run_due(slack.runtime)
        slack.settle()
    dm = checkin_dm(slack, SUPPORTER)
    assert "Still want these?" in texts(dm["blocks"])
    stop = next(
        e
        for b in dm["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e.get("action_id") == "checkin_stop"
    )
    assert stop["confirm"]["confirm"]["text"] == "Stop them"
    press(slack, SUPPORTER, "checkin_stop")
    with slack.runtime.sessions() as session:
        assert session.exec(select(Deployment)).one().checkins_paused
    assert [c.status for c in checkins(slack)] == ["missed", "missed", "cancelled", "cancelled"]
    assert "checkin_resume" in action_ids(checkin_dm(slack, SUPPORTER)["blocks"])


def test_cadence_values_that_are_not_offered_are_refused(slack: SlackWorld, asked: int) -> None:
    choose(slack, "UHEAD1", f"{asked}:0")
    choose(slack, "UHEAD1", f"{asked}:weekly")
    with slack.runtime.sessions() as session:
        assert session.exec(select(Deployment)).one().checkin_every_days is None
    assert len(ephemerals(slack, "UHEAD1")) == 2


def test_a_double_click_records_one_answer(slack: SlackWorld, asked: int) -> None:
    dm = checkin_dm(slack, "UHEAD1")
    payloads = [
        block_actions_payload("UHEAD1", "checkin_on_track", str(asked), message=dm)
        for _ in range(2)
    ]
    threads = [threading.Thread(target=slack.sender.interact, args=(p,)) for p in payloads]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    slack.settle()
    assert answers(slack) == [("UHEAD1", "on_track")]
    assert [text for text in ephemerals(slack, "UHEAD1") if "already answered" in text] != []
    with slack.runtime.sessions() as session:
        recorded = session.exec(
            select(AuditEntry).where(AuditEntry.action == "checkin.answered")
        ).all()
    assert len(recorded) == 1
