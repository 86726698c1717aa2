"""Shortcut listeners."""

from __future__ import annotations

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.listeners.shortcuts import request_from_message, visit


def register(app: App, ctx: SlackContext) -> None:
    """Register every shortcut listener."""
    request_from_message.register(app, ctx)
    visit.register(app, ctx)
