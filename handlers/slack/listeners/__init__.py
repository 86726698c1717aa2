"""Slack listeners, one package per kind; each exposes `register(app, ctx)`, which only wires
Slack's ids to named top-level listener functions (`partial(on_accept, ctx)`: Bolt injects the
rest by parameter name).

Listeners parse the payload, call one function in `bot/` inside `unit_of_work`, acknowledge
once what it changed is committed (a 200 is a promise; only listeners that just open a form ack
first), and render the result with the Block Kit builders in `handlers/slack/blocks/`. No SQL
and no business rules live here. Events are saved before Bolt acknowledges them
(`handlers.slack.app`), so their listeners need not hurry.
"""

from __future__ import annotations

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.listeners import actions, commands, events, options, shortcuts, views


def register_all(app: App, ctx: SlackContext) -> None:
    """Register every listener on `app`."""
    for kind in (commands, events, actions, options, views, shortcuts):
        kind.register(app, ctx)
