"""The Teams listeners, one module per kind of activity, each exposing `register(app, ctx)`."""

from __future__ import annotations

from microsoft_teams.apps import App

from handlers.teams.context import TeamsContext
from handlers.teams.listeners import actions, extensions, install, messages


def register_listeners(app: App, ctx: TeamsContext) -> None:
    """Register every Teams listener on `app`."""
    install.register(app, ctx)
    messages.register(app, ctx)
    actions.register(app, ctx)
    extensions.register(app, ctx)
