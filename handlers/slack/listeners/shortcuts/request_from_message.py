"""The message shortcut "Request support from this message" opens the pre-filled modal."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.slack.context import SlackContext
from handlers.slack.listeners.commands.support import open_request_modal_in
from handlers.slack.manifest import SHORTCUT_CALLBACK_ID


def on_shortcut(ctx: SlackContext, ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
    """ "Request support from this message": open the request form pre-filled from it."""
    ack()
    message = shortcut.get("message") or {}
    channel = (shortcut.get("channel") or {}).get("id")
    open_request_modal_in(
        ctx,
        client,
        channel=channel,
        channel_name=(shortcut.get("channel") or {}).get("name"),
        trigger_id=shortcut["trigger_id"],
        user=shortcut["user"]["id"],
        text=message.get("text") or "",
        source="shortcut",
        extra={"channel": channel, "message_ts": message.get("ts")},
    )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the message shortcut."""
    app.shortcut(SHORTCUT_CALLBACK_ID)(partial(on_shortcut, ctx))
