"""Team deployment buttons: open the team form, remove someone (or step off), and answer
the shadow invitation."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import NotFound
from bot.teamwork.flows import TEAM_ACTION, choose_shadow, decline_shadow, remove_from_team
from bot.teamwork.service import team_form
from handlers.slack.blocks.teamwork import (
    REMOVE_ACTIONS,
    SHADOW_DECLINE_ACTION,
    SHADOW_PICK_ACTION,
    team_modal,
)
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


def _deployment_id(raw: str) -> int:
    value = int_value(raw)
    if value is None:
        raise NotFound("That button doesn't point at a deployment I know.")
    return value


def on_open_team(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Add colleagues or a shadow*: open the team form (acknowledged first: it changes
    nothing); only the lead supporter or a coordinator gets it."""
    ack()
    with friendly_errors(ctx, body):
        deployment_id = _deployment_id(action_value(body))
        form = unit_of_work(
            ctx,
            lambda session: team_form(
                session, ctx.context(), actor=user_id_of(body), deployment_id=deployment_id
            ),
        )
        client.views_open(trigger_id=body["trigger_id"], view=team_modal(form))


def on_remove(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Remove* (the lead or a coordinator) or *Step off* (the member): saved, then acked."""
    user = user_id_of(body)
    with friendly_errors(ctx, body, ack):
        raw_deployment, _, who = action_value(body).partition(":")
        deployment_id = _deployment_id(raw_deployment)
        person = user if who == "self" else who
        if not SLACK_USER_ID.fullmatch(person):
            raise NotFound("I couldn't tell who that button was about.")

        def remove(session: Session) -> None:
            reply = remove_from_team(
                session,
                ctx.context(),
                actor=user,
                deployment_id=deployment_id,
                person_slack_id=person,
            )
            tell(ctx, body, reply, session=session)  # owed with the change itself

        unit_of_work(ctx, remove, then_ack=ack)
    refresh_if_from_home(ctx, body)


def on_shadow_pick(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """A shadow chosen on the invitation DM: added (once, however often it is clicked)."""
    with friendly_errors(ctx, body, ack):
        block_id = str(first_action(body).get("block_id") or "")
        deployment_id = _deployment_id(block_id.partition(":")[2])
        shadow = action_value(body)
        if not SLACK_USER_ID.fullmatch(shadow):
            raise NotFound("I couldn't tell whom you chose.")

        def pick(session: Session) -> None:
            reply = choose_shadow(
                session,
                ctx.context(),
                actor=user_id_of(body),
                deployment_id=deployment_id,
                shadow=shadow,
            )
            tell(ctx, body, reply, session=session)

        unit_of_work(ctx, pick, then_ack=ack, retry_on_conflict=True)


def on_shadow_decline(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Not this time* on the invitation: the DM says how to add someone later."""
    with friendly_errors(ctx, body, ack):
        deployment_id = _deployment_id(action_value(body))

        def decline(session: Session) -> None:
            reply = decline_shadow(
                session, ctx.context(), actor=user_id_of(body), deployment_id=deployment_id
            )
            tell(ctx, body, reply, session=session)

        unit_of_work(ctx, decline, then_ack=ack)


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the team buttons and the shadow invitation."""
    app.action(TEAM_ACTION)(partial(on_open_team, ctx))
    app.action(REMOVE_ACTIONS)(partial(on_remove, ctx))
    app.action(SHADOW_PICK_ACTION)(partial(on_shadow_pick, ctx))
    app.action(SHADOW_DECLINE_ACTION)(partial(on_shadow_decline, ctx))
