"""Cancelling a visit: the visitor (or a coordinator) calls it off before the day; open
invitations are withdrawn and a host who had accepted is told."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.errors import Conflict, NotAllowed
from bot.core.messages import Card
from bot.directory.people import is_coordinator
from bot.outbox.owing import owe_update
from bot.reach.people import address_of
from bot.visits.hosting import acting_person, locked_visit
from bot.visits.messages import offer_ref, owe_offer_closed, owe_to
from bot.visits.service import summarise_visit
from bot.visits.views import VisitSummary, day_text
from storage.models import OfferStatus, Person, VisitOffer, VisitRequest, VisitStatus

CANCELLABLE = (
    VisitStatus.OFFERED,
    VisitStatus.ACCEPTED,
    VisitStatus.BOOKED,
    VisitStatus.UNMATCHED,
)
WITHDRAWN = "This visit request was cancelled, so nothing more is needed. Thank you."
CALLED_OFF = "This visit was cancelled by the visitor. Thank you for offering to host."


def cancel_visit(session: Session, ctx: ServiceContext, *, actor: str, visit_id: int) -> str:
    """Call the visit off; returns what to tell the person who did."""
    person = acting_person(session, actor)
    visit = locked_visit(session, visit_id)
    if person.id != visit.requester_id and not is_coordinator(session, actor):
        raise NotAllowed(
            "Only the person who asked for this visit (or a coordinator) can cancel it.",
            action="visit.cancel",
            subject_type="visit",
            subject_id=visit_id,
        )
    if visit.status not in CANCELLABLE:
        raise Conflict(f"This visit is already {visit.status}, so there's nothing to cancel.")
    was = visit.status
    visit.status, visit.updated_at = VisitStatus.CANCELLED, ctx.now
    session.add(visit)
    _tell_the_schools(session, ctx, visit, summarise_visit(session, visit, ctx.vocabulary), was)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="visit.cancelled",
        subject_type="visit",
        subject_id=visit_id,
        reason="cancelled",
        was=str(was),
    )
    return f"Visit #{visit_id} is cancelled; the schools involved have been told."


def _tell_the_schools(
    session: Session,
    ctx: ServiceContext,
    visit: VisitRequest,
    summary: VisitSummary,
    was: VisitStatus,
) -> None:
    """Withdraw open invitations, change the host's DM, and tell a host who had accepted."""
    for offer in session.exec(select(VisitOffer).where(VisitOffer.visit_id == visit.id)).all():
        if offer.status == OfferStatus.OPEN:
            offer.status, offer.responded_at = OfferStatus.WITHDRAWN, ctx.now
            session.add(offer)
            owe_offer_closed(session, now=ctx.now, offer_id=offer.id or 0, text=WITHDRAWN)
        elif offer.status == OfferStatus.ACCEPTED:
            owe_update(
                session,
                now=ctx.now,
                update_of=offer_ref(offer.id or 0),
                text=CALLED_OFF,
                view=Card((CALLED_OFF,)),
            )
    host = session.get(Person, visit.host_id) if visit.host_id else None
    if host is None or host.erased_at is not None:
        return
    if was in (VisitStatus.ACCEPTED, VisitStatus.BOOKED):
        on = f" on {day_text(visit.visit_date)}" if visit.visit_date else ""
        owe_to(
            session,
            now=ctx.now,
            user=address_of(host),
            text=(
                f"{summary.visitor_text()} has cancelled the visit{on} "
                f"to see *{summary.areas_text()}*."
            ),
        )
