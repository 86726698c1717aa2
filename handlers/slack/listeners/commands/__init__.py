"""Slash-command listeners (`/support`)."""

from __future__ import annotations

from slack_bolt import App

from bot.entry.runtime import Runtime
from handlers.slack.listeners.commands import support


def register(app: App, runtime: Runtime) -> None:
    """Register every slash-command listener."""
    support.register(app, runtime)
