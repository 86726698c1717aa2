"""The message shortcut's listener, called as Bolt calls it."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import MagicMock

import pytest

from bot.entry.runtime import Runtime
from handlers.slack.listeners.shortcuts import request_from_message
from tests.handlers.slack.listeners.conftest import HEAD, Ack


def _shortcut(channel: str, name: str) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": "request_support_from_message",
        "trigger_id": "trigger-1",
        "user": {"id": HEAD},
        "channel": {"id": channel, "name": name},
        "message": {"ts": "1700000000.000200", "text": "We need a maths lead for spring"},
    }


def test_on_shortcut_opens_the_form_from_the_message(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    shortcut = {
        "type": "message_action",
        "callback_id": "request_support_from_message",
        "trigger_id": "trigger-1",
        "user": {"id": HEAD},
        "channel": {"id": "C0STAFF", "name": "staffroom"},
        "message": {"ts": "1700000000.000200", "text": "We need a maths lead for spring"},
    }
    request_from_message.on_shortcut(ctx, ack=ack, shortcut=shortcut, client=client)
    assert ack.once == {}
    view = client.views_open.call_args.kwargs["view"]
    assert "We need a maths lead for spring" in str(view)
    metadata = json.loads(view["private_metadata"])
    assert metadata["source"] == "shortcut"
    assert metadata["message_ts"] == "1700000000.000200"


def test_on_shortcut_opens_the_form_private_until_slack_confirms_a_public_channel(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    client.views_open.return_value = {"view": {"id": "V1", "hash": "h1"}}
    client.conversations_info.return_value = {
        "channel": {"id": "C0STAFF", "is_channel": True, "is_private": False}
    }
    request_from_message.on_shortcut(
        ctx, ack=ack, shortcut=_shortcut("C0STAFF", "staffroom"), client=client
    )
    opened = json.loads(client.views_open.call_args.kwargs["view"]["private_metadata"])
    assert opened["private"] is True
    client.conversations_info.assert_called_once_with(channel="C0STAFF")
    update = client.views_update.call_args.kwargs
    assert (update["view_id"], update["hash"]) == ("V1", "h1")
    assert "private" not in json.loads(update["view"]["private_metadata"])


@pytest.mark.parametrize(
    "answer",
    [
        {"channel": {"id": "C0SLT", "is_channel": True, "is_private": True}},
        {"channel": {"id": "C0SLT", "is_channel": True}},
        {"channel": None},
        {},
    ],
)
def test_on_shortcut_keeps_the_form_private_without_slack_s_word(
    ctx: Runtime, ack: Ack, client: MagicMock, answer: dict[str, Any]
) -> None:
    client.views_open.return_value = {"view": {"id": "V1", "hash": "h1"}}
    client.conversations_info.return_value = answer
    request_from_message.on_shortcut(
        ctx, ack=ack, shortcut=_shortcut("C0SLT", "slt"), client=client
    )
    assert '"private": true' in client.views_open.call_args.kwargs["view"]["private_metadata"]
    client.views_update.assert_not_called()


def test_on_shortcut_in_a_dm_asks_slack_nothing(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    request_from_message.on_shortcut(
        ctx, ack=ack, shortcut=_shortcut("D0DM", "directmessage"), client=client
    )
    assert '"private": true' in client.views_open.call_args.kwargs["view"]["private_metadata"]
    client.conversations_info.assert_not_called()
