"""Event listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.entry.runtime import Runtime
from handlers.slack.listeners.events import home, messages


def register(app: App, runtime: Runtime) -> None:
    """Register every event listener."""
    messages.register(app, runtime)
    home.register(app, runtime)
