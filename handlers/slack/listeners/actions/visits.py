"""Buttons on open-classroom DMs and the Home tab: host or not, pick the date, was it useful."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import NotFound
from bot.visits.booking import check_may_pick_date, record_usefulness
from bot.visits.cancelling import cancel_visit
from bot.visits.hosting import accept_visit_offer, decline_visit_offer
from bot.visits.messages import ACCEPT, CANCEL, DECLINE, PICK_DATE, USEFUL
from handlers.slack.blocks.visits import date_modal
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import (
    action_value,
    friendly_errors,
    int_value,
    tell,
    user_id_of,
)
from handlers.slack.listeners.events.home import refresh_if_from_home


def _id(raw: str, what: str) -> int:
    value = int_value(raw)
    if value is None:
        raise NotFound(
            f"That button doesn't point at {'an' if what[0] in 'aeiou' else 'a'} {what} I know."
        )
    return value


def _save(ctx: SlackContext, ack: Ack, work: Callable[[Session], Any]) -> None:
    """One unit of work (once more if a double click raced it), then the ack: a 200 is a
    promise that the click is saved."""
    unit_of_work(ctx, work, then_ack=ack, retry_on_conflict=True)


def on_accept(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Host this visit* (in a DM or on the Home tab): the first accept wins; acknowledged
    once saved; a Home tab is published again to show it."""
    with friendly_errors(ctx, body, ack):
        offer_id = _id(action_value(body), "visit offer")
        _save(
            ctx,
            ack,
            lambda session: accept_visit_offer(
                session, ctx.context(), actor=user_id_of(body), offer_id=offer_id
            ),
        )
    refresh_if_from_home(ctx, body)


def on_decline(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Not this time*: acknowledged once saved."""
    with friendly_errors(ctx, body, ack):
        offer_id = _id(action_value(body), "visit offer")
        _save(
            ctx,
            ack,
            lambda session: decline_visit_offer(
                session, ctx.context(), actor=user_id_of(body), offer_id=offer_id
            ),
        )


def on_pick_date(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Pick a date*: open the date picker (opening changes nothing, so ack first)."""
    ack()
    with friendly_errors(ctx, body):
        visit_id = _id(action_value(body), "visit")
        initial = unit_of_work(
            ctx,
            lambda session: check_may_pick_date(
                session, ctx.context(), actor=user_id_of(body), visit_id=visit_id
            ),
        )
        client.views_open(trigger_id=body["trigger_id"], view=date_modal(visit_id, initial))


def on_useful(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Very useful* / *Somewhat useful* / *Not really*: saved, then acknowledged."""
    with friendly_errors(ctx, body, ack):
        raw_id, _, answer = action_value(body).partition(":")
        visit_id = _id(raw_id, "visit")
        _save(
            ctx,
            ack,
            lambda session: record_usefulness(
                session, ctx.context(), actor=user_id_of(body), visit_id=visit_id, usefulness=answer
            ),
        )


def on_cancel(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Cancel the visit* (after Slack's confirmation): saved with its reply, then acknowledged."""
    with friendly_errors(ctx, body, ack):
        visit_id = _id(action_value(body), "visit")

        def cancel(session: Session) -> None:
            done = cancel_visit(session, ctx.context(), actor=user_id_of(body), visit_id=visit_id)
            tell(ctx, body, done, session=session)

        _save(ctx, ack, cancel)


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the open-classroom buttons."""
    app.action(ACCEPT)(partial(on_accept, ctx))
    app.action(DECLINE)(partial(on_decline, ctx))
    app.action(PICK_DATE)(partial(on_pick_date, ctx))
    app.action(CANCEL)(partial(on_cancel, ctx))
    app.action(re.compile(f"^{USEFUL}_"))(partial(on_useful, ctx))
