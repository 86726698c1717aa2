"""Buttons on the Home tab: "Ask for support", the supporter's away switch and a
coordinator's "Audit trail" of a request."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import NotFound
from bot.home.service import set_availability
from handlers.slack.blocks.audit import AUDIT_TRAIL_ACTION
from handlers.slack.blocks.home import ASK_ACTION, AVAILABILITY_ACTION, AVAILABLE, AWAY
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.commands.audit import open_audit_trail
from handlers.slack.listeners.commands.support import open_request_modal
from handlers.slack.listeners.common import (
    action_value,
    friendly_errors,
    int_value,
    user_id_of,
)
from handlers.slack.listeners.events.home import owe_home_page


def on_ask(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Ask for support* on the Home tab: open the request form (acknowledged first). The Home
    tab is the head's own, like their DM with the bot, so the request is kept private."""
    ack()
    with friendly_errors(ctx, body):
        open_request_modal(
            ctx,
            client,
            trigger_id=body["trigger_id"],
            user=user_id_of(body),
            text="",
            source="home",
            extra={"private": True},
        )


def on_availability(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """The away switch: saved with the Home tab showing it owed, then acknowledged."""
    user = user_id_of(body)
    with friendly_errors(ctx, body, ack):
        value = action_value(body)
        if value not in (AWAY, AVAILABLE):
            raise NotFound("That button doesn't say whether you're away or available.")

        def switch(session: Session) -> None:
            set_availability(session, now=ctx.clock.now(), actor=user, available=value == AVAILABLE)
            owe_home_page(ctx, session, user)  # the page showing the change, with the change

        unit_of_work(ctx, switch, then_ack=ack)


def on_audit_trail(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Audit trail* on a request line of a coordinator's Home tab: a modal of its entries
    (acknowledged first: it changes nothing, and the modal must open within 3 seconds)."""
    ack()
    user = user_id_of(body)
    with friendly_errors(ctx, body):
        request_id = int_value(action_value(body))
        if request_id is None:
            raise NotFound("That button doesn't point at a request I know.")
        open_audit_trail(
            ctx, client, trigger_id=body["trigger_id"], user=user, request_id=request_id
        )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the Home tab's own buttons."""
    app.action(ASK_ACTION)(partial(on_ask, ctx))
    app.action(AVAILABILITY_ACTION)(partial(on_availability, ctx))
    app.action(AUDIT_TRAIL_ACTION)(partial(on_audit_trail, ctx))
