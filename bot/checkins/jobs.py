"""Scheduled check-in work: send what is due, remind, mark missed; each row claimed once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, exists, or_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.checkins.service import (
    FAILED_ROW_BACKOFF,
    cadence_of,
    due_after_days,
    load_view,
    owe_checkin_dms,
    refresh_checkin_messages,
    reminder_at,
    set_next_due,
)
from bot.core import audit
from bot.core.postponing import postpone_outside_working_time
from storage.claims import claim_rows
from storage.db import transaction
from storage.models import CheckIn, CheckInStatus, Deployment, DeploymentStatus

if TYPE_CHECKING:
    from bot.core.context import ServiceContext, Services

log = logging.getLogger(__name__)


# --- due work ------------------------------------------------------------------------------------
def _claim_free(now: datetime) -> ColumnElement[bool]:
    return or_(col(CheckIn.claimed_until).is_(None), col(CheckIn.claimed_until) <= now)


def _work_through(
    runtime: Services,
    claimable: ColumnElement[bool],
    values: dict[str, object],
    work: Callable[[Session, ServiceContext, CheckIn], None],
    *,
    what: str,
) -> int:
    """Claim due check-ins one at a time, each in its own transaction with the messages it
    owes; returns how many were done. A failing row is logged and set aside for a while."""
    ctx = runtime.context()
    done = 0
    while True:
        claimed: int | None = None
        try:
            with transaction(runtime.sessions) as session:
                due = and_(claimable, _claim_free(ctx.now))
                candidate = session.exec(
                    select(CheckIn.id, col(CheckIn.deployment_id))
                    .where(due)
                    .order_by(col(CheckIn.due_at))
                ).first()
                if candidate is None:
                    return done
                # The deployment's lock first, then the check-in's: the order people's
                # answers take them in, so a send and an answer can never deadlock.
                session.get(Deployment, candidate[1], with_for_update=True)
                ids = claim_rows(
                    session,
                    CheckIn,
                    and_(due, col(CheckIn.id) == candidate[0]),
                    values,
                    order_by=CheckIn.due_at,
                    limit=1,
                )
                if not ids:
                    continue  # another process took it meanwhile; look again
                claimed = ids[0]
                checkin = session.get(CheckIn, claimed, populate_existing=True)
                assert checkin is not None
                work(session, ctx, checkin)
            done += 1
        except Exception:
            if claimed is None:
                raise
            log.exception("%s failed for check-in %s; setting it aside", what, claimed)
            with transaction(runtime.sessions) as session:
                session.execute(
                    update(CheckIn)
                    .where(col(CheckIn.id) == claimed)
                    .values(claimed_until=ctx.now + FAILED_ROW_BACKOFF)
                )


def _send_one(session: Session, ctx: ServiceContext, checkin: CheckIn) -> None:
    deployment = session.get(Deployment, checkin.deployment_id)
    if (
        deployment is None
        or deployment.status != DeploymentStatus.ACTIVE
        or deployment.checkins_paused
    ):
        checkin.status = CheckInStatus.CANCELLED
        return
    days = cadence_of(deployment, ctx.settings.checkin_every_days)
    next_due = due_after_days(ctx, days)
    checkin.remind_at = reminder_at(ctx, sent_at=ctx.now, next_due=next_due)
    set_next_due(session, deployment.id or 0, next_due)
    view = load_view(session, ctx, checkin)
    sent_to = owe_checkin_dms(session, ctx, view, reminder=False)
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="checkin.sent",
        subject_type="checkin",
        subject_id=checkin.id or 0,
        deployment_id=deployment.id,
        sequence=checkin.sequence,
        recipients=sent_to,
    )


def _postpone_due_checkins(runtime: Services, now: datetime) -> ColumnElement[bool]:
    """Outside working time, move the check-ins due at `now` to the next working day's
    CHECKIN_TIME; returns the condition of a check-in due (to send) now."""
    due = and_(col(CheckIn.status) == CheckInStatus.SCHEDULED, col(CheckIn.due_at) <= now)
    postpone_outside_working_time(
        runtime, CheckIn, and_(due, _claim_free(now)), "due_at", what="check-in(s)"
    )
    return due


def send_due_checkins(runtime: Services) -> int:
    """Send every check-in due now (each exactly once) and schedule the one after it; outside
    working time, what is due waits for the next working day's CHECKIN_TIME."""
    now = runtime.clock.now()
    due = _postpone_due_checkins(runtime, now)
    return _work_through(
        runtime,
        due,
        {"status": CheckInStatus.SENT, "sent_at": now, "claimed_until": None},
        _send_one,
        what="sending",
    )


def _remind_one(session: Session, ctx: ServiceContext, checkin: CheckIn) -> None:
    deployment = session.get(Deployment, checkin.deployment_id)
    if (
        deployment is None
        or deployment.status != DeploymentStatus.ACTIVE
        or deployment.checkins_paused
    ):
        return
    view = load_view(session, ctx, checkin)
    sent_to = owe_checkin_dms(session, ctx, view, reminder=True)
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="checkin.reminded",
        subject_type="checkin",
        subject_id=checkin.id or 0,
        deployment_id=deployment.id,
        recipients=sent_to,
    )


def send_due_reminders(runtime: Services) -> int:
    """Send the one reminder for each check-in nobody has answered within
    CHECKIN_REMINDER_HOURS working hours; outside working time, it waits as check-ins do."""
    now = runtime.clock.now()
    due = and_(
        col(CheckIn.status) == CheckInStatus.SENT,
        col(CheckIn.reminded_at).is_(None),
        col(CheckIn.remind_at) <= now,
    )
    postpone_outside_working_time(
        runtime, CheckIn, and_(due, _claim_free(now)), "remind_at", what="check-in(s)"
    )
    return _work_through(
        runtime,
        due,
        {"reminded_at": now},
        _remind_one,
        what="reminding",
    )


def _mark_one_missed(session: Session, ctx: ServiceContext, checkin: CheckIn) -> None:
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="checkin.missed",
        subject_type="checkin",
        subject_id=checkin.id or 0,
        deployment_id=checkin.deployment_id,
    )
    refresh_checkin_messages(session, ctx, checkin)


def mark_missed_checkins(runtime: Services) -> int:
    """Mark missed each check-in still unanswered when the next one falls due. The next one
    found due outside working time (after downtime) is moved on first, so the check-in stays
    open, and answerable, until the next is really asked."""
    now = runtime.clock.now()
    _postpone_due_checkins(runtime, now)
    later = aliased(CheckIn)
    next_is_due = exists(
        select(later.id).where(
            later.deployment_id == CheckIn.deployment_id,
            later.sequence > CheckIn.sequence,
            later.due_at <= now,
            later.status != CheckInStatus.CANCELLED,
        )
    )
    return _work_through(
        runtime,
        and_(col(CheckIn.status) == CheckInStatus.SENT, next_is_due),
        {"status": CheckInStatus.MISSED, "missed_at": now},
        _mark_one_missed,
        what="marking missed",
    )
