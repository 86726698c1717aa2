"""Team deployments on Teams: the lead supporter's team form (colleagues of their own school,
an aspiring leader to shadow) and the shadow invitation's choice, with the same core steps as
Slack's (`handlers/slack/listeners/{actions,views}/teamwork.py`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.core.errors import Conflict
from bot.teamwork.flows import TEAM_ACTION, add_to_team, choose_shadow, decline_shadow
from bot.teamwork.service import team_form
from handlers.teams.cards import Element
from handlers.teams.cards.forms import TEAM_SAVE, again_buttons, saved_card, team_card
from handlers.teams.cards.render import SHADOW_DECLINE, SHADOW_PICK
from handlers.teams.context import TeamsContext
from handlers.teams.listeners.lifecycle import Step
from handlers.teams.listeners.values import choices_of, target, text_of


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


TEAM_STEPS: dict[str, Step] = {
    TEAM_ACTION: open_team,
    TEAM_SAVE: add,
    SHADOW_PICK: pick_shadow,
    SHADOW_DECLINE: no_shadow,
}
