"""The "Ask to visit a classroom" shortcut and `/support visit`, called as Bolt calls them."""

from __future__ import annotations

from unittest.mock import MagicMock

from bot.entry.runtime import Runtime
from handlers.slack.listeners.commands import support
from handlers.slack.listeners.shortcuts import visit
from tests.handlers.slack.listeners.conftest import HEAD, Ack


def test_on_visit_shortcut_opens_the_empty_form(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    shortcut = {
        "type": "shortcut",
        "callback_id": "ask_to_visit",
        "trigger_id": "t-1",
        "user": {"id": HEAD},
    }
    visit.on_visit_shortcut(ctx, ack=ack, shortcut=shortcut, client=client)
    assert ack.once == {}
    assert client.views_open.call_args.kwargs["view"]["callback_id"] == "visit_request"


def test_support_visit_opens_the_form_with_the_words(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    command = {
        "user_id": HEAD,
        "trigger_id": "t-2",
        "text": "visit phonics in Reception",
        "channel_id": "D0DM",
    }
    support.on_support(ctx, ack=ack, command=command, client=client)
    assert ack.once == {}
    view = client.views_open.call_args.kwargs["view"]
    assert view["callback_id"] == "visit_request"
    assert "phonics in Reception" in str(view)
