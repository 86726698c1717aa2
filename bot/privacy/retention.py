"""Retention: a finished request's free text is erased `RETENTION_DAYS` after it finished.

Ids, statuses, dates and tags stay for the audit and statistics; the request's title,
description and impact note, its offers' reasons and decline reasons, its deployments' impact
notes and check-in notes, and the text of the sent messages about it are replaced. Sent
messages older than `RETENTION_DAYS` lose their text too, whatever they were about (some,
such as coordinator notices, carry no link to their request). Messages not yet sent are
never touched. Rows are claimed before they are changed, so two processes never collide.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, update
from sqlmodel import Session, col

from bot.core import audit
from bot.deployments.privacy import erase_lifecycle_text
from storage.claims import claim_rows
from storage.db import transaction
from storage.models import (
    CANCELLED,
    CLOSED,
    EXPIRED,
    CheckIn,
    CheckInAnswer,
    Deployment,
    Offer,
    OutboxMessage,
    SupportRequest,
)

if TYPE_CHECKING:
    from bot.core.context import Services

log = logging.getLogger(__name__)

ERASED = "[erased]"
FINISHED = (CLOSED, CANCELLED, EXPIRED)
# Outbox rows whose text may go: delivered, or given up on for good. Never pending ones.
DONE_SENDING = ("sent", "failed")
BATCH = 50
OUTBOX_BATCH = 500


def finished_at() -> ColumnElement[Any]:
    """When a request finished: `closed_at`, or its last change (expired ones have no close)."""
    return func.coalesce(SupportRequest.closed_at, SupportRequest.updated_at)


def due_for_erasure(cutoff: datetime) -> ColumnElement[bool]:
    """Finished requests whose text is still held (or came back after an earlier erasure)."""
    ended = finished_at()
    return and_(
        col(SupportRequest.status).in_(FINISHED),
        ended <= cutoff,
        or_(
            col(SupportRequest.text_erased_at).is_(None),
            col(SupportRequest.text_erased_at) < ended,
        ),
    )


def erased_request_values(now: datetime) -> dict[str, Any]:
    """The column values of a request whose free text has been erased."""
    return {"title": ERASED, "description": ERASED, "impact_note": None, "text_erased_at": now}


def erase_request_text(session: Session, request_ids: list[int], *, now: datetime) -> int:
    """Erase the free text around requests already claimed (their own columns set by the
    caller): offers, deployments, check-in answers and sent messages; returns messages erased."""
    if not request_ids:
        return 0
    session.execute(
        update(Offer)
        .where(col(Offer.request_id).in_(request_ids))
        .values(reasons="", decline_reason=None)
    )
    deployment_ids = list(
        session.scalars(
            select(col(Deployment.id)).where(col(Deployment.request_id).in_(request_ids))
        )
    )
    erase_lifecycle_text(session, [i for i in deployment_ids if i is not None], now=now)
    checkin_ids: list[int] = []
    if deployment_ids:
        session.execute(
            update(Deployment)
            .where(col(Deployment.id).in_(deployment_ids))
            .values(impact_note=None, end_reason=None)
        )
        checkin_ids = list(
            session.scalars(
                select(col(CheckIn.id)).where(col(CheckIn.deployment_id).in_(deployment_ids))
            )
        )
    if checkin_ids:
        session.execute(
            update(CheckInAnswer)
            .where(col(CheckInAnswer.checkin_id).in_(checkin_ids))
            .values(note=None)
        )
    offer_ids = list(
        session.scalars(select(col(Offer.id)).where(col(Offer.request_id).in_(request_ids)))
    )
    prefixes = (
        [f"request:{i}:" for i in request_ids]
        + [f"offer:{i}:" for i in offer_ids]
        + [f"deployment:{i}:" for i in deployment_ids]
        + [f"checkin:{i}:" for i in checkin_ids]
    )
    exact = [f"offer:{i}" for i in offer_ids]
    return erase_sent_messages(session, about_refs(exact, prefixes), now=now)


def about_refs(exact: Iterable[str], prefixes: Iterable[str]) -> ColumnElement[bool]:
    """Outbox rows sent with, updating, or replying to a message with one of these refs."""
    exact, prefixes = list(exact), list(prefixes)
    columns = (col(OutboxMessage.ref), col(OutboxMessage.update_of), col(OutboxMessage.thread_of))
    matches: list[ColumnElement[bool]] = []
    for column in columns:
        if exact:
            matches.append(column.in_(exact))
        matches.extend(column.startswith(prefix) for prefix in prefixes)
    return or_(*matches) if matches else false()


def erase_sent_messages(session: Session, which: ColumnElement[bool], *, now: datetime) -> int:
    """Replace the text of every sent (or failed) outbox row matching `which`; returns how
    many. Pending rows are left whole, so every owed message still goes out as written."""
    erased = 0
    while True:
        count = erase_sent_batch(session, which, now=now)
        erased += count
        if count < OUTBOX_BATCH:
            return erased


def erase_sent_batch(session: Session, which: ColumnElement[bool], *, now: datetime) -> int:
    """Claim up to `OUTBOX_BATCH` sent rows matching `which` and erase their text."""
    claimable = and_(
        which,
        col(OutboxMessage.status).in_(DONE_SENDING),
        col(OutboxMessage.text_erased_at).is_(None),
    )
    ids = claim_rows(
        session,
        OutboxMessage,
        claimable,
        {"text_erased_at": now},
        order_by=OutboxMessage.id,
        limit=OUTBOX_BATCH,
    )
    for message in session.scalars(select(OutboxMessage).where(col(OutboxMessage.id).in_(ids))):
        message.payload = erased_payload(message.payload)
    session.flush()
    return len(ids)


def erased_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A message payload with its text, blocks, view or Home page gone (thread and unfurl
    settings kept)."""
    gone = ("text", "blocks", "view", "attachments", "home")
    kept = {k: v for k, v in payload.items() if k not in gone}
    return {**kept, "text": ERASED}


def erase_finished_requests(session: Session, *, now: datetime, cutoff: datetime) -> list[int]:
    """Claim up to `BATCH` requests due for erasure and erase their text; returns their ids."""
    ids = claim_rows(
        session,
        SupportRequest,
        due_for_erasure(cutoff),
        erased_request_values(now),
        order_by=SupportRequest.id,
        limit=BATCH,
    )
    erase_request_text(session, ids, now=now)
    for request_id in ids:
        audit.record(
            session,
            at=now,
            actor=None,
            action="request.text_erased",
            subject_type="request",
            subject_id=request_id,
            reason="retention",
        )
    return ids


def erase_expired_text(runtime: Services) -> int:
    """The due task: erase what has been kept `RETENTION_DAYS`; returns requests erased."""
    now = runtime.clock.now()
    cutoff = now - timedelta(days=runtime.settings.retention_days)
    erased: list[int] = []
    while True:
        with transaction(runtime.sessions) as session:
            ids = erase_finished_requests(session, now=now, cutoff=cutoff)
        erased.extend(ids)
        if len(ids) < BATCH:
            break
    old = col(OutboxMessage.created_at) <= cutoff
    messages = 0
    while True:  # one transaction per batch: the first run may find years of messages
        with transaction(runtime.sessions) as session:
            count = erase_sent_batch(session, old, now=now)
        messages += count
        if count < OUTBOX_BATCH:
            break
    if erased or messages:
        log.info(
            "retention: erased the text of %d requests (%s) and %d sent messages",
            len(erased),
            erased,
            messages,
        )
    return len(erased)
