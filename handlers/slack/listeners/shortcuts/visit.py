"""The global shortcut "Ask to visit a classroom" (and `/support visit`) open the visit form."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from handlers.slack.context import SlackContext
from handlers.slack.listeners.commands.visit import open_visit_modal
from handlers.slack.manifest import VISIT_SHORTCUT_CALLBACK_ID


def on_visit_shortcut(
    ctx: SlackContext, ack: Ack, shortcut: dict[str, Any], client: WebClient
) -> None:
    """ "Ask to visit a classroom": open the empty visit form (opening changes nothing)."""
    ack()
    open_visit_modal(ctx, client, trigger_id=shortcut["trigger_id"], text="")


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the global shortcut."""
    app.shortcut(VISIT_SHORTCUT_CALLBACK_ID)(partial(on_visit_shortcut, ctx))
