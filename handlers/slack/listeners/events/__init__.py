"""Event listeners."""

from __future__ import annotations

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.listeners.events import home, messages


def register(app: App, ctx: SlackContext) -> None:
    """Register every event listener."""
    messages.register(app, ctx)
    home.register(app, ctx)
