"""Block-action listeners (buttons and selects)."""

from __future__ import annotations

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.listeners.actions import (
    checkins,
    deployments,
    home,
    offers,
    requests,
    teamwork,
    visits,
)


def register(app: App, ctx: SlackContext) -> None:
    """Register every action listener."""
    requests.register(app, ctx)
    offers.register(app, ctx)
    home.register(app, ctx)
    checkins.register(app, ctx)
    deployments.register(app, ctx)
    teamwork.register(app, ctx)
    visits.register(app, ctx)
