"""Submissions of the decline-reason and assign-a-supporter modals."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import NotAllowed, UserFacingError
from bot.routing.service import assign_request, decline_offer
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import (
    audit_refusal,
    int_value,
    user_id_of,
    view_metadata,
    view_values,
)
from handlers.slack.listeners.views.requests import message_view


def on_decline(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The decline form: the offer declined with its reason, then acknowledged."""
    offer_id = int_value(str((body.get("view") or {}).get("private_metadata") or ""))
    reason = view_values(body).get("reason")
    if offer_id is None:
        ack(
            response_action="update",
            view=message_view("Not saved", "I couldn't tell which offer this was."),
        )
        return
    try:
        unit_of_work(
            ctx,
            lambda session: decline_offer(
                session,
                ctx.context(),
                actor=user_id_of(body),
                offer_id=offer_id,
                reason=reason,
            ),
            then_ack=ack,
        )
    except UserFacingError as exc:
        ack(response_action="update", view=message_view("Not declined", exc.message))
        if isinstance(exc, NotAllowed):
            audit_refusal(ctx, exc, body)


def on_assign(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The assign form: a coordinator assigns the request, then it is acknowledged."""
    request_id = int_value(str(view_metadata(body).get("request_id", "")))
    values = view_values(body)
    supporter, anyway = values.get("supporter"), "anyway" in (values.get("anyway") or [])
    if request_id is None or not supporter:
        ack(response_action="errors", errors={"supporter": "Please choose a supporter."})
        return
    try:
        unit_of_work(
            ctx,
            lambda session: assign_request(
                session,
                ctx.context(),
                actor=user_id_of(body),
                request_id=request_id,
                supporter_slack_id=str(supporter),
                anyway=anyway,
            ),
            then_ack=ack,
        )
    except UserFacingError as exc:
        ack(response_action="errors", errors={"supporter": exc.message[:150]})
        if isinstance(exc, NotAllowed):
            audit_refusal(ctx, exc, body)


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the offer-related modals."""
    app.view("offer_decline")(partial(on_decline, ctx))
    app.view("assign")(partial(on_assign, ctx))
