"""Erasing a person from open classrooms: the text of the visits they asked for, their
visits still to come cancelled (the other side told), offers to them withdrawn."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.context import ServiceContext
from bot.outbox.notify import notify_coordinators
from bot.reach.people import address_of
from bot.visits.hosting import no_host_left
from bot.visits.messages import owe_offer_closed, owe_to
from bot.visits.views import day_text
from storage.models import OfferStatus, Person, VisitOffer, VisitRequest, VisitStatus

STILL_OPEN = (VisitStatus.OFFERED, VisitStatus.ACCEPTED, VisitStatus.BOOKED, VisitStatus.UNMATCHED)
ERASED_TEXT = "[erased]"


def erase_visits_of(session: Session, ctx: ServiceContext, person_id: int) -> int:
    """Erase the person's part in open classrooms; returns how many visits changed."""
    changed = _withdraw_offers_to(session, ctx, person_id)
    visits = session.exec(
        select(VisitRequest)
        .where(
            or_(col(VisitRequest.requester_id) == person_id, col(VisitRequest.host_id) == person_id)
        )
        .with_for_update()
    ).all()
    for visit in visits:
        touched = False
        if visit.requester_id == person_id and visit.text_erased_at is None:
            visit.description, visit.text_erased_at, touched = ERASED_TEXT, ctx.now, True
        if visit.status in STILL_OPEN:
            _cancel(session, ctx, visit, erased_id=person_id)
            touched = True
        if touched:
            visit.updated_at = ctx.now
            session.add(visit)
            changed += 1
    return changed


def _withdraw_offers_to(session: Session, ctx: ServiceContext, person_id: int) -> int:
    offers = session.exec(
        select(VisitOffer).where(
            VisitOffer.host_id == person_id, VisitOffer.status == OfferStatus.OPEN
        )
    ).all()
    for offer in offers:
        offer.status, offer.responded_at = OfferStatus.WITHDRAWN, ctx.now
        session.add(offer)
        owe_offer_closed(
            session, now=ctx.now, offer_id=offer.id or 0, text="This offer has been withdrawn."
        )
        session.flush()
        visit = session.get(VisitRequest, offer.visit_id)
        left = session.exec(
            select(VisitOffer.id).where(
                VisitOffer.visit_id == offer.visit_id, VisitOffer.status == OfferStatus.OPEN
            )
        ).first()
        mine = visit is not None and visit.requester_id == person_id
        if visit is not None and visit.status == VisitStatus.OFFERED and left is None and not mine:
            no_host_left(session, ctx, visit)
    return len(offers)


def _cancel(session: Session, ctx: ServiceContext, visit: VisitRequest, *, erased_id: int) -> None:
    """Cancel a visit still to come because one side was erased; tell the other side."""
    for offer in session.exec(
        select(VisitOffer).where(
            VisitOffer.visit_id == visit.id, VisitOffer.status == OfferStatus.OPEN
        )
    ).all():
        offer.status, offer.responded_at = OfferStatus.WITHDRAWN, ctx.now
        session.add(offer)
        owe_offer_closed(
            session,
            now=ctx.now,
            offer_id=offer.id or 0,
            text="This visit request has been withdrawn.",
        )
    other_id = visit.host_id if visit.requester_id == erased_id else visit.requester_id
    other = session.get(Person, other_id) if other_id else None
    if (
        other is not None
        and other.erased_at is None
        and visit.status in (VisitStatus.ACCEPTED, VisitStatus.BOOKED)
    ):
        on = f" on {day_text(visit.visit_date)}" if visit.visit_date else ""
        owe_to(
            session,
            now=ctx.now,
            user=address_of(other),
            text=(
                f"The visit #{visit.id}{on} has been cancelled: the other person is no longer "
                "in the directory."
            ),
        )
        notify_coordinators(
            session,
            ctx.settings,
            now=ctx.now,
            text=(
                f":school: Visit #{visit.id}{on} was cancelled: one side's data was erased "
                "on request."
            ),
        )
    visit.status = VisitStatus.CANCELLED
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="visit.cancelled",
        subject_type="visit",
        subject_id=visit.id or 0,
        reason="person_erased",
    )
