"""When check-ins come, from the Teams check-in card: a frequency under *How often?* (or
*Pause check-ins*), *Ask every four weeks* and *Stop check-ins* after missed rounds, and
*Resume check-ins* on a paused card. Each runs the same core function as its Slack twin
(`handlers/slack/listeners/actions/checkins.py`) with the same value, so only the head, the
lead supporter or a coordinator may; anyone else gets the core's friendly refusal."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.checkins.service import (
    LESS_OFTEN_DAYS,
    change_cadence,
    pause_checkins,
    resume_checkins,
)
from bot.core.errors import NotFound
from handlers.teams.context import TeamsContext
from handlers.teams.listeners.lifecycle import Step
from handlers.teams.listeners.values import id_of, target

CADENCE = "checkin_cadence"  # value: check-in id and a number of days, or "pause" ("12:7")
LESS_OFTEN = "checkin_less_often"  # value: check-in id
STOP = "checkin_stop"
RESUME = "checkin_resume"


def choose_cadence(
    session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]
) -> str:
    """A frequency under *How often?* (resuming paused check-ins), or *Pause check-ins*."""
    checkin_id, choice = target(value, "check-in")
    if choice == "pause":
        return pause_checkins(session, ctx.services.context(), actor=actor, checkin_id=checkin_id)
    days = id_of(choice)
    if days is None:
        raise NotFound("I don't know that choice.")
    return change_cadence(
        session, ctx.services.context(), actor=actor, checkin_id=checkin_id, days=days
    )


def less_often(
    session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]
) -> str:
    """*Ask every four weeks*: check in every LESS_OFTEN_DAYS days."""
    checkin_id, _rest = target(value, "check-in")
    return change_cadence(
        session, ctx.services.context(), actor=actor, checkin_id=checkin_id, days=LESS_OFTEN_DAYS
    )


def stop(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Stop them* under *Stop check-ins*: pause them."""
    checkin_id, _rest = target(value, "check-in")
    return pause_checkins(session, ctx.services.context(), actor=actor, checkin_id=checkin_id)


def resume(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Resume check-ins* at the deployment's cadence, counting from today."""
    checkin_id, _rest = target(value, "check-in")
    return resume_checkins(session, ctx.services.context(), actor=actor, checkin_id=checkin_id)


CHECKIN_STEPS: dict[str, Step] = {
    CADENCE: choose_cadence,
    LESS_OFTEN: less_often,
    STOP: stop,
    RESUME: resume,
}
