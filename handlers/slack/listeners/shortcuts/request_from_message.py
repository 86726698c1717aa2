"""The message shortcut "Request support from this message" opens the pre-filled modal."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.entry.runtime import Runtime
from handlers.slack.listeners.commands.support import asked_privately, open_request_modal
from handlers.slack.manifest import SHORTCUT_CALLBACK_ID


def register(app: App, runtime: Runtime) -> None:
    """Listen to the message shortcut."""

    @app.shortcut(SHORTCUT_CALLBACK_ID)
    def on_shortcut(ack: Ack, shortcut: dict[str, Any], client: WebClient) -> None:
        ack()
        message = shortcut.get("message") or {}
        channel = (shortcut.get("channel") or {}).get("id")
        name = (shortcut.get("channel") or {}).get("name")
        private = asked_privately(channel, name, runtime.settings.support_channel_id)
        open_request_modal(
            runtime,
            client,
            trigger_id=shortcut["trigger_id"],
            user=shortcut["user"]["id"],
            text=message.get("text") or "",
            source="shortcut",
            extra={
                "channel": channel,
                "message_ts": message.get("ts"),
                **({"private": True} if private else {}),
            },
        )
