"""Buttons on offers and deployments: accept, decline, suggest a colleague, release, assign."""

from __future__ import annotations

import json
import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import NotFound
from bot.routing.flows import check_may_assign, offered_request_in_full
from bot.routing.service import (
    accept_offer,
    offer_for_supporter,
    release_deployment,
    suggest_colleague,
)
from handlers.slack.blocks.offers import assign_modal, decline_modal
from handlers.slack.blocks.requests import full_request_modal
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import (
    action_value,
    first_action,
    friendly_errors,
    int_value,
    tell,
    user_id_of,
)
from handlers.slack.listeners.events.home import refresh_if_from_home

SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")  # it goes into a <@…> mention


RELEASED = "Thanks for letting me know. I'm finding someone else for the school."


def _id(body: dict[str, Any], what: str) -> int:
    value = int_value(action_value(body))
    if value is None:
        raise NotFound(
            f"That button doesn't point at {'an' if what[0] in 'aeiou' else 'a'} {what} I know."
        )
    return value


def on_accept(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Accept*: the first accept wins; acknowledged once the deployment is committed."""
    with friendly_errors(ctx, body, ack):
        offer_id = _id(body, "offer")
        unit_of_work(
            ctx,
            lambda session: accept_offer(
                session, ctx.context(), actor=user_id_of(body), offer_id=offer_id
            ),
            then_ack=ack,
        )
    refresh_if_from_home(ctx, body)


def on_decline(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Decline*: open the form asking why (acknowledged first: it changes nothing)."""
    ack()
    with friendly_errors(ctx, body):
        offer_id = _id(body, "offer")
        unit_of_work(ctx, lambda session: offer_for_supporter(session, offer_id, user_id_of(body)))
        client.views_open(trigger_id=body["trigger_id"], view=decline_modal(offer_id))


def on_suggest(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Suggest a colleague*: offer the request to them too, and tell the supporter."""
    with friendly_errors(ctx, body, ack):
        action = first_action(body)
        block_id = str(action.get("block_id") or "")
        offer_id = int_value(block_id.partition(":")[2])
        colleague = action.get("selected_user")
        if offer_id is None or not SLACK_USER_ID.fullmatch(str(colleague or "")):
            raise NotFound("I couldn't tell which offer or colleague that was.")

        def suggest(session: Session) -> None:
            reply = suggest_colleague(
                session,
                ctx.context(),
                actor=user_id_of(body),
                offer_id=offer_id,
                colleague=str(colleague),
            )
            tell(ctx, body, reply, session=session)  # owed with the change itself

        unit_of_work(ctx, suggest, then_ack=ack)


def on_show_full(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Show in full* on an offer: the whole request, the school only when it may be shown."""
    ack()
    with friendly_errors(ctx, body):
        offer_id = _id(body, "offer")
        summary, show_school = unit_of_work(
            ctx,
            lambda session: offered_request_in_full(
                session, ctx.context(), actor=user_id_of(body), offer_id=offer_id
            ),
        )
        client.views_open(
            trigger_id=body["trigger_id"],
            view=full_request_modal(summary, show_school=show_school),
        )


def on_release(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Release*: the supporter steps back; the request is routed again."""
    with friendly_errors(ctx, body, ack):
        deployment_id = _id(body, "deployment")

        def release(session: Session) -> None:
            release_deployment(
                session, ctx.context(), actor=user_id_of(body), deployment_id=deployment_id
            )
            tell(ctx, body, RELEASED, session=session)  # owed with the change itself

        unit_of_work(ctx, release, then_ack=ack)


def on_assign(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Assign*: open the coordinator's assign form (acknowledged first: it changes nothing)."""
    ack()
    with friendly_errors(ctx, body):
        request_id = _id(body, "request")
        unit_of_work(
            ctx,
            lambda session: check_may_assign(
                session, actor=user_id_of(body), request_id=request_id
            ),
        )
        client.views_open(
            trigger_id=body["trigger_id"],
            view=assign_modal(request_id, json.dumps({"request_id": request_id})),
        )


def register(app: App, ctx: SlackContext) -> None:
    """Listen to offer and deployment buttons."""
    app.action("offer_accept")(partial(on_accept, ctx))
    app.action("offer_decline")(partial(on_decline, ctx))
    app.action("offer_suggest")(partial(on_suggest, ctx))
    app.action("offer_show_full")(partial(on_show_full, ctx))
    app.action("deployment_release")(partial(on_release, ctx))
    app.action("request_assign")(partial(on_assign, ctx))
