"""A message that began with "visit" (without the colon) was kept as a request, unsent, and
its author asked whether they meant a visit; *Visit a school* makes it one: the same words
(less "visit") asked of host schools, and the request set aside."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.errors import Conflict, NotAllowed
from bot.core.messages import Card
from bot.directory.people import person_by_user_id
from bot.outbox.owing import owe_update
from bot.requests.intake import card_ref, get_request
from bot.visits.service import ask_to_visit, visit_draft
from storage.models import CANCELLED, OPEN, SupportRequest, VisitRequest

VISIT_WORD = re.compile(r"^\s*visit\b[\s:,-]*", re.IGNORECASE)


def visit_source_key(request_id: int) -> str:
    """The source key of the visit asked instead of request `request_id` (asked once)."""
    return f"visit:request:{request_id}"


def visit_instead(session: Session, ctx: ServiceContext, *, actor: str, request_id: int) -> str:
    """Ask to visit with the unsent request's words, set the request aside and say so on its
    card; only its author can, and only before it has gone out."""
    request = get_request(session, request_id, for_update=True)
    person = person_by_user_id(session, actor)
    if person is None or person.id != request.requester_id:
        raise NotAllowed(
            "Only the person who wrote this can ask to visit with it.",
            action="request.visit_instead",
            subject_type="request",
            subject_id=request_id,
        )
    key = visit_source_key(request_id)
    if request.status != OPEN:
        asked = session.exec(select(VisitRequest.id).where(VisitRequest.source_key == key))
        if asked.first() is not None:
            return "You've asked to visit already: I've told you where it went."
        raise Conflict("This request has already gone ahead, so it can't become a visit now.")
    words = VISIT_WORD.sub("", request.description, count=1)
    visit = ask_to_visit(
        session, ctx, actor=actor, draft=visit_draft(words, ctx.vocabulary), source_key=key
    )
    _set_aside(session, ctx, request, visit.id, actor=actor)
    return "Thank you: I've asked schools that open their classrooms, and told you where it went."


def _set_aside(
    session: Session, ctx: ServiceContext, request: SupportRequest, visit_id: int, *, actor: str
) -> None:
    """The request made way for the visit: closed unsent, audited, its card saying why."""
    request_id = request.id or 0
    request.status = CANCELLED
    request.closed_at = request.updated_at = ctx.now
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="request.visit_instead",
        subject_type="request",
        subject_id=request_id,
        visit=visit_id,
    )
    said = (
        f"You asked to visit a school instead (visit #{visit_id}): nothing was sent as a request."
    )
    owe_update(session, now=ctx.now, update_of=card_ref(request_id), text=said, view=Card((said,)))
