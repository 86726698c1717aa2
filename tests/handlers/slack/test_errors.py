"""The global error handler: the person is told, the log has ids, never tokens or text."""

from __future__ import annotations

import logging

import pytest

import handlers.slack.listeners.events.messages as messages
from handlers.slack.app import SORRY
from handlers.slack.stand_in.signing import block_actions_payload, message_event
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld

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
    assert apology.args["user"] == "UHEAD1" and apology.args["text"] == SORRY
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
