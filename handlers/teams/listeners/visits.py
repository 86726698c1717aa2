"""Open classrooms on Teams: hosting a visit or not, the host's date (a form unfolded on the
card), "was it useful?", calling a visit off, asking to visit with `visit: …` in a chat, and
*Visit a school* on the question asked when a message began with "visit" without the colon.
The same core steps as Slack's (`handlers/slack/listeners/{actions,views}/visits.py`)."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from bot.core.context import ServiceContext
from bot.core.errors import InvalidInput
from bot.requests.intake import VISIT_INSTEAD
from bot.visits.booking import book_visit, record_usefulness
from bot.visits.cancelling import cancel_visit
from bot.visits.hosting import accept_visit_offer, decline_visit_offer
from bot.visits.instead import visit_instead
from bot.visits.messages import ACCEPT, CANCEL, DECLINE, PICK_DATE, USEFUL
from bot.visits.service import ask_to_visit, visit_draft
from bot.visits.views import USEFULNESS_LABELS
from handlers.teams.context import TeamsContext
from handlers.teams.listeners.lifecycle import Step
from handlers.teams.listeners.values import date_of, target

log = logging.getLogger(__name__)

NO_AREA = (
    "I couldn't tell which area of practice you'd like to see. Name it, for example "
    "*visit: phonics teaching in Reception*."
)
USAGE = (
    "Tell me what you'd like to see after *visit:*, for example *visit: mastery maths "
    "teaching in Year 4*, and I'll ask schools that open their classrooms."
)


def host(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Host this visit*: the first accept wins; the card then asks for the date."""
    offer_id, _rest = target(value, "visit offer")
    accept_visit_offer(session, ctx.services.context(), actor=actor, offer_id=offer_id)
    return "Thank you: you're hosting this visit. Pick a school day on the card."


def decline(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Not this time*."""
    offer_id, _rest = target(value, "visit offer")
    return decline_visit_offer(session, ctx.services.context(), actor=actor, offer_id=offer_id)


def pick_date(
    session: Session, ctx: TeamsContext, actor: str, value: str, data: dict[str, Any]
) -> str:
    """*Book this day* under *Pick a date*: a school day, with room at the host school."""
    visit_id, _ = target(value, "visit")
    day = date_of(data, "date")
    return book_visit(session, ctx.services.context(), actor=actor, visit_id=visit_id, day=day)


def useful(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Very useful* / *Somewhat useful* / *Not really* (a second click changes it)."""
    visit_id, answer = target(value, "visit")
    return record_usefulness(
        session, ctx.services.context(), actor=actor, visit_id=visit_id, usefulness=answer
    )


def cancel(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Cancel the visit* (the visitor or a coordinator)."""
    visit_id, _rest = target(value, "visit")
    return cancel_visit(session, ctx.services.context(), actor=actor, visit_id=visit_id)


def instead(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Visit a school* on the question asked of a request that began with "visit"."""
    request_id, _rest = target(value)
    try:
        return visit_instead(session, ctx.services.context(), actor=actor, request_id=request_id)
    except InvalidInput as exc:
        if "areas" not in exc.errors:
            raise
        raise InvalidInput({"areas": NO_AREA}) from None


VISIT_STEPS: dict[str, Step] = {
    ACCEPT: host,
    DECLINE: decline,
    PICK_DATE: pick_date,
    CANCEL: cancel,
    VISIT_INSTEAD: instead,
    **{f"{USEFUL}_{answer}": useful for answer in USEFULNESS_LABELS},
}


def visit_reply(session: Session, ctx: ServiceContext, *, actor: str, rest: str, key: str) -> str:
    """`visit: <what you'd like to see>`: asked once per message (`key`), offered to hosts;
    "" once asked (the core tells the visitor), else how to ask."""
    if not rest.strip():
        return USAGE
    draft = visit_draft(rest, ctx.vocabulary)
    try:
        summary = ask_to_visit(session, ctx, actor=actor, draft=draft, source_key=key)
    except InvalidInput as exc:
        if "areas" not in exc.errors:
            raise
        raise InvalidInput({"areas": NO_AREA}) from None
    log.info("Teams visit %s asked by %s", summary.id, actor)
    return ""  # the core has told the visitor where it went, with *Cancel the visit*
