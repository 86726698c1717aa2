"""The global error handler: the person is told, the log has ids, never tokens or text."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

import handlers.slack.listeners.actions.offers as offers
import handlers.slack.listeners.actions.requests as request_actions
import handlers.slack.listeners.events.messages as messages
import handlers.slack.listeners.views.requests as request_views
from handlers.slack.app import SORRY, SORRY_AFTER_ACK, SORRY_WILL_RETRY
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_event,
    view_submission_payload,
)
from storage.models import RequestStatus, SupportRequest
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_intake import request_form

SECRET_TEXT = "Mrs Example's capability case in Year 4"


def test_a_crashing_listener_apologises_and_logs_only_ids(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    slack.import_directory()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(messages, "capture_message", broken)
    caplog.set_level(logging.DEBUG)
    event = message_event("UHEAD1", f"SEND help please. {SECRET_TEXT}", SUPPORT_CHANNEL)
    assert slack.sender.event(event)[0] == 200
    slack.settle()

    [apology] = slack.fake.calls_to("chat.postEphemeral")
    # A saved event is tried again by the due work: "try again" would make two requests.
    assert apology.args["user"] == "UHEAD1" and apology.args["text"] == SORRY_WILL_RETRY
    [record] = list(slack.errors)
    assert "UHEAD1" in record.getMessage() and "RuntimeError" in record.getMessage()
    logged = "\n".join(r.getMessage() for r in caplog.records) + caplog.text
    assert SECRET_TEXT not in logged
    assert "xoxb-test-token" not in logged
    assert "test-signing-secret" not in logged and "local-signing-secret" not in logged
    slack.errors.clear()  # expected here; any other test fails on such a record


def test_a_click_on_an_unknown_button_is_not_a_crash(slack: SlackWorld) -> None:
    status, _, _ = slack.sender.interact(block_actions_payload("UHEAD1", "no_such_button", "1"))
    assert status == 404  # Bolt's answer for a request no listener handles
    slack.settle()
    assert not slack.errors


def test_a_crash_after_the_ack_does_not_say_nothing_was_changed(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(offers, "offer_for_supporter", broken)  # *Decline* acks first
    assert slack.sender.interact(block_actions_payload("USLE1", "offer_decline", "1"))[0] == 200
    slack.settle()
    told = [
        c.args.get("text")
        for c in slack.fake.calls
        if c.args.get("text") in (SORRY, SORRY_AFTER_ACK)
    ]
    assert told == [SORRY_AFTER_ACK]
    slack.errors.clear()  # expected here


def test_a_form_saved_but_not_sent_out_says_so(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()

    def busy(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    monkeypatch.setattr(request_views, "find_support_if_new", busy)
    payload = view_submission_payload(
        "UHEAD1", "request_new", request_form(), private_metadata=json.dumps({"source": "command"})
    )
    assert slack.sender.interact(payload)[0] == 200
    slack.settle()
    with slack.runtime.sessions() as session:
        [saved] = session.exec(select(SupportRequest)).all()
    assert saved.status == RequestStatus.OPEN  # saved, not yet offered: *Find support* will
    texts = [str(c.args.get("text")) for c in slack.fake.calls]
    assert request_views.not_sent_out(saved.id or 0) in texts
    assert SORRY not in texts and SORRY_AFTER_ACK not in texts
    assert not slack.errors  # logged as handled, by ids


def test_a_button_value_too_big_for_an_id_is_refused_kindly(slack: SlackWorld) -> None:
    slack.import_directory()
    payload = slack.sender.with_response_url(
        block_actions_payload("USLE1", "offer_accept", "99999999999")  # past a 32-bit column
    )
    assert slack.sender.interact(payload)[0] == 200
    slack.settle()
    assert not slack.errors
    told = [str(r.get("text")) for r in slack.fake.responses("USLE1")]
    assert "That button doesn't point at an offer I know." in told, told


def test_a_crash_just_after_the_ack_still_answers_slack_200(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bolt's runner dropped an acknowledgement when the listener failed a moment after it:
    Slack, told nothing, showed the person an error after 3 s."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded")

    monkeypatch.setattr(request_actions, "unit_of_work", broken)  # *Edit* acks first
    statuses = [
        slack.sender.interact(block_actions_payload("UHEAD1", "request_edit", "1"))[0]
        for _ in range(20)
    ]
    slack.settle()
    assert statuses == [200] * 20
    told = [
        c.args.get("text")
        for c in slack.fake.calls
        if c.args.get("text") in (SORRY, SORRY_AFTER_ACK)
    ]
    assert told == [SORRY_AFTER_ACK] * 20
    slack.errors.clear()  # expected here
