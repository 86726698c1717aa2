"""Block-action listeners (buttons and selects)."""

from __future__ import annotations

from slack_bolt import App

from bot.entry.runtime import Runtime
from handlers.slack.listeners.actions import checkins, home, offers, requests


def register(app: App, runtime: Runtime) -> None:
    """Register every action listener."""
    requests.register(app, runtime)
    offers.register(app, runtime)
    home.register(app, runtime)
    checkins.register(app, runtime)
