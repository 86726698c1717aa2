"""Open classrooms, invitations that lapse: an invitation to host that nobody answers within
VISIT_OFFER_TIMEOUT_DAYS school days expires (its DM says so); once every school asked has
declined or let it lapse, the visitor and the coordinators are told."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, select

from bot.core import audit
from bot.visits.hosting import locked_visit, no_host_left, open_offers
from bot.visits.messages import owe_offer_closed
from storage.claims import claim_rows
from storage.db import each_in_its_own_transaction
from storage.models import OfferStatus, VisitOffer, VisitStatus

if TYPE_CHECKING:
    from bot.core.context import ServiceContext, Services

log = logging.getLogger(__name__)
EXPIRED_TEXT = "This invitation to host a visit has expired — thank you."


def expire_visit_offers(runtime: Services) -> int:
    """Expire every invitation past its time, one visit per transaction; returns how many
    visits had invitations expire. Never two processes the same invitation."""
    ctx = runtime.context()
    with runtime.sessions() as session:
        visit_ids = sorted(
            set(session.exec(select(VisitOffer.visit_id).where(_overdue(ctx))).all())
        )
    return each_in_its_own_transaction(
        runtime.sessions,
        visit_ids,
        lambda session, visit_id: expire_offers_of(session, ctx, visit_id),
        log=log,
        failed="expiring invitations failed for visit %s; next run retries",
    )


def _overdue(ctx: ServiceContext) -> ColumnElement[bool]:
    return and_(
        col(VisitOffer.status) == OfferStatus.OPEN,
        col(VisitOffer.expires_at) <= ctx.now,
    )


def expire_offers_of(session: Session, ctx: ServiceContext, visit_id: int) -> int:
    """Expire one visit's overdue invitations (the visit's row locked first, as accepting
    does); returns 1 if any expired. The visit goes unmatched when none is left open."""
    visit = locked_visit(session, visit_id)
    ids = claim_rows(
        session,
        VisitOffer,
        and_(_overdue(ctx), col(VisitOffer.visit_id) == visit_id),
        {"status": OfferStatus.EXPIRED, "responded_at": ctx.now},
        order_by=VisitOffer.id,
        limit=500,
    )
    if not ids:
        return 0
    for offer_id in ids:
        owe_offer_closed(session, now=ctx.now, offer_id=offer_id, text=EXPIRED_TEXT)
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="visit.offers_expired",
        subject_type="visit",
        subject_id=visit_id,
        offer_ids=ids,
    )
    session.flush()
    if visit.status == VisitStatus.OFFERED and not open_offers(session, visit_id):
        no_host_left(session, ctx, visit, expired=True)
    return 1
