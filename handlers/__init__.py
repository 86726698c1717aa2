"""Slack listeners, one package per kind; each exposes `register(app, runtime)`.

Handlers parse the payload, ack first, call one function in `bot/`, and render the result
with `bot/` Block Kit builders. No SQL and no business rules live here.
"""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Runtime
from handlers import actions, commands, events, shortcuts, views


def register_all(app: App, runtime: Runtime) -> None:
    """Register every listener on `app`."""
    for kind in (commands, events, actions, views, shortcuts):
        kind.register(app, runtime)
