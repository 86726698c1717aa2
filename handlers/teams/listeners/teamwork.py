"""Team deployments on Teams: the lead supporter's team form (colleagues of their own school,
an aspiring leader to shadow), the shadow invitation's choice, and removing someone or
stepping off from the `home` cards, with the same core steps as
Slack's (`handlers/slack/listeners/{actions,views}/teamwork.py`)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from bot.core.errors import Conflict, NotFound
from bot.core.teams_settings import is_guid
from bot.reach.people import normal_user_id
from bot.teamwork.flows import (
    TEAM_ACTION,
    add_to_team,
    choose_shadow,
    decline_shadow,
    remove_from_team,
)
from bot.teamwork.service import team_form
from handlers.teams.cards import Element
from handlers.teams.cards.forms import TEAM_SAVE, again_buttons, saved_card, team_card
from handlers.teams.cards.render import SHADOW_DECLINE, SHADOW_PICK
from handlers.teams.context import TeamsContext
from handlers.teams.listeners.lifecycle import Step
from handlers.teams.listeners.values import choices_of, target, text_of

REMOVE = "team_remove"  # value: "<deployment id>:<user id>", or ":self" to step off
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")


def open_team(
    session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]
) -> Element:
    """*Add colleagues or a shadow*: the card becomes the team form (the lead or a
    coordinator only)."""
    deployment_id, _rest = target(value, "deployment")
    form = team_form(session, ctx.services.context(), actor=actor, deployment_id=deployment_id)
    return team_card(form)


def add(
    session: Session, ctx: TeamsContext, actor: str, value: str, data: dict[str, Any]
) -> Element:
    """*Add* on the team form: everyone chosen, or nobody (a problem is named)."""
    deployment_id, _ = target(value, "deployment")
    told = add_to_team(
        session,
        ctx.services.context(),
        actor=actor,
        deployment_id=deployment_id,
        colleagues=choices_of(data, "colleagues"),
        shadow=text_of(data, "shadow") or None,
    )
    return saved_card(told, *again_buttons(deployment_id, team=True))


def pick_shadow(
    session: Session, ctx: TeamsContext, actor: str, value: str, data: dict[str, Any]
) -> str:
    """*Take them along* on the shadow invitation, with the person chosen on it."""
    deployment_id, _ = target(value, "deployment")
    shadow = text_of(data, "shadow")
    if not shadow:
        raise Conflict("Please choose someone first, or press *Not this time*.")
    return choose_shadow(
        session, ctx.services.context(), actor=actor, deployment_id=deployment_id, shadow=shadow
    )


def no_shadow(
    session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]
) -> str:
    """*Not this time* on the shadow invitation."""
    deployment_id, _rest = target(value, "deployment")
    return decline_shadow(session, ctx.services.context(), actor=actor, deployment_id=deployment_id)


def remove(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Remove* someone (the lead or a coordinator) or *Step off* (value `…:self`), from the
    cards `home` sends."""
    deployment_id, who = target(value, "deployment")
    person = normal_user_id(actor) if who == "self" else who
    if not (SLACK_USER_ID.fullmatch(person) or is_guid(person)):
        raise NotFound("I couldn't tell who that button was about.")
    return remove_from_team(
        session,
        ctx.services.context(),
        actor=normal_user_id(actor),
        deployment_id=deployment_id,
        person_slack_id=person,
    )


TEAM_STEPS: dict[str, Step] = {
    REMOVE: remove,
    TEAM_ACTION: open_team,
    TEAM_SAVE: add,
    SHADOW_PICK: pick_shadow,
    SHADOW_DECLINE: no_shadow,
}
