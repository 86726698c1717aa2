"""The message shortcut's listener, called as Bolt calls it."""

from __future__ import annotations

import json
from unittest.mock import MagicMock

from bot.entry.runtime import Runtime
from handlers.slack.listeners.shortcuts import request_from_message
from tests.handlers.slack.listeners.conftest import HEAD, Ack


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
