"""Inbound Slack events: saved before they are acknowledged, handled from the database.

A 200 to Slack is a promise: Slack never re-sends an event it got a 200 for. So each verified
event is written to `inbound_event` (its body, claimed by this process for `EVENT_LEASE`) in
the one transaction that also claims its `event_id`, and only then acknowledged. When its
listener has run the row is marked handled and its body cleared. A row still unhandled when
its lease lapses (the process died, or the listener failed) is claimed again by the due work
and replayed, up to `MAX_ATTEMPTS` times in all, in one process only.

Each claim is told from the others by its attempt number (`Claim`): only the holder of the
latest may mark the row handled, give it up, or renew its lease (`keep_claim`) during long
work, which stops as soon as another copy has claimed the row (`ClaimLost`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from storage.claims import claim_rows
from storage.db import SessionFactory, transaction
from storage.models import InboundEvent, InboundOutcome

log = logging.getLogger(__name__)

EVENT_LEASE = timedelta(minutes=1)  # the grace period before a saved event is replayed
EVENT_MEMORY = timedelta(days=7)  # Slack's retries come within minutes; a week is ample
MAX_ATTEMPTS = 3
HANDLED, GAVE_UP = InboundOutcome


class ClaimLost(Exception):
    """Another copy has claimed the saved event this process was handling (its lease had
    lapsed), or it is done: that copy finishes it, and this one changes nothing more."""


@dataclass(frozen=True)
class Claim:
    """This process's claim on a saved event: its row, and which attempt it is."""

    row_id: int
    attempt: int


@dataclass(frozen=True)
class SavedEvent:
    """A saved event this process has claimed and should now handle."""

    claim: Claim
    event_id: str
    body: dict[str, Any]


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(
        col(InboundEvent.processed_at).is_(None),
        or_(
            col(InboundEvent.claimed_until).is_(None),
            col(InboundEvent.claimed_until) <= now,
        ),
        col(InboundEvent.attempts) < MAX_ATTEMPTS,
    )


def _claim_values(now: datetime) -> dict[str, Any]:
    return {"claimed_until": now + EVENT_LEASE, "attempts": InboundEvent.attempts + 1}


def _held_by(claim: Claim) -> ColumnElement[bool]:
    return and_(
        col(InboundEvent.id) == claim.row_id,
        col(InboundEvent.attempts) == claim.attempt,
        col(InboundEvent.processed_at).is_(None),
    )


def receive_event(
    sessions: SessionFactory, *, event_id: str, body: dict[str, Any], now: datetime
) -> Claim | None:
    """Save a verified event, claimed by the caller; return the claim if the caller should
    handle it now, or None if it is already handled or in another process's hands.

    A retry of an event that was saved but left unhandled (its lease lapsed) is claimed anew.
    """
    try:
        with transaction(sessions) as session:
            row = InboundEvent(
                event_id=event_id,
                body=body,
                received_at=now,
                attempts=1,
                claimed_until=now + EVENT_LEASE,
            )
            session.add(row)
            session.flush()
            return Claim(row.id or 0, 1)
    except IntegrityError:
        pass  # seen before: a retry, or the same event delivered to another copy
    with transaction(sessions) as session:
        won = claim_rows(
            session,
            InboundEvent,
            and_(col(InboundEvent.event_id) == event_id, _claimable(now)),
            _claim_values(now),
            order_by=InboundEvent.id,
            limit=1,
        )
        claimed = session.get(InboundEvent, won[0]) if won else None
        return Claim(claimed.id or 0, claimed.attempts) if claimed is not None else None


def any_to_replay(sessions: SessionFactory, *, now: datetime) -> bool:
    """Whether any saved event is waiting to be replayed (a cheap check, claiming nothing)."""
    with sessions() as session:
        return (
            session.scalars(select(col(InboundEvent.id)).where(_claimable(now)).limit(1)).first()
            is not None
        )


def claim_saved_event(sessions: SessionFactory, *, now: datetime) -> SavedEvent | None:
    """Claim the oldest saved event whose handling lapsed or failed, to replay it."""
    with transaction(sessions) as session:
        won = claim_rows(
            session,
            InboundEvent,
            _claimable(now),
            _claim_values(now),
            order_by=InboundEvent.id,
            limit=1,
        )
        row = session.get(InboundEvent, won[0]) if won else None
        if row is None:
            return None
        claim = Claim(row.id or 0, row.attempts)
        return SavedEvent(claim=claim, event_id=row.event_id, body=dict(row.body or {}))


def keep_claim(session: Session, claim: Claim, *, now: datetime) -> None:
    """Renew the claim's lease for a whole `EVENT_LEASE` from `now`, in the caller's
    transaction (so nobody else can claim the event while that work commits); raise
    `ClaimLost` if another copy has claimed it since, or it is done."""
    renewed = session.execute(
        update(InboundEvent).where(_held_by(claim)).values(claimed_until=now + EVENT_LEASE)
    )
    if renewed.rowcount != 1:  # type: ignore[attr-defined]  # a DML result is a CursorResult
        raise ClaimLost(claim.row_id)


def mark_handled(sessions: SessionFactory, claim: Claim, *, now: datetime) -> None:
    """The event's listener has run: keep only its id (for retries), not its body. Nothing
    changes if another copy has claimed it since: that copy marks it."""
    with transaction(sessions) as session:
        session.execute(
            update(InboundEvent)
            .where(_held_by(claim))
            .values(processed_at=now, outcome=HANDLED, body=None, claimed_until=None)
        )


def release_after_failure(sessions: SessionFactory, claim: Claim, *, now: datetime) -> bool:
    """The event's listener failed: the due work tries again once the claim's lease lapses,
    unless that was the last attempt, when it is given up (logged by id) and its body cleared.
    Returns whether it was given up (never when another copy has claimed it since)."""
    with transaction(sessions) as session:
        row = session.get(InboundEvent, claim.row_id)
        if row is None or row.processed_at is not None or row.attempts != claim.attempt:
            return False
        if row.attempts < MAX_ATTEMPTS:
            return False
        row.processed_at, row.outcome, row.body, row.claimed_until = now, GAVE_UP, None, None
        event_id = row.event_id
    log.error("gave up on Slack event %s after %d attempts", event_id, MAX_ATTEMPTS)
    return True


def give_up_on_exhausted(sessions: SessionFactory, *, now: datetime) -> int:
    """Events whose last attempt was cut short (its lease lapsed) are given up, as after a
    failure; returns how many."""
    exhausted = and_(
        col(InboundEvent.processed_at).is_(None),
        col(InboundEvent.attempts) >= MAX_ATTEMPTS,
        col(InboundEvent.claimed_until) <= now,
    )
    with transaction(sessions) as session:
        event_ids = list(session.scalars(select(col(InboundEvent.event_id)).where(exhausted)))
        if event_ids:
            session.execute(
                update(InboundEvent)
                .where(exhausted, col(InboundEvent.event_id).in_(event_ids))
                .values(processed_at=now, outcome=GAVE_UP, body=None, claimed_until=None)
            )
    for event_id in event_ids:
        log.error("gave up on Slack event %s after %d attempts", event_id, MAX_ATTEMPTS)
    return len(event_ids)


def forget_old_events(sessions: SessionFactory, *, now: datetime) -> int:
    """Drop events received more than `EVENT_MEMORY` ago; returns how many."""
    with transaction(sessions) as session:
        result = session.execute(
            delete(InboundEvent).where(col(InboundEvent.received_at) < now - EVENT_MEMORY)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DML result is a CursorResult
