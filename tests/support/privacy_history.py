"""A realistic history for the data-protection tests, made through the real Slack app.

Heads post and confirm requests, supporters decline with reasons and accept, check-ins are
sent and answered with notes: the same rows and outbox messages production would hold.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld, running_world
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_event,
    view_submission_payload,
)
from storage.models import CheckIn, Deployment, Offer, OutboxMessage, Person, SupportRequest
from tests.handlers.slack.conftest import (
    COORDINATOR_CHANNEL,
    DIRECTORY,
    SIGNING_SECRET,
    SUPPORT_CHANNEL,
)

SEND_TEXT = "We need help with SEND: our SENCO has left and EHCP reviews are overdue"
MATHS_TEXT = "Could someone help with KS3 maths? Our department is struggling with algebra"
PRIYA_DECLINES = "Priya is at capacity this term with two other schools"
SAM_NOTES = "Sam notes the EHCP backlog is worse than the school described"
HANNAH_IMPACT = "Hannah says a new SENCO is in post and every EHCP review is done"
# Monday 30 November 2026, 09:35 UTC: the first check-in (09:30) is due; offers made on the
# 23rd are still open (they expire after 48 working hours, at noon).
CHECKIN_MORNING = datetime(2026, 11, 30, 9, 35, tzinfo=UTC)


@contextmanager
def slack_world(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """The bot running against the fake Slack, on `db_url`, with the test directory."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": db_url,
        "SUPPORT_CHANNEL_ID": SUPPORT_CHANNEL,
        "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
        "SCHEDULER_ENABLED": "false",
    }
    with running_world(env, clock, directory=DIRECTORY) as world:
        world.import_directory()
        yield world
    unexpected = [record.getMessage() for record in world.errors]
    assert not unexpected, f"a listener failed: {unexpected}"


def post(slack: SlackWorld, user: str, text: str, *, confirm: bool = True) -> int:
    """A head posts in the support channel (and confirms); returns the request id."""
    slack.sender.event(message_event(user, text, SUPPORT_CHANNEL))
    slack.settle()
    with slack.runtime.sessions() as session:
        request = session.exec(select(SupportRequest).order_by(SupportRequest.id.desc())).first()  # type: ignore[union-attr]
    assert request is not None and request.id is not None
    if confirm:
        click(slack, user, "request_confirm", str(request.id), channel_id=SUPPORT_CHANNEL)
    return request.id


def click(slack: SlackWorld, user: str, action: str, value: str, **kwargs: Any) -> None:
    """Someone clicks a button; wait for the bot to finish."""
    status, _, _ = slack.sender.interact(block_actions_payload(user, action, value, **kwargs))
    assert status == 200
    slack.settle()


def submit(slack: SlackWorld, user: str, callback: str, values: dict[str, Any], meta: str) -> None:
    """Someone submits a modal; wait for the bot to finish."""
    status, _, _ = slack.sender.interact(
        view_submission_payload(user, callback, values, private_metadata=meta)
    )
    assert status == 200
    slack.settle()


def slack_id(slack: SlackWorld, person_id: int) -> str:
    """The Slack user id of a directory entry."""
    with slack.runtime.sessions() as session:
        person = session.get(Person, person_id)
    assert person is not None
    return person.slack_user_id


def offer_to(slack: SlackWorld, request_id: int, user: str) -> Offer:
    """The offer of a request made to `user`."""
    with slack.runtime.sessions() as session:
        offer = session.exec(
            select(Offer)
            .join(Person, Person.id == Offer.supporter_id)  # type: ignore[arg-type]
            .where(Offer.request_id == request_id, Person.slack_user_id == user)
        ).first()
    assert offer is not None, f"{user} was not offered request #{request_id}"
    return offer


def decline(slack: SlackWorld, request_id: int, user: str, reason: str) -> None:
    """`user` declines their offer of the request, giving a reason."""
    offer = offer_to(slack, request_id, user)
    submit(slack, user, "offer_decline", {"reason": {"value": reason}}, str(offer.id))


def accept(slack: SlackWorld, request_id: int, user: str) -> None:
    """`user` accepts their offer of the request."""
    click(slack, user, "offer_accept", str(offer_to(slack, request_id, user).id))


def send_first_checkin(slack: SlackWorld, request_id: int) -> int:
    """Move to the first check-in's morning and send it; returns the check-in id."""
    slack.clock.set(CHECKIN_MORNING)
    run_due(slack.runtime)
    slack.settle()
    with slack.runtime.sessions() as session:
        checkin = session.exec(
            select(CheckIn)
            .join(Deployment, Deployment.id == CheckIn.deployment_id)  # type: ignore[arg-type]
            .where(Deployment.request_id == request_id, CheckIn.status == "sent")
        ).first()
    assert checkin is not None and checkin.id is not None
    return checkin.id


def answer(slack: SlackWorld, checkin_id: int, user: str, outcome: str, note: str = "") -> None:
    """`user` answers a check-in: on track by button, the others through their note modal."""
    if outcome == "on_track":
        click(slack, user, "checkin_on_track", str(checkin_id))
        return
    block = "impact" if outcome == "completed" else "note"
    meta = json.dumps({"checkin_id": checkin_id})
    submit(slack, user, f"checkin_{outcome}", {block: {"value": note}}, meta)


@dataclass
class History:
    """The ids of what `build_history` made."""

    send_request: int  # Hannah's: Priya declined, Sam accepted, a check-in answered
    maths_request: int  # Harry's: offered to Nadia, Sam and Sally, still open
    checkin: int


def build_history(slack: SlackWorld, *, complete: bool = False) -> History:
    """Hannah asks for SEND help (Priya declines with a reason, Sam accepts); Harry asks for
    maths help (Sam among those offered, still open); a week on, Sam answers the check-in
    with a note, and Hannah either says it is on track or, with `complete`, completes it."""
    send_request = post(slack, "UHEAD1", SEND_TEXT)
    maths_request = post(slack, "UHEAD2", MATHS_TEXT)
    decline(slack, send_request, "USPEC1", PRIYA_DECLINES)
    accept(slack, send_request, "USLE1")
    checkin = send_first_checkin(slack, send_request)
    answer(slack, checkin, "USLE1", "needs_attention", SAM_NOTES)
    if complete:
        answer(slack, checkin, "UHEAD1", "completed", HANNAH_IMPACT)
    else:
        answer(slack, checkin, "UHEAD1", "on_track")
    return History(send_request, maths_request, checkin)


def outbox(slack: SlackWorld) -> list[OutboxMessage]:
    """Every outbox row, oldest first."""
    with slack.runtime.sessions() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))  # type: ignore[arg-type]


def payload_text(message: OutboxMessage) -> str:
    """Everything a message would show, as one string."""
    return json.dumps(message.payload, ensure_ascii=False)
