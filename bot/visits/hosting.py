"""Open classrooms, the host's side: accepting (the first accept wins, decided by the
database), declining, booking a school day within the half term's capacity, and each
person's "was it useful?" afterwards."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import true, update
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.errors import Conflict, NotAllowed, NotFound
from bot.core.text import escape
from bot.directory.people import person_by_user_id
from bot.outbox.owing import owe_update
from bot.visits.messages import (
    hosting_card,
    offer_ref,
    owe_offer_closed,
    owe_to,
    tell_coordinators_no_host,
)
from bot.visits.service import summarise_visit
from bot.visits.views import VisitSummary
from storage.models import (
    OfferStatus,
    Person,
    School,
    VisitOffer,
    VisitRequest,
    VisitStatus,
)

_ONE_DAY = timedelta(days=1)


def acting_person(session: Session, actor: str) -> Person:
    person = person_by_user_id(session, actor)
    if person is None or person.id is None or person.erased_at is not None:
        raise NotAllowed(
            "This isn't yours to answer.", action="visit", subject_type="person", subject_id=actor
        )
    return person


def locked_visit(session: Session, visit_id: int) -> VisitRequest:
    visit = session.get(VisitRequest, visit_id, with_for_update=True, populate_existing=True)
    if visit is None:
        raise NotFound("That visit no longer exists.")
    return visit


def _closed_offer_message(session: Session, offer: VisitOffer, visit: VisitRequest) -> str:
    if visit.host_id == offer.host_id:
        return "You've already accepted this visit — thank you!"
    if visit.host_school_id is not None:
        school = session.get(School, visit.host_school_id)
        name = escape(school.name) if school else "another school"
        return f"Thank you — {name} is hosting this visit."
    if offer.status == OfferStatus.DECLINED:
        return "You've already said not this time — thanks for letting us know."
    return "This visit request is no longer open. Thank you."


def accept_visit_offer(
    session: Session, ctx: ServiceContext, *, actor: str, offer_id: int
) -> VisitSummary:
    """The host accepts: exactly one accept per visit wins, whatever the clicks or copies."""
    host = acting_person(session, actor)
    offer = session.get(VisitOffer, offer_id)
    if offer is None:
        raise NotFound("That visit offer no longer exists.")
    if offer.host_id != host.id:
        raise NotAllowed(
            "This offer was made to someone else.",
            action="visit.accept",
            subject_type="visit_offer",
            subject_id=offer_id,
        )
    # The visit's row first, always: every accept queues on it (as requests' accepts do).
    visit = locked_visit(session, offer.visit_id)
    session.refresh(offer)
    if offer.status != OfferStatus.OPEN or visit.status != VisitStatus.OFFERED:
        raise Conflict(_closed_offer_message(session, offer, visit))
    if not _claim_visit(session, ctx, visit, host):
        session.rollback()
        raise Conflict("Thank you — another school has just accepted this visit.")
    offer.status, offer.responded_at = OfferStatus.ACCEPTED, ctx.now
    session.add(offer)
    session.refresh(visit)
    summary = summarise_visit(session, visit, ctx.vocabulary)
    withdraw_other_offers(session, ctx, visit.id or 0, host_school=summary.host_school)
    owe_update(
        session,
        now=ctx.now,
        update_of=offer_ref(offer_id),
        text="You're hosting this visit — thank you!",
        view=hosting_card(summary),
    )
    owe_to(
        session,
        now=ctx.now,
        user=summary.visitor,
        text=(
            f"Good news: <@{actor}> at {escape(summary.host_school or 'their school')} will host "
            f"your visit to see *{summary.areas_text()}* (visit #{visit.id}). They'll pick a "
            "school day, and I'll tell you which."
        ),
        cancellable=visit.id,
    )
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="visit.accepted",
        subject_type="visit",
        subject_id=visit.id or 0,
        offer_id=offer_id,
        host_school_id=host.school_id,
    )
    return summary


def _claim_visit(session: Session, ctx: ServiceContext, visit: VisitRequest, host: Person) -> bool:
    """The conditional update that decides who hosts: true only for the first accept."""
    won = session.execute(
        update(VisitRequest)
        .where(col(VisitRequest.id) == visit.id, col(VisitRequest.status) == VisitStatus.OFFERED)
        .values(
            status=VisitStatus.ACCEPTED,
            host_id=host.id,
            host_school_id=host.school_id,
            accepted_at=ctx.now,
            updated_at=ctx.now,
        )
    ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    return bool(won == 1)


def withdraw_other_offers(
    session: Session,
    ctx: ServiceContext,
    visit_id: int,
    *,
    host_school: str | None,
    keep_host_id: int | None = None,
) -> None:
    """Withdraw every open invitation to host the visit (but `keep_host_id`'s), telling each
    that `host_school` is hosting it."""
    others = session.exec(
        select(VisitOffer).where(
            VisitOffer.visit_id == visit_id,
            VisitOffer.status == OfferStatus.OPEN,
            VisitOffer.host_id != keep_host_id if keep_host_id is not None else true(),
        )
    ).all()
    taken = escape(host_school or "another school")
    for other in others:
        other.status, other.responded_at = OfferStatus.WITHDRAWN, ctx.now
        session.add(other)
        owe_offer_closed(
            session,
            now=ctx.now,
            offer_id=other.id or 0,
            text=f"Thank you — {taken} is hosting this visit, so nothing more is needed.",
        )


def decline_visit_offer(session: Session, ctx: ServiceContext, *, actor: str, offer_id: int) -> str:
    """The host says not this time; when nobody is left to ask, coordinators are told."""
    host = acting_person(session, actor)
    offer = session.get(VisitOffer, offer_id)
    if offer is None or offer.host_id != host.id:
        raise NotFound("That visit offer isn't one of yours.")
    visit = locked_visit(session, offer.visit_id)
    session.refresh(offer)
    if offer.status != OfferStatus.OPEN:
        raise Conflict(_closed_offer_message(session, offer, visit))
    offer.status, offer.responded_at = OfferStatus.DECLINED, ctx.now
    session.add(offer)
    owe_offer_closed(
        session,
        now=ctx.now,
        offer_id=offer_id,
        text="You said not this time — thanks for letting us know.",
    )
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="visit.offer_declined",
        subject_type="visit",
        subject_id=visit.id or 0,
        offer_id=offer_id,
    )
    session.flush()
    if visit.status == VisitStatus.OFFERED and not open_offers(session, visit.id or 0):
        no_host_left(session, ctx, visit)
    return "Thanks for letting us know."


def open_offers(session: Session, visit_id: int) -> int:
    return len(
        session.exec(
            select(VisitOffer.id).where(
                VisitOffer.visit_id == visit_id, VisitOffer.status == OfferStatus.OPEN
            )
        ).all()
    )


def no_host_left(
    session: Session, ctx: ServiceContext, visit: VisitRequest, *, expired: bool = False
) -> None:
    """Nobody asked will host (every school declined, or let the invitation lapse): the
    visit is unmatched, the visitor and the coordinators are told."""
    visit.status, visit.updated_at = VisitStatus.UNMATCHED, ctx.now
    session.add(visit)
    summary = summarise_visit(session, visit, ctx.vocabulary)
    if expired:
        days = ctx.settings.visit_offer_timeout_days
        why = f"no school asked took it up within {days} school day{'' if days == 1 else 's'}"
        to_visitor = f"Sorry — {why} to host your visit"
    else:
        why = "every school asked declined"
        to_visitor = "Sorry — the schools asked can't host your visit"
    owe_to(
        session,
        now=ctx.now,
        user=summary.visitor,
        text=(
            f"{to_visitor} to see *{summary.areas_text()}* (visit #{visit.id}) this time. "
            "The coordinators have been told and may find one."
        ),
    )
    tell_coordinators_no_host(
        session,
        ctx,
        visit_id=visit.id or 0,
        what=f":school: Visit #{visit.id} ({summary.areas_text()}): {why}.",
    )
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="visit.expired" if expired else "visit.unmatched",
        subject_type="visit",
        subject_id=visit.id or 0,
    )
