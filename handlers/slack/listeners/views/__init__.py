"""View (modal) listeners."""

from __future__ import annotations

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.listeners.views import (
    checkins,
    deployments,
    directory,
    offers,
    requests,
    teamwork,
    visits,
)


def register(app: App, ctx: SlackContext) -> None:
    """Register every view listener."""
    requests.register(app, ctx)
    offers.register(app, ctx)
    checkins.register(app, ctx)
    directory.register(app, ctx)
    deployments.register(app, ctx)
    teamwork.register(app, ctx)
    visits.register(app, ctx)
