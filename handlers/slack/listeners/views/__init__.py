"""View (modal) listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.entry.runtime import Runtime
from handlers.slack.listeners.views import checkins, directory, offers, requests


def register(app: App, runtime: Runtime) -> None:
    """Register every view listener."""
    requests.register(app, runtime)
    offers.register(app, runtime)
    checkins.register(app, runtime)
    directory.register(app, runtime)
