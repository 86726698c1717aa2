"""Buttons on the Home tab: "Ask for support" and the supporter's away switch."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.errors import NotFound
from bot.entry.runtime import Runtime
from bot.home.service import set_availability
from handlers.slack.blocks.home import ASK_ACTION, AVAILABILITY_ACTION, AVAILABLE, AWAY
from handlers.slack.listeners.commands.support import open_request_modal
from handlers.slack.listeners.common import (
    action_value,
    commit_then_ack,
    friendly_errors,
    user_id_of,
)
from handlers.slack.listeners.events.home import publish_home


def register(app: App, runtime: Runtime) -> None:
    """Listen to the Home tab's own buttons."""

    @app.action(ASK_ACTION)
    def on_ask(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with friendly_errors(runtime, body):
            open_request_modal(
                runtime,
                client,
                trigger_id=body["trigger_id"],
                user=user_id_of(body),
                text="",
                source="home",
            )

    @app.action(AVAILABILITY_ACTION)
    def on_availability(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        user = user_id_of(body)
        with friendly_errors(runtime, body, ack):
            value = action_value(body)
            if value not in (AWAY, AVAILABLE):
                raise NotFound("That button doesn't say whether you're away or available.")
            commit_then_ack(
                runtime,
                ack,
                lambda session: set_availability(
                    session, now=runtime.clock.now(), actor=user, available=value == AVAILABLE
                ),
            )
            publish_home(runtime, client, user)
