"""Scheduled open-classroom work: the reminder the working day before a visit and the
"was it useful?" the working day after; each visit claimed once, in its own transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import Session, col

from bot.core import audit
from bot.core.postponing import postpone_outside_working_time
from bot.core.text import escape
from bot.outbox.owing import owe_post
from bot.reach.people import address_of
from bot.visits.erasure import ERASED_TEXT
from bot.visits.messages import feedback_card, feedback_ref, owe_to
from bot.visits.service import summarise_visit
from bot.visits.views import day_text
from storage.claims import claim_rows
from storage.db import transaction
from storage.models import Person, VisitRequest, VisitStatus

if TYPE_CHECKING:
    from bot.core.context import ServiceContext, Services

log = logging.getLogger(__name__)

FAILED_ROW_BACKOFF = timedelta(minutes=15)


def _claim_free(now: datetime) -> ColumnElement[bool]:
    return or_(col(VisitRequest.claimed_until).is_(None), col(VisitRequest.claimed_until) <= now)


def _work_through(
    runtime: Services,
    due: ColumnElement[bool],
    values: dict[str, object],
    work: Callable[[Session, ServiceContext, VisitRequest], None],
    *,
    what: str,
) -> int:
    """Claim due visits one at a time, each with the messages it owes in one transaction;
    returns how many were done. A failing visit is logged and set aside for a while."""
    ctx = runtime.context()
    claimable = and_(due, _claim_free(ctx.now))
    done = 0
    while True:
        claimed: int | None = None
        try:
            with transaction(runtime.sessions) as session:
                ids = claim_rows(
                    session, VisitRequest, claimable, values, order_by=VisitRequest.id, limit=1
                )
                if not ids:
                    return done
                claimed = ids[0]
                visit = session.get(VisitRequest, claimed, populate_existing=True)
                assert visit is not None
                work(session, ctx, visit)
            done += 1
        except Exception:
            if claimed is None:
                raise
            log.exception("%s failed for visit %s; setting it aside", what, claimed)
            with transaction(runtime.sessions) as session:
                session.execute(
                    update(VisitRequest)
                    .where(col(VisitRequest.id) == claimed)
                    .values(claimed_until=ctx.now + FAILED_ROW_BACKOFF)
                )


def _people(session: Session, visit: VisitRequest) -> list[Person]:
    found = [session.get(Person, visit.requester_id), session.get(Person, visit.host_id or 0)]
    return [p for p in found if p is not None and p.erased_at is None]


def _remind(session: Session, ctx: ServiceContext, visit: VisitRequest) -> None:
    summary = summarise_visit(session, visit, ctx.vocabulary)
    assert visit.visit_date is not None
    day = day_text(visit.visit_date)
    for person in _people(session, visit):
        if person.id == visit.requester_id:
            text = (
                f":alarm_clock: Reminder: your visit on *{day}* to "
                f"{escape(summary.host_school or 'the host school')} to see "
                f"*{summary.areas_text()}*, hosted by <@{summary.host}>."
            )
        else:
            text = (
                f":alarm_clock: Reminder: you're hosting {summary.visitor_text()} on *{day}* "
                f"to see *{summary.areas_text()}*."
            )
        key = f"visit:{visit.id}:reminder:{visit.visit_date}:{person.id}"
        owe_to(session, now=ctx.now, user=address_of(person), text=text, dedupe_key=key)
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="visit.reminded",
        subject_type="visit",
        subject_id=visit.id or 0,
    )


def send_visit_reminders(runtime: Services) -> int:
    """Remind the visitor and the host of each visit booked for the next working day. One
    found due outside working time (after downtime) still goes now: the next working
    morning is the visit's own day, too late for a reminder."""
    now = runtime.clock.now()
    due = and_(
        col(VisitRequest.status) == VisitStatus.BOOKED,
        col(VisitRequest.reminded_at).is_(None),
        col(VisitRequest.remind_at) <= now,
    )
    return _work_through(
        runtime,
        due,
        {"reminded_at": now, "claimed_until": None},
        _remind,
        what="reminding",
    )


def _ask_if_useful(session: Session, ctx: ServiceContext, visit: VisitRequest) -> None:
    summary = summarise_visit(session, visit, ctx.vocabulary)
    for person in _people(session, visit):
        owe_post(
            session,
            now=ctx.now,
            channel=address_of(person),
            text="Was the visit useful?",
            view=feedback_card(summary),
            ref=feedback_ref(visit.id or 0, person.id or 0),
            dedupe_key=feedback_ref(visit.id or 0, person.id or 0),
        )
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="visit.visited",
        subject_type="visit",
        subject_id=visit.id or 0,
    )


def ask_whether_visits_were_useful(runtime: Services) -> int:
    """Mark each booked visit whose day has passed as visited, and ask both whether it was
    useful (the working day after, at CHECKIN_TIME); outside working time, what is due
    waits for the next working day's CHECKIN_TIME, still booked until then."""
    now = runtime.clock.now()
    due = and_(
        col(VisitRequest.status) == VisitStatus.BOOKED,
        col(VisitRequest.follow_up_at) <= now,
    )
    postpone_outside_working_time(
        runtime, VisitRequest, and_(due, _claim_free(now)), "follow_up_at", what="follow-up(s)"
    )
    return _work_through(
        runtime,
        due,
        {
            "status": VisitStatus.VISITED,
            "followed_up_at": now,
            "updated_at": now,
            "claimed_until": None,
        },
        _ask_if_useful,
        what="asking whether useful",
    )


FINISHED = (VisitStatus.VISITED, VisitStatus.CANCELLED, VisitStatus.UNMATCHED)


def erase_old_visit_text(runtime: Services) -> int:
    """Erase what visitors wrote once a visit has been finished for RETENTION_DAYS (its
    status, dates, areas and answers stay, so the counts still add up); returns how many."""
    now = runtime.clock.now()
    cutoff = now - timedelta(days=runtime.settings.retention_days)
    with transaction(runtime.sessions) as session:
        result = session.execute(
            update(VisitRequest)
            .where(
                col(VisitRequest.status).in_(FINISHED),
                col(VisitRequest.text_erased_at).is_(None),
                col(VisitRequest.updated_at) <= cutoff,
            )
            .values(description=ERASED_TEXT, text_erased_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
