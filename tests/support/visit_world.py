"""Open classrooms for tests: a directory whose schools host visits (or not), and helpers
to ask, accept and book through the core, as the Slack listeners do."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

from sqlmodel import col, select

from bot.visits.booking import book_visit
from bot.visits.hosting import accept_visit_offer
from bot.visits.service import ask_to_visit
from bot.visits.views import VisitDraft, VisitSummary
from storage.db import transaction
from storage.models import AuditEntry, OfferStatus, Person, VisitOffer, VisitRequest
from tests.support.checkin_world import World

# Oak Hill hosts one visit a half term, Birch two; Elm (maths too) hosts none.
VISIT_DIRECTORY = (Path(__file__).parents[1] / "fixtures" / "visit_directory.csv").read_text()
MATHS_VISIT = "Our maths lead would like to see mastery teaching in Year 4"
_keys = itertools.count(1)


def ask(
    world: World, user: str = "UHEAD1", text: str = MATHS_VISIT, tags: tuple[str, ...] = ()
) -> VisitSummary:
    """`user` asks to visit (through the core, as the form's listener does)."""
    with transaction(world.runtime.sessions) as session:
        return ask_to_visit(
            session,
            world.runtime.context(),
            actor=user,
            draft=VisitDraft(description=text, tags=tags),
            source_key=f"test-visit:{next(_keys)}",
        )


def offer_to(world: World, visit_id: int, host: str) -> int:
    """The id of the offer of visit `visit_id` to `host`."""
    with world.runtime.sessions() as session:
        person = session.exec(select(Person).where(Person.slack_user_id == host)).one()
        return (
            session.exec(
                select(VisitOffer.id).where(
                    VisitOffer.visit_id == visit_id, VisitOffer.host_id == person.id
                )
            ).one()
            or 0
        )


def accept(world: World, visit_id: int, host: str) -> None:
    """`host` accepts their offer of the visit."""
    offer_id = offer_to(world, visit_id, host)
    with transaction(world.runtime.sessions) as session:
        accept_visit_offer(session, world.runtime.context(), actor=host, offer_id=offer_id)


def book(world: World, visit_id: int, host: str, day: date | None) -> str:
    """`host` books the visit for `day`."""
    with transaction(world.runtime.sessions) as session:
        return book_visit(session, world.runtime.context(), actor=host, visit_id=visit_id, day=day)


def visit(world: World, visit_id: int) -> VisitRequest:
    """The visit as stored now."""
    with world.runtime.sessions() as session:
        found = session.get(VisitRequest, visit_id)
        assert found is not None
        return found


def offers(world: World, visit_id: int) -> dict[int, OfferStatus]:
    """Each invited host's person id and their invitation's status."""
    with world.runtime.sessions() as session:
        rows = session.exec(select(VisitOffer).where(VisitOffer.visit_id == visit_id)).all()
        return {o.host_id: o.status for o in rows}


def actions(world: World, visit_id: int) -> list[str]:
    """The audit trail's actions on a visit, oldest first."""
    with world.runtime.sessions() as session:
        entries = session.exec(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "visit", AuditEntry.subject_id == str(visit_id))
            .order_by(col(AuditEntry.id))
        ).all()
        return [e.action for e in entries]
