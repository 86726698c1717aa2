"""The deployment lifecycle's buttons on Teams: the first visit, the agreement and its
confirmation, a visit log from a check-in, the mid-point review, skipping a step, the closing
record and the summary. Each runs the same core step as its Slack listener
(`handlers/slack/listeners/{actions,views}/deployments.py`) with the card's input values; a
form unfolded on the card is saved by the same button id that opens Slack's modal."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlmodel import Session

from bot.deployments import views as ids
from bot.deployments.service import (
    agreement_form,
    answer_review,
    book_first_visit,
    confirm_agreement,
    draft_agreement,
    impact_form,
    log_visit,
    parse_objectives,
    record_impact,
    skip_step,
)
from bot.deployments.sharing import share_summary
from handlers.teams.cards import Element
from handlers.teams.cards.forms import (
    AGREEMENT_OPEN,
    IMPACT_SAVE,
    again_buttons,
    agreement_card,
    impact_card,
    saved_card,
)
from handlers.teams.context import TeamsContext
from handlers.teams.listeners.values import date_of, days_of, id_of, target, text_of
from storage.models import ReviewDecision

# Teams has no Home tab: the agreement is revised from the card that first asked for it.
ADJUST_ON_TEAMS = (
    "Thanks — noted: adjust. The supporter can revise the agreement with *Draft the "
    "agreement* on my first message about this support, and the head confirms it again."
)

Step = Callable[[Session, TeamsContext, str, str, dict[str, Any]], "str | Element"]


def book_visit(
    session: Session, ctx: TeamsContext, actor: str, value: str, data: dict[str, Any]
) -> str:
    """*Book the visit* under *Book first visit*: the chosen day, if it is a school day."""
    deployment_id, _ = target(value)
    on = date_of(data, "visit_on")
    return book_first_visit(
        session, ctx.services.context(), actor=actor, deployment_id=deployment_id, on=on
    )


def save_agreement(
    session: Session, ctx: TeamsContext, actor: str, value: str, data: dict[str, Any]
) -> str:
    """*Save and send to the head* under *Draft the agreement* (the supporter)."""
    deployment_id, _ = target(value)
    return draft_agreement(
        session,
        ctx.services.context(),
        actor=actor,
        deployment_id=deployment_id,
        objectives=parse_objectives(text_of(data, "objectives")),
        expected_impact=text_of(data, "impact"),
        days_committed=days_of(data, "days"),
        review_on=date_of(data, "review_on"),
    )


def open_agreement(
    session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]
) -> Element:
    """*Revise the agreement*: the card becomes the agreement form, holding the draft."""
    deployment_id, _rest = target(value)
    form = agreement_form(session, ctx.services.context(), actor=actor, deployment_id=deployment_id)
    return agreement_card(form)


def confirm(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Confirm agreement* (the head)."""
    deployment_id, _rest = target(value)
    return confirm_agreement(
        session, ctx.services.context(), actor=actor, deployment_id=deployment_id
    )


def save_visit_log(
    session: Session, ctx: TeamsContext, actor: str, value: str, data: dict[str, Any]
) -> str:
    """*Save* under *Log days and a visit note* on a check-in (value: deployment:check-in;
    one entry per person per check-in, so a double submit is refused kindly) or *Log a visit*
    on a `home` card (value: deployment; a double submit is saved once)."""
    deployment_id, rest = target(value)
    checkin_id = id_of(rest)
    days, note, visited_on = (
        days_of(data, "days"),
        text_of(data, "visit_note"),
        date_of(data, "visited_on"),
    )
    return log_visit(
        session,
        ctx.services.context(),
        actor=actor,
        deployment_id=deployment_id,
        days=days,
        note=note,
        visited_on=visited_on,
        checkin_id=checkin_id,
        form_key=_form_key(actor, data, days, note, visited_on) if checkin_id is None else None,
    )


def _form_key(
    actor: str, data: dict[str, Any], days: float | None, note: str, on: date | None
) -> str | None:
    """The same form on the same card, filled in the same way: a double submit (a check-in's
    log is kept once per person by the core; a `home` card's log is kept once by this key)."""
    card_id = text_of(data, "card_id")
    if not card_id:
        return None
    digest = hashlib.sha256(f"{actor}|{card_id}|{days}|{note}|{on}".encode()).hexdigest()
    return f"teams:{digest[:40]}"


def review(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Continue* / *Adjust* / *Close* at the mid-point review."""
    deployment_id, decision = target(value)
    reply = answer_review(
        session, ctx.services.context(), actor=actor, deployment_id=deployment_id, decision=decision
    )
    return ADJUST_ON_TEAMS if decision == ReviewDecision.ADJUST else reply


def skip(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Skip* a step (the first visit, the agreement, the review, the closing record)."""
    deployment_id, step = target(value)
    return skip_step(
        session, ctx.services.context(), actor=actor, deployment_id=deployment_id, step=step
    )


def open_impact(
    session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]
) -> Element:
    """*Rate progress* / *Add your comments*: the card becomes the closing form."""
    deployment_id, _rest = target(value)
    form = impact_form(session, ctx.services.context(), actor=actor, deployment_id=deployment_id)
    return impact_card(form)


def _by_objective(data: dict[str, Any], prefix: str) -> dict[int, str]:
    found = {}
    for key, raw in data.items():
        kind, _, objective = str(key).partition(":")
        objective_id = id_of(objective)
        if kind == prefix and objective_id is not None and isinstance(raw, str) and raw.strip():
            found[objective_id] = raw.strip()
    return found


def save_impact(
    session: Session, ctx: TeamsContext, actor: str, value: str, data: dict[str, Any]
) -> Element:
    """*Save* on the closing form: ratings and comments per objective, and overall (given
    again, they replace the earlier ones); the card says so."""
    deployment_id, _ = target(value)
    saved = record_impact(
        session,
        ctx.services.context(),
        actor=actor,
        deployment_id=deployment_id,
        ratings=_by_objective(data, "rating"),
        comments=_by_objective(data, "comment"),
        overall=text_of(data, "overall"),
    )
    return saved_card(saved, *again_buttons(deployment_id, impact=True))


def summary(session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]) -> str:
    """*Summary*: the deployment record as a card in the person's 1:1 chat with the bot."""
    deployment_id, _rest = target(value)
    return share_summary(session, ctx.services.context(), actor=actor, deployment_id=deployment_id)


STEPS: dict[str, Step] = {
    ids.BOOK_VISIT: book_visit,
    ids.DRAFT_AGREEMENT: save_agreement,
    AGREEMENT_OPEN: open_agreement,
    ids.CONFIRM_AGREEMENT: confirm,
    ids.LOG_VISIT: save_visit_log,
    ids.IMPACT: open_impact,
    IMPACT_SAVE: save_impact,
    ids.SUMMARY: summary,
    **{f"{ids.REVIEW}_{decision}": review for decision in ids.DECISION_WORDS},
    **{f"{ids.SKIP}_{step}": skip for step in ids.STEPS},
}
