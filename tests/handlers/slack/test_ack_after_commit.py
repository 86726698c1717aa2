"""A 200 is a promise: a click or command that changes something is acknowledged only after the
change has committed. Each change is slowed down here; when Slack hears back, it must be saved.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import select

import handlers.slack.listeners.actions.checkins as checkin_actions
import handlers.slack.listeners.actions.offers as offer_actions
import handlers.slack.listeners.actions.requests as request_actions
import handlers.slack.listeners.commands.support as support_command
from handlers.slack.stand_in.signing import block_actions_payload, message_event
from storage.models import AuditEntry, Deployment, Offer, OutboxMessage, Person, SupportRequest
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_checkins import SUPPORTER, answers, asked, checkin_dm  # noqa: F401
from tests.handlers.slack.test_routing import click, request_now
from tests.support.blockkit import button_value

SLOW = 0.4  # seconds each change takes here: far longer than answering would


def _slowed(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> None:
    real: Callable[..., Any] = getattr(module, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(SLOW)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)


def _request(slack: SlackWorld, request_id: int) -> SupportRequest:
    with slack.runtime.sessions() as session:
        request = session.get(SupportRequest, request_id)
        assert request is not None
        return request


def _captured(slack: SlackWorld) -> int:
    slack.sender.event(message_event("UHEAD1", "We need SEND help please", SUPPORT_CHANNEL))
    slack.settle()
    with slack.runtime.sessions() as session:
        return session.exec(select(SupportRequest.id)).one()


def test_find_support_is_saved_when_acknowledged(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    request_id = _captured(slack)
    _slowed(monkeypatch, request_actions, "confirm_request")
    payload = block_actions_payload(
        "UHEAD1", "request_confirm", str(request_id), channel_id=SUPPORT_CHANNEL
    )
    assert slack.sender.interact(payload)[0] == 200
    assert _request(slack, request_id).status == "offered"
    slack.settle()


def test_cancelling_is_saved_when_acknowledged(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    request_id = _captured(slack)
    _slowed(monkeypatch, request_actions, "cancel_request")
    assert click(slack, "UHEAD1", "request_cancel", str(request_id), channel_id=SUPPORT_CHANNEL)
    assert _request(slack, request_id).status == "cancelled"
    slack.settle()


def test_accepting_is_saved_when_acknowledged(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "We need help with SEND: our SENCO has left")
    with slack.runtime.sessions() as session:
        offer, supporter = session.exec(
            select(Offer, Person)
            .join(Person, Person.id == Offer.supporter_id)
            .where(Offer.request_id == request_id)
        ).first()
    _slowed(monkeypatch, offer_actions, "accept_offer")
    assert click(slack, supporter.slack_user_id, "offer_accept", str(offer.id)) == 200
    assert _request(slack, request_id).status == "accepted"
    slack.settle()


def test_an_assignment_by_command_is_saved_when_acknowledged(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "Our governors need help with governance")
    _slowed(monkeypatch, support_command, "assign_request")
    status, _, _ = slack.sender.command(
        "/support", f"assign {request_id} <@USLE2|sally>", user_id="UCOORD"
    )
    assert status == 200
    with slack.runtime.sessions() as session:
        assert session.exec(select(Deployment).where(Deployment.request_id == request_id)).all()
    slack.settle()


def test_a_refusal_is_owed_when_acknowledged(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    request_id = _captured(slack)
    _slowed(monkeypatch, request_actions, "cancel_request")
    # Someone else's request: refused, and the refusal is audited and owed before the 200.
    assert click(slack, "UHEAD2", "request_cancel", str(request_id), channel_id=SUPPORT_CHANNEL)
    assert _request(slack, request_id).status == "open"
    with slack.runtime.sessions() as session:
        refusals = session.exec(select(AuditEntry).where(AuditEntry.actor == "UHEAD2")).all()
        owed = session.exec(select(OutboxMessage).where(OutboxMessage.user == "UHEAD2")).all()
    assert [a.action for a in refusals] == ["request.cancel.refused"]
    assert len(owed) == 1
    slack.settle()


def test_a_checkin_answer_is_saved_when_acknowledged(
    slack: SlackWorld,
    asked: int,  # noqa: F811 (the fixture from test_checkins)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _slowed(monkeypatch, checkin_actions, "answer_checkin")
    dm = checkin_dm(slack, SUPPORTER)
    value = button_value(dm["blocks"], "checkin_on_track")
    payload = block_actions_payload(SUPPORTER, "checkin_on_track", value, message=dm)
    assert slack.sender.interact(payload)[0] == 200
    assert answers(slack) == [(SUPPORTER, "on_track")]
    slack.settle()


def test_pausing_checkins_and_its_reply_are_saved_when_acknowledged(
    slack: SlackWorld,
    asked: int,  # noqa: F811 (the fixture from test_checkins)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _slowed(monkeypatch, checkin_actions, "pause_checkins")
    dm = checkin_dm(slack, SUPPORTER)
    payload = block_actions_payload(
        SUPPORTER, "checkin_cadence", f"{asked}:pause", message=dm, action_type="static_select"
    )
    assert slack.sender.interact(payload)[0] == 200
    with slack.runtime.sessions() as session:
        deployment = session.exec(select(Deployment)).one()
        owed = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.user == SUPPORTER,
                OutboxMessage.method.in_(("chat.postEphemeral", "response_url")),  # type: ignore[attr-defined]
            )
        ).all()
    assert deployment.checkins_paused
    assert len(owed) == 1, "the reply is owed with the change"
    slack.settle()
