"""Slash-command listeners (`/support`)."""

from __future__ import annotations

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.listeners.commands import support


def register(app: App, ctx: SlackContext) -> None:
    """Register every slash-command listener."""
    support.register(app, ctx)
