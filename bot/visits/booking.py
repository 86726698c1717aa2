"""Open classrooms, the day itself: the host books a school day (never a weekend, bank
holiday or school closure, and within the school's visits per half term), both are
reminded the working day before, and each says afterwards whether it was useful."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.core.school_calendar import SchoolCalendar
from bot.core.text import escape
from bot.outbox.owing import owe_update
from bot.visits.hosting import acting_person, locked_visit
from bot.visits.matching import visits_in_half_term
from bot.visits.messages import feedback_card, feedback_ref, hosting_card, offer_ref, owe_to
from bot.visits.service import summarise_visit
from bot.visits.views import day_text
from storage.models import (
    OfferStatus,
    School,
    VisitFeedback,
    VisitOffer,
    VisitRequest,
    VisitStatus,
    VisitUsefulness,
)

_ONE_DAY = timedelta(days=1)
BOOKABLE = (VisitStatus.ACCEPTED, VisitStatus.BOOKED)
FIELD = "date"  # the date picker's block id in the form


def check_may_pick_date(
    session: Session, ctx: ServiceContext, *, actor: str, visit_id: int
) -> date:
    """Refuse unless `actor` hosts this visit and it can still be (re)booked; returns the
    day to suggest: the booked one, else the first working day a week from now."""
    visit = session.get(VisitRequest, visit_id)
    host = acting_person(session, actor)
    if visit is None or visit.host_id != host.id:
        raise NotAllowed(
            "Only the host who accepted this visit can pick its date.",
            action="visit.pick_date",
            subject_type="visit",
            subject_id=visit_id,
        )
    if visit.status not in BOOKABLE:
        raise Conflict(f"This visit is {visit.status}, so its date can't change now.")
    today = ctx.calendar.local(ctx.now).date()
    return visit.visit_date or ctx.calendar.next_working_day(today + timedelta(days=7))


def _why_not_a_school_day(calendar: SchoolCalendar, day: date) -> str | None:
    if calendar.is_working_day(day):
        return None
    closure = calendar.closure_on(day)
    reason = f"the {closure}" if closure else "a weekend"
    return f"{day_text(day)} is {escape(reason)}, when schools are shut. Please pick a school day."


def _check_day(
    session: Session, ctx: ServiceContext, visit: VisitRequest, day: date | None
) -> None:
    today = ctx.calendar.local(ctx.now).date()
    if day is None:
        raise InvalidInput({FIELD: "Please pick a date."})
    if day <= today:
        raise InvalidInput({FIELD: "Please pick a day after today."})
    if day > today + timedelta(days=366):
        raise InvalidInput({FIELD: "Please pick a day within the next year."})
    if (reason := _why_not_a_school_day(ctx.calendar, day)) is not None:
        raise InvalidInput({FIELD: reason})
    # The school's row locked, so two bookings can't both take its last place.
    school = session.get(School, visit.host_school_id or 0, with_for_update=True)
    if school is None:
        return
    half = ctx.calendar.half_term_of(day)
    booked = visits_in_half_term(session, school.id or 0, half, besides=visit.id)
    if booked >= school.visits_per_half_term:
        raise InvalidInput(
            {
                FIELD: (
                    f"{school.name} already has {booked} visit{'' if booked == 1 else 's'} in "
                    f"{half.label} ({half.first_day:%-d %b}–{half.last_day:%-d %b}), its limit "
                    "per half term. Please pick a day in another half term."
                )
            }
        )


def reminder_times(
    calendar: SchoolCalendar, ctx: ServiceContext, day: date
) -> tuple[datetime | None, datetime]:
    """When to remind (the working day before, at CHECKIN_TIME; None if that has passed)
    and when to ask whether it was useful (the working day after)."""
    at = ctx.settings.checkin_time
    before = day - _ONE_DAY
    while not calendar.is_working_day(before):
        before -= _ONE_DAY
    remind: datetime | None = calendar.at_local(before, at)
    if remind is not None and remind <= ctx.now:
        remind = None  # booked too late for a reminder: the booking message is the reminder
    return remind, calendar.at_local(calendar.next_working_day(day, include_today=False), at)


def book_visit(
    session: Session, ctx: ServiceContext, *, actor: str, visit_id: int, day: date | None
) -> str:
    """The host books (or moves) the visit to `day`; both are told. Returns a confirmation."""
    check_may_pick_date(session, ctx, actor=actor, visit_id=visit_id)
    visit = locked_visit(session, visit_id)
    if visit.status not in BOOKABLE:
        raise Conflict(f"This visit is {visit.status}, so its date can't change now.")
    _check_day(session, ctx, visit, day)
    assert day is not None
    moved_from = visit.visit_date if visit.status == VisitStatus.BOOKED else None
    visit.remind_at, visit.follow_up_at = reminder_times(ctx.calendar, ctx, day)
    visit.visit_date, visit.status, visit.reminded_at = day, VisitStatus.BOOKED, None
    visit.booked_at = visit.updated_at = ctx.now
    session.add(visit)
    summary = summarise_visit(session, visit, ctx.vocabulary)
    accepted = session.exec(
        select(VisitOffer.id).where(
            VisitOffer.visit_id == visit_id, VisitOffer.status == OfferStatus.ACCEPTED
        )
    ).first()
    if accepted is not None:
        owe_update(
            session,
            now=ctx.now,
            update_of=offer_ref(accepted),
            text=f"Visit booked for {day_text(day)}",
            view=hosting_card(summary),
        )
    moved = f" (moved from {day_text(moved_from)})" if moved_from and moved_from != day else ""
    owe_to(
        session,
        now=ctx.now,
        user=summary.visitor,
        text=(
            f":calendar: Your visit to {escape(summary.host_school or 'the school')} to see "
            f"*{summary.areas_text()}* is booked for *{day_text(day)}*{moved}, hosted by "
            f"<@{actor}>. I'll remind you both the working day before."
        ),
        cancellable=visit_id,
    )
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="visit.booked",
        subject_type="visit",
        subject_id=visit_id,
        day=day.isoformat(),
        moved_from=moved_from.isoformat() if moved_from else None,
    )
    return f"Booked for {day_text(day)}{moved}. I've told <@{summary.visitor}>."


def record_usefulness(
    session: Session, ctx: ServiceContext, *, actor: str, visit_id: int, usefulness: str
) -> str:
    """The visitor's or the host's answer to "was it useful?" (a second click changes it)."""
    person = acting_person(session, actor)
    visit = session.get(VisitRequest, visit_id)
    if visit is None or person.id not in (visit.requester_id, visit.host_id):
        raise NotAllowed(
            "Only the visitor and the host can answer for this visit.",
            action="visit.feedback",
            subject_type="visit",
            subject_id=visit_id,
        )
    if visit.status != VisitStatus.VISITED:
        raise Conflict("This visit hasn't happened yet, so there's nothing to rate.")
    try:
        answer = VisitUsefulness(usefulness)
    except ValueError:
        raise InvalidInput({"usefulness": "That answer isn't one I know."}) from None
    found = session.exec(
        select(VisitFeedback).where(
            VisitFeedback.visit_id == visit_id, VisitFeedback.person_id == person.id
        )
    ).first()
    feedback = found or VisitFeedback(
        visit_id=visit_id, person_id=person.id or 0, usefulness=answer, answered_at=ctx.now
    )
    feedback.usefulness, feedback.answered_at = answer, ctx.now
    session.add(feedback)
    summary = summarise_visit(session, visit, ctx.vocabulary)
    owe_update(
        session,
        now=ctx.now,
        update_of=feedback_ref(visit_id, person.id or 0),
        text="Thank you for your answer.",
        view=feedback_card(summary, answered=answer),
    )
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="visit.feedback",
        subject_type="visit",
        subject_id=visit_id,
        usefulness=str(answer),
        changed=found is not None,
    )
    return "Thank you — noted."
