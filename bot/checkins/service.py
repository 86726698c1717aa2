"""Check-ins: a scheduled "how is the support going?" DM to the head and the supporter of
each active deployment, with its answers, one reminder, missed rounds, cadence and pausing.

At any time an active, unpaused deployment has exactly one `scheduled` check-in: the next.
Sending one schedules the one after; the first answer moves that to the answer's day plus
the cadence; a check-in still unanswered when the next falls due is marked missed. All times
land on a working day at CHECKIN_TIME in TIMEZONE (see `bot.core.school_calendar`).

Services take the caller's session and a context with the time; they owe messages in the same
transaction. The due-work functions at the end claim rows atomically (`claim_rows`), so two
processes never send, remind or mark the same check-in twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.checkins.views import (
    AnswerView,
    AttentionAlert,
    CheckinClosed,
    CheckinMember,
    CheckinMessage,
    CheckinView,
    CompletedNotice,
    cadence_label,
    checkin_text,
)
from bot.core import audit
from bot.core.clock import when
from bot.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.core.messages import Card
from bot.core.text import escape
from bot.directory.people import person_by_user_id, roles_of
from bot.members.service import current_members, current_membership, last_member_role
from bot.outbox.notify import notify_coordinators
from bot.outbox.owing import owe_post, owe_update, was_posted
from bot.reach.people import address_of, user_id_of
from bot.requests.intake import card_ref, refresh_card, summarise
from storage.models import (
    ACCEPTED,
    CLOSED,
    CheckIn,
    CheckInAnswer,
    CheckInOutcome,
    CheckInStatus,
    Deployment,
    DeploymentStatus,
    ExpertiseTag,
    OutboxMessage,
    OutboxStatus,
    Person,
    RequestTag,
    School,
    SupportRequest,
)

if TYPE_CHECKING:
    from bot.core.context import ServiceContext

log = logging.getLogger(__name__)

ON_TRACK, NEEDS_ATTENTION, COMPLETED, SNOOZED = CheckInOutcome
OUTCOMES = tuple(CheckInOutcome)
OUTCOME_WORDS = {
    ON_TRACK: "on track",
    NEEDS_ATTENTION: "needs attention",
    COMPLETED: "completed",
    SNOOZED: "snoozed for a week",
}
SNOOZE_DAYS = 7
LESS_OFTEN_DAYS = 28
# What the frequency menu offers (plus CHECKIN_EVERY_DAYS and the current choice).
CADENCE_CHOICES = (7, 14, LESS_OFTEN_DAYS)
# After this many missed rounds in a row, a check-in gently asks "still want these?".
STILL_WANT_AFTER = 2
NOTE_LIMIT = 1000
IMPACT_LIMIT = 2000
# A row whose work failed is left alone this long, so one bad row never blocks the rest.
FAILED_ROW_BACKOFF = timedelta(minutes=30)
# Colleagues and shadows get check-ins and answer them for themselves; completing the support
# stays with the head and the lead supporter. When check-ins come (snoozing one, how often,
# pausing, resuming) is for the head and the lead supporter, or a coordinator brokering it.
TEAM_ROLES = ("colleague", "shadow")
ANSWERING_ROLES = ("head", "supporter", *TEAM_ROLES)
SCHEDULING_ROLES = ("head", "supporter", "coordinator")


# --- what a check-in looks like to the people in it --------------------------------------------
def need_labels(session: Session, request_id: int) -> tuple[str, ...]:
    """The labels of a request's areas of need, from the stored vocabulary."""
    return tuple(
        session.exec(
            select(ExpertiseTag.label)
            .join(RequestTag, col(RequestTag.tag_slug) == col(ExpertiseTag.slug))
            .where(RequestTag.request_id == request_id)
            .order_by(ExpertiseTag.label)
        )
    )


class Cadenced(Protocol):
    """A deployment, or a row of one, that may have chosen its own check-in frequency."""

    @property
    def checkin_every_days(self) -> int | None: ...


def cadence_of(deployment: Cadenced, default_days: int) -> int:
    """Days between check-ins for this deployment: its own choice, else CHECKIN_EVERY_DAYS."""
    return deployment.checkin_every_days or default_days


def cadence_choices(deployment: Deployment, default_days: int) -> tuple[int, ...]:
    """The frequencies, in days, people may choose for this deployment's check-ins."""
    return tuple(sorted({*CADENCE_CHOICES, default_days, cadence_of(deployment, default_days)}))


def load_view(session: Session, ctx: ServiceContext, checkin: CheckIn) -> CheckinView:
    """Gather a check-in, its deployment, request, people and answers for rendering."""
    deployment = session.get(Deployment, checkin.deployment_id)
    if deployment is None:
        raise NotFound("I can't find that deployment any more.")
    request = session.get(SupportRequest, deployment.request_id)
    if request is None:
        raise NotFound("That request no longer exists.")
    head = session.get(Person, request.requester_id)
    supporter = session.get(Person, deployment.supporter_id)
    school = session.get(School, request.school_id) if request.school_id else None
    members = _members(session, deployment.id or 0)
    answers = _answer_views(session, checkin, deployment, request.requester_id)
    next_due = session.exec(
        select(CheckIn.due_at)
        .where(CheckIn.deployment_id == deployment.id, CheckIn.status == CheckInStatus.SCHEDULED)
        .order_by(col(CheckIn.sequence).desc())
    ).first()
    missed_in_a_row = _missed_in_a_row(session, checkin)
    superseded = _superseded(session, checkin)
    return CheckinView(
        checkin_id=checkin.id or 0,
        sequence=checkin.sequence,
        status=checkin.status,
        deployment_id=deployment.id or 0,
        deployment_status=deployment.status,
        request_id=request.id or 0,
        school=school.name if school else None,
        needs=need_labels(session, request.id or 0),
        head_id=head.id if head else None,
        head_slack_id=user_id_of(head) if head and head.erased_at is None else None,
        head_name=_name(head),
        supporter_id=deployment.supporter_id,
        supporter_slack_id=user_id_of(supporter) if supporter else "",
        supporter_name=_name(supporter),
        started_at=deployment.started_at,
        cadence_days=cadence_of(deployment, ctx.settings.checkin_every_days),
        default_cadence_days=ctx.settings.checkin_every_days,
        cadence_choices=cadence_choices(deployment, ctx.settings.checkin_every_days),
        paused=deployment.checkins_paused,
        answers=tuple(answers),
        remind_at=checkin.remind_at,
        next_due_at=next_due,
        missed_in_a_row=missed_in_a_row,
        superseded=superseded,
        ask_if_still_wanted=(
            checkin.status == CheckInStatus.SENT
            and missed_in_a_row >= STILL_WANT_AFTER
            and not deployment.checkins_paused
            and cadence_of(deployment, ctx.settings.checkin_every_days) < LESS_OFTEN_DAYS
        ),
        members=members,
    )


def _members(session: Session, deployment_id: int) -> tuple[CheckinMember, ...]:
    """The deployment's colleagues and shadows now (never someone erased)."""
    found = []
    for member in current_members(session, deployment_id):
        person = session.get(Person, member.person_id)
        if person is not None and person.erased_at is None:
            found.append(CheckinMember(member.person_id, address_of(person), str(member.role)))
    return tuple(found)


def _answer_views(
    session: Session, checkin: CheckIn, deployment: Deployment, requester_id: int
) -> list[AnswerView]:
    """The answers to one check-in so far, oldest first, each with its giver's part."""
    answers = []
    for answer in session.exec(
        select(CheckInAnswer)
        .where(CheckInAnswer.checkin_id == checkin.id)
        .order_by(col(CheckInAnswer.answered_at), col(CheckInAnswer.id))
    ):
        person = session.get(Person, answer.person_id)
        answers.append(
            AnswerView(
                person_id=answer.person_id,
                name=_name(person),
                role=_answered_as(session, deployment, requester_id, answer.person_id),
                outcome=answer.outcome,
                answered_at=answer.answered_at,
            )
        )
    return answers


def _answered_as(
    session: Session, deployment: Deployment, requester_id: int, person_id: int
) -> str:
    """Someone's part in a deployment as their answer shows it: head, supporter, colleague or
    shadow (now or then), else the coordinator who snoozed it."""
    if person_id == requester_id:
        return "head"
    if person_id == deployment.supporter_id:
        return "supporter"
    return last_member_role(session, deployment.id or 0, person_id) or "coordinator"


def _missed_in_a_row(session: Session, checkin: CheckIn) -> int:
    """How many check-ins just before this one of its deployment were missed."""
    earlier = session.exec(
        select(CheckIn.status)
        .where(CheckIn.deployment_id == checkin.deployment_id, CheckIn.sequence < checkin.sequence)
        .order_by(col(CheckIn.sequence).desc())
    ).all()
    missed = 0
    for status in earlier:
        if status != CheckInStatus.MISSED:
            break
        missed += 1
    return missed


def _superseded(session: Session, checkin: CheckIn) -> bool:
    """Whether a later check-in of the same deployment has already gone out."""
    later = session.exec(
        select(func.count())
        .select_from(CheckIn)
        .where(
            CheckIn.deployment_id == checkin.deployment_id,
            CheckIn.sequence > checkin.sequence,
            col(CheckIn.status).in_(
                (CheckInStatus.SENT, CheckInStatus.ANSWERED, CheckInStatus.MISSED)
            ),
        )
    ).one()
    return later > 0


def _name(person: Person | None) -> str:
    if person is None or person.erased_at is not None:
        return "someone"
    return person.name


# --- scheduling --------------------------------------------------------------------------------
def due_after_days(ctx: ServiceContext, days: int, *, from_day: date | None = None) -> datetime:
    """CHECKIN_TIME on `from_day` (default: today, locally) plus `days`, or the next working day."""
    start = from_day or ctx.calendar.local(ctx.now).date()
    return ctx.calendar.schedule_on_working_day(
        start + timedelta(days=days), ctx.settings.checkin_time
    )


def reminder_at(ctx: ServiceContext, *, sent_at: datetime, next_due: datetime) -> datetime:
    """When the one reminder of a check-in sent at `sent_at` falls due: CHECKIN_REMINDER_HOURS
    of working time later, or half-way (in working time) to the next check-in if that comes
    first, so a weekly check-in is reminded before the next is sent and this one is missed."""
    reminder = ctx.calendar.add_working_hours(sent_at, ctx.settings.checkin_reminder_hours)
    if reminder < next_due:
        return reminder
    return ctx.calendar.add_working_hours(
        sent_at, ctx.calendar.working_hours_between(sent_at, next_due) / 2
    )


def schedule_for_new_deployment(
    session: Session, ctx: ServiceContext, deployment: Deployment
) -> CheckIn:
    """Schedule the first check-in CHECKIN_FIRST_DAYS after acceptance, on a working day."""
    due = due_after_days(ctx, ctx.settings.checkin_first_days)
    checkin = CheckIn(deployment_id=deployment.id or 0, sequence=1, due_at=due)
    session.add(checkin)
    return checkin


def _next_sequence(session: Session, deployment_id: int) -> int:
    current = session.exec(
        select(func.max(CheckIn.sequence)).where(CheckIn.deployment_id == deployment_id)
    ).one()
    return int(current or 0) + 1


def set_next_due(session: Session, deployment_id: int, due: datetime) -> None:
    """Move the deployment's scheduled check-in to `due`, or schedule one if there is none.

    A conditional UPDATE: a check-in a concurrent job has just sent is left as it is.
    """
    moved = session.execute(
        update(CheckIn)
        .where(
            col(CheckIn.deployment_id) == deployment_id,
            col(CheckIn.status) == CheckInStatus.SCHEDULED,
        )
        .values(due_at=due)
    ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    if not moved:
        session.add(
            CheckIn(
                deployment_id=deployment_id,
                sequence=_next_sequence(session, deployment_id),
                due_at=due,
            )
        )
        session.flush()


def cancel_future_checkins(session: Session, deployment_id: int, *, now: datetime) -> int:
    """Cancel every check-in of a deployment not yet sent, and close any still awaiting an
    answer (their DMs say so); returns how many were cancelled."""
    result = session.execute(
        update(CheckIn)
        .where(
            col(CheckIn.deployment_id) == deployment_id,
            col(CheckIn.status) == CheckInStatus.SCHEDULED,
        )
        .values(status=CheckInStatus.CANCELLED)
    )
    cancelled = int(result.rowcount or 0)  # type: ignore[attr-defined]  # a DML result is a CursorResult
    deployment = session.get(Deployment, deployment_id)
    ended = deployment is not None and deployment.status != DeploymentStatus.ACTIVE
    for checkin in awaiting_answers(session, deployment_id):
        checkin.status = CheckInStatus.CANCELLED
        checkin.claimed_until = None
        cancelled += 1
        if ended:
            text = "This support has ended, so this check-in is closed. Thank you."
            for ref in _owed_refs(session, checkin.id or 0):
                owe_update(session, now=now, update_of=ref, text=text, view=CheckinClosed(text))
    return cancelled


# --- who may answer ------------------------------------------------------------------------------
@dataclass
class _Involved:
    checkin: CheckIn
    deployment: Deployment
    request: SupportRequest
    person: Person
    role: str  # head | supporter | colleague | shadow | coordinator


def _involved(session: Session, checkin_id: int, actor: str, *, action: str) -> _Involved:
    """The check-in and the actor's part in it; NotAllowed unless that part may do `action`
    (`checkin.answer` for ANSWERING_ROLES, anything else for SCHEDULING_ROLES).

    The deployment row, then the check-in row, are locked (PostgreSQL) so that everything
    people do to one deployment happens one at a time, always taking locks in that order.
    """
    found = session.get(CheckIn, checkin_id)
    if found is None:
        raise NotFound("I can't find that check-in any more.")
    deployment = session.get(
        Deployment, found.deployment_id, with_for_update=True, populate_existing=True
    )
    checkin = session.get(CheckIn, checkin_id, with_for_update=True, populate_existing=True)
    assert checkin is not None
    request = session.get(SupportRequest, deployment.request_id) if deployment else None
    if deployment is None or request is None:
        raise NotFound("I can't find the support this check-in was about any more.")
    person = person_by_user_id(session, actor)
    role = _role_in(session, deployment, request, person)
    answering = action == "checkin.answer"
    if person is None or role is None or (answering and role not in ANSWERING_ROLES):
        what = "answer it" if answering else "change these check-ins"
        raise NotAllowed(
            f"This check-in is for the school's head and their supporter, so only they can {what}.",
            action=action,
            subject_type="checkin",
            subject_id=checkin_id,
        )
    if not answering and role not in SCHEDULING_ROLES:
        raise NotAllowed(
            _SNOOZE_LEFT_TO_LEADS if action == "checkin.snooze" else _CADENCE_LEFT_TO_LEADS,
            action=action,
            subject_type="checkin",
            subject_id=checkin_id,
        )
    return _Involved(checkin, deployment, request, person, role)


# What a colleague or a shadow hears on trying to change when check-ins come.
_CADENCE_LEFT_TO_LEADS = (
    "The head and the lead supporter decide how often check-ins come; please ask them."
)
_SNOOZE_LEFT_TO_LEADS = (
    "The head and the lead supporter decide when check-ins come, so only they can snooze this "
    "one; please ask them. You can still answer it for yourself."
)


def _role_in(
    session: Session, deployment: Deployment, request: SupportRequest, person: Person | None
) -> str | None:
    """The person's part in a deployment: head, supporter, colleague, shadow or, for anyone
    else in the coordinator role, coordinator (or None)."""
    if person is None or person.id is None:
        return None
    if person.id == deployment.supporter_id:
        return "supporter"
    if person.id == request.requester_id:
        return "head"
    member = current_membership(session, deployment.id or 0, person.id)
    if member is not None:
        return str(member.role)
    return "coordinator" if "coordinator" in roles_of(session, person.id) else None


def _ended_message(deployment: Deployment) -> str:
    if deployment.status == DeploymentStatus.COMPLETED:
        return "This support has been marked completed, so nothing more is needed. Thank you!"
    return "This support has ended, so this check-in is closed. Thank you."


def _check_answerable(session: Session, ctx: ServiceContext, involved: _Involved) -> None:
    """Conflict (a polite message, nothing changed) when this check-in can't take answers."""
    checkin, deployment = involved.checkin, involved.deployment
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict(_ended_message(deployment))
    if checkin.status == CheckInStatus.CANCELLED:
        raise Conflict(
            "Check-ins for this support are paused, so this one is closed. Choose a frequency "
            "or press *Resume check-ins* to start them again."
            if deployment.checkins_paused
            else "This check-in was cancelled, so nothing more is needed."
        )
    if checkin.status == CheckInStatus.MISSED or load_view(session, ctx, checkin).superseded:
        raise Conflict("There's a newer check-in for this support — please answer that one.")
    if checkin.status not in (CheckInStatus.SENT, CheckInStatus.ANSWERED):
        raise Conflict("This check-in hasn't been sent yet.")
    mine = session.exec(
        select(CheckInAnswer).where(
            CheckInAnswer.checkin_id == checkin.id,
            CheckInAnswer.person_id == involved.person.id,
        )
    ).first()
    if mine is not None:
        raise Conflict(
            f"You've already answered this check-in ({OUTCOME_WORDS.get(mine.outcome, '')}) "
            "— thank you."
        )


def check_may_answer(session: Session, ctx: ServiceContext, *, actor: str, checkin_id: int) -> None:
    """Raise NotAllowed or Conflict now if `actor` can't answer (before opening a note modal)."""
    _check_answerable(session, ctx, _involved(session, checkin_id, actor, action="checkin.answer"))


# --- answering ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnswerResult:
    """What an answer did."""

    checkin_id: int
    outcome: str
    first_answer: bool
    next_due_at: datetime | None


def answer_checkin(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    checkin_id: int,
    outcome: str,
    note: str | None = None,
) -> AnswerResult:
    """Record the head's or supporter's answer and act on it.

    On track and Needs attention (with a note, which alerts coordinators) schedule the next
    check-in from today; Completed (with an impact note) closes the deployment; Snooze a week
    asks again in seven days. Either person's first answer makes the check-in answered; the
    other's answer is recorded too. Both DMs are updated in place.
    """
    note = _checked_note(outcome, note)
    action = "checkin.snooze" if outcome == SNOOZED else "checkin.answer"
    involved = _involved(session, checkin_id, actor, action=action)
    _check_answerable(session, ctx, involved)
    if outcome == COMPLETED and involved.role in TEAM_ROLES:
        raise Conflict(
            "Thank you — only the head or the lead supporter can mark the support completed."
        )
    checkin, deployment = involved.checkin, involved.deployment
    first = checkin.status == CheckInStatus.SENT
    if outcome == SNOOZED and not first:
        raise Conflict("Someone has already answered this check-in, so there's nothing to snooze.")
    limit = IMPACT_LIMIT if outcome == COMPLETED else NOTE_LIMIT
    _record_answer(session, ctx, involved, actor=actor, outcome=outcome, note=note[:limit])
    if outcome == COMPLETED:
        _complete(session, ctx, involved, impact=note[:limit])
    elif outcome == SNOOZED:
        set_next_due(session, deployment.id or 0, snoozed_until(ctx))
    elif first:
        days = cadence_of(deployment, ctx.settings.checkin_every_days)
        set_next_due(session, deployment.id or 0, due_after_days(ctx, days))
    if outcome == NEEDS_ATTENTION:
        view = load_view(session, ctx, checkin)
        notify_coordinators(
            session,
            ctx.settings,
            now=ctx.now,
            text=f"Check-in on request #{view.request_id} needs attention.",
            view=AttentionAlert(view, role=involved.role, name=involved.person.name, note=note),
        )
    refresh_checkin_messages(session, ctx, checkin)
    next_due = load_view(session, ctx, checkin).next_due_at
    return AnswerResult(checkin.id or 0, outcome, first, next_due)


def answered_words(ctx: ServiceContext, answered: AnswerResult) -> str:
    """What the person who answered is told, on either platform: thanks, and after *Snooze a
    week* when the next check-in comes ("Thank you: snoozed for a week. The next is on …")."""
    if answered.outcome != SNOOZED:
        return "Thank you: noted."
    return f"Thank you: {OUTCOME_WORDS[SNOOZED]}.{next_is_on(ctx, answered.next_due_at)}"


def _checked_note(outcome: str, note: str | None) -> str:
    """The answer's note, stripped; raises when the outcome is unknown or needs a note."""
    if outcome not in OUTCOMES:
        raise NotFound("I don't know that answer.")
    note = (note or "").strip()
    if outcome == NEEDS_ATTENTION and not note:
        raise InvalidInput({"note": "Please say briefly what needs attention."})
    if outcome == COMPLETED and not note:
        raise InvalidInput({"impact": "Please say briefly what difference the support made."})
    return note


def _record_answer(
    session: Session,
    ctx: ServiceContext,
    involved: _Involved,
    *,
    actor: str,
    outcome: str,
    note: str,
) -> None:
    """Store one person's answer; the first answer makes the check-in answered."""
    checkin = involved.checkin
    session.add(
        CheckInAnswer(
            checkin_id=checkin.id or 0,
            person_id=involved.person.id or 0,
            outcome=CheckInOutcome(outcome),
            note=note or None,
            answered_at=ctx.now,
        )
    )
    if checkin.status == CheckInStatus.SENT:
        checkin.status = CheckInStatus.ANSWERED
        checkin.answered_at = ctx.now
        checkin.claimed_until = None
    session.flush()
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="checkin.answered",
        subject_type="checkin",
        subject_id=checkin.id or 0,
        deployment_id=involved.deployment.id,
        outcome=outcome,
        role=involved.role,
    )


def _complete(session: Session, ctx: ServiceContext, involved: _Involved, *, impact: str) -> None:
    """Close the deployment from a check-in answered *Completed*."""
    close_deployment(
        session,
        ctx,
        deployment=involved.deployment,
        request=involved.request,
        person=involved.person,
        role=involved.role,
        impact=impact,
        checkin_id=involved.checkin.id,
    )


def close_deployment(
    session: Session,
    ctx: ServiceContext,
    *,
    deployment: Deployment,
    request: SupportRequest,
    person: Person,
    role: str,
    impact: str,
    checkin_id: int | None = None,
    via: str = "checkin",
) -> None:
    """Complete an active deployment and close its request with the impact note: check-ins
    cancelled (their DMs say so), the supporter's capacity freed, coordinators told, audited.
    The closing record is asked for by the lifecycle's due work. Conflict if it has ended
    already (a double click, or the other person closing it first): nothing changes."""
    closed = session.execute(
        update(Deployment)
        .where(
            col(Deployment.id) == deployment.id, col(Deployment.status) == DeploymentStatus.ACTIVE
        )
        .values(status=DeploymentStatus.COMPLETED, ended_at=ctx.now, impact_note=impact or None)
    ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    if closed != 1:
        session.refresh(deployment)
        raise Conflict(_ended_message(deployment))
    session.refresh(deployment)
    if request.status == ACCEPTED:
        request.status = CLOSED
        request.closed_at = ctx.now
        request.updated_at = ctx.now
        request.impact_note = impact or None
    cancel_future_checkins(session, deployment.id or 0, now=ctx.now)
    audit.record(
        session,
        at=ctx.now,
        actor=user_id_of(person),
        action="deployment.completed",
        subject_type="deployment",
        subject_id=deployment.id or 0,
        request_id=request.id,
        checkin_id=checkin_id,
        via=via,
    )
    _tell_coordinators_completed(session, ctx, deployment, request, person, role, impact)
    if was_posted(session, card_ref(request.id or 0)):
        refresh_card(session, summarise(session, request, ctx.vocabulary), now=ctx.now)


def _tell_coordinators_completed(
    session: Session,
    ctx: ServiceContext,
    deployment: Deployment,
    request: SupportRequest,
    person: Person,
    role: str,
    impact: str,
) -> None:
    """The coordinators' notice of a completed deployment, shown with its latest check-in."""
    latest = session.exec(
        select(CheckIn)
        .where(CheckIn.deployment_id == deployment.id)
        .order_by(col(CheckIn.sequence).desc())
    ).first()
    text = f"Support on request #{request.id} has been completed."
    if latest is None:  # every deployment is given a first check-in; this is a safety net
        view: object = Card((f"{text} Marked by {escape(person.name)} ({role}).",))
    else:
        view = CompletedNotice(
            load_view(session, ctx, latest), name=person.name, role=role, impact=impact
        )
    notify_coordinators(session, ctx.settings, now=ctx.now, text=text, view=view)


# --- cadence, pause and resume -------------------------------------------------------------------
def change_cadence(
    session: Session, ctx: ServiceContext, *, actor: str, checkin_id: int, days: int
) -> str:
    """Set how often this deployment's check-ins come (resuming them if paused); returns what
    to tell the person. Choosing the frequency they already have (a double click) changes
    nothing."""
    involved = _involved(session, checkin_id, actor, action="checkin.cadence")
    deployment = involved.deployment
    if days not in cadence_choices(deployment, ctx.settings.checkin_every_days):
        raise Conflict("Please choose a frequency from the list.")
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict(_ended_message(deployment))
    label = cadence_label(days).lower()
    if (
        not deployment.checkins_paused
        and cadence_of(deployment, ctx.settings.checkin_every_days) == days
    ):
        # A double click, or the frequency they have already: nothing changes, nothing is owed.
        return f"Check-ins are already {label}.{_next_due_words(session, ctx, involved.checkin)}"
    was_paused = deployment.checkins_paused
    deployment.checkin_every_days = days
    deployment.checkins_paused = False
    next_due = _rebased_due(session, ctx, deployment, days)
    set_next_due(session, deployment.id or 0, next_due)
    _remind_before(session, ctx, deployment.id or 0, next_due)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.checkins_resumed" if was_paused else "deployment.cadence_changed",
        subject_type="deployment",
        subject_id=deployment.id or 0,
        every_days=days,
    )
    refresh_checkin_messages(session, ctx, involved.checkin)
    return f"Check-ins are now {label}.{_next_due_words(session, ctx, involved.checkin)}"


def _next_due_words(session: Session, ctx: ServiceContext, checkin: CheckIn) -> str:
    """ " The next is on …" for the deployment's next check-in ("" when none is scheduled)."""
    return next_is_on(ctx, load_view(session, ctx, checkin).next_due_at)


def next_is_on(ctx: ServiceContext, next_due: datetime | None) -> str:
    """ " The next is on …" for a check-in due at `next_due` ("" for none), London time."""
    return f" The next is on {when(next_due, ctx.settings.tz)}." if next_due else ""


def _remind_before(
    session: Session, ctx: ServiceContext, deployment_id: int, next_due: datetime
) -> None:
    """The waiting check-in's reminder, not yet sent, moved before the next check-in at
    `next_due` if the new cadence brought that forward."""
    waiting = session.exec(
        select(CheckIn).where(
            CheckIn.deployment_id == deployment_id,
            CheckIn.status == CheckInStatus.SENT,
            col(CheckIn.reminded_at).is_(None),
        )
    ).all()
    for checkin in waiting:
        if checkin.sent_at is not None and checkin.remind_at is not None:
            checkin.remind_at = reminder_at(ctx, sent_at=checkin.sent_at, next_due=next_due)


def _rebased_due(
    session: Session, ctx: ServiceContext, deployment: Deployment, days: int
) -> datetime:
    """The next check-in `days` after the last one sent (or after today), never in the past."""
    last_sent = session.exec(
        select(func.max(CheckIn.sent_at)).where(CheckIn.deployment_id == deployment.id)
    ).one()
    base = ctx.calendar.local(last_sent or ctx.now).date()
    due = due_after_days(ctx, days, from_day=base)
    earliest = ctx.calendar.next_working_instant(ctx.now, ctx.settings.checkin_time)
    return max(due, earliest)


def pause_checkins(session: Session, ctx: ServiceContext, *, actor: str, checkin_id: int) -> str:
    """Pause a deployment's check-ins: nothing more is sent until someone resumes them."""
    involved = _involved(session, checkin_id, actor, action="checkin.pause")
    deployment = involved.deployment
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict(_ended_message(deployment))
    if not pause_schedule(session, ctx, deployment, actor=actor, shown=involved.checkin):
        raise Conflict(ALREADY_PAUSED)
    return (
        "Check-ins for this support are paused. Press *Resume check-ins* or choose a "
        "frequency on the check-in message whenever you want them again."
    )


ALREADY_PAUSED = "Check-ins for this support are already paused."
NOT_PAUSED = "Check-ins for this support aren't paused."


def pause_schedule(
    session: Session,
    ctx: ServiceContext,
    deployment: Deployment,
    *,
    actor: str,
    shown: CheckIn | None = None,
) -> bool:
    """Pause an active deployment's check-ins (the one scheduled and any awaiting answers are
    cancelled), audited, and its check-in messages refreshed (`shown`, the one clicked, else
    the latest sent); False, changing nothing, when they are paused already."""
    if deployment.checkins_paused:
        return False
    deployment.checkins_paused = True
    waiting = awaiting_answers(session, deployment.id or 0)
    shown = shown or latest_sent(session, deployment.id or 0)
    session.execute(
        update(CheckIn)
        .where(
            col(CheckIn.deployment_id) == deployment.id,
            col(CheckIn.status).in_((CheckInStatus.SCHEDULED, CheckInStatus.SENT)),
        )
        .values(status=CheckInStatus.CANCELLED, claimed_until=None)
    )
    for checkin in waiting:
        if shown is None or checkin.id != shown.id:
            session.refresh(checkin)
            refresh_checkin_messages(session, ctx, checkin)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.checkins_paused",
        subject_type="deployment",
        subject_id=deployment.id or 0,
    )
    if shown is not None:
        session.refresh(shown)
        refresh_checkin_messages(session, ctx, shown)
    return True


def resume_checkins(session: Session, ctx: ServiceContext, *, actor: str, checkin_id: int) -> str:
    """Resume paused check-ins at the deployment's cadence, counting from today."""
    involved = _involved(session, checkin_id, actor, action="checkin.resume")
    deployment = involved.deployment
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict(_ended_message(deployment))
    if not resume_schedule(session, ctx, deployment, actor=actor, shown=involved.checkin):
        raise Conflict(NOT_PAUSED)
    return f"Check-ins are back on.{_next_due_words(session, ctx, involved.checkin)}"


def resume_schedule(
    session: Session,
    ctx: ServiceContext,
    deployment: Deployment,
    *,
    actor: str,
    shown: CheckIn | None = None,
) -> bool:
    """Resume an active deployment's paused check-ins at its cadence, counting from today,
    audited, and its check-in messages refreshed (`shown`, else the latest sent); False,
    changing nothing, when they aren't paused."""
    if not deployment.checkins_paused:
        return False
    deployment.checkins_paused = False
    days = cadence_of(deployment, ctx.settings.checkin_every_days)
    set_next_due(session, deployment.id or 0, due_after_days(ctx, days))
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.checkins_resumed",
        subject_type="deployment",
        subject_id=deployment.id or 0,
        every_days=days,
    )
    shown = shown or latest_sent(session, deployment.id or 0)
    if shown is not None:
        refresh_checkin_messages(session, ctx, shown)
    return True


def snoozed_until(ctx: ServiceContext) -> datetime:
    """When a snoozed check-in asks again: SNOOZE_DAYS from today, on a working day."""
    return due_after_days(ctx, SNOOZE_DAYS)


def latest_sent(session: Session, deployment_id: int) -> CheckIn | None:
    """The deployment's most recent check-in that went out (its messages show where the
    check-ins stand), or None before the first."""
    return session.exec(
        select(CheckIn)
        .where(CheckIn.deployment_id == deployment_id, col(CheckIn.sent_at).is_not(None))
        .order_by(col(CheckIn.sequence).desc())
    ).first()


def awaiting_answers(session: Session, deployment_id: int) -> list[CheckIn]:
    """The deployment's check-ins that went out and nobody has answered yet."""
    return list(
        session.exec(
            select(CheckIn).where(
                CheckIn.deployment_id == deployment_id, CheckIn.status == CheckInStatus.SENT
            )
        )
    )


def next_scheduled(session: Session, deployment_id: int) -> CheckIn | None:
    """The deployment's check-in waiting to be sent, if any."""
    return session.exec(
        select(CheckIn).where(
            CheckIn.deployment_id == deployment_id, CheckIn.status == CheckInStatus.SCHEDULED
        )
    ).first()


# --- the DMs -------------------------------------------------------------------------------------
def checkin_ref(checkin_id: int, person_id: int, *, reminder: bool = False) -> str:
    """The outbox ref of one person's check-in DM (or its reminder), for updates in place."""
    return f"checkin:{checkin_id}:{person_id}" + (":reminder" if reminder else "")


def _owed_refs(session: Session, checkin_id: int) -> list[str]:
    """Refs of this check-in's DMs that were owed and have not failed for good.

    Only these are updated: an update of a message that was never sent would wait forever.
    The refs possible are few (head and supporter, each with a reminder), so they are looked
    up exactly in the `ref` index rather than by a LIKE prefix that scans the whole outbox.
    """
    possible = [
        checkin_ref(checkin_id, person_id, reminder=reminder)
        for person_id in _people_of_checkin(session, checkin_id)
        for reminder in (False, True)
    ]
    if not possible:
        return []
    refs = session.exec(
        select(col(OutboxMessage.ref)).where(
            col(OutboxMessage.ref).in_(possible),
            col(OutboxMessage.method) == "chat.postMessage",
            col(OutboxMessage.status) != OutboxStatus.FAILED,
        )
    )
    return sorted({ref for ref in refs if ref is not None})


def _people_of_checkin(session: Session, checkin_id: int) -> set[int]:
    """The head and supporter a check-in's DMs went to (by person id)."""
    row = session.exec(
        select(SupportRequest.requester_id, Deployment.supporter_id)
        .join(Deployment, col(Deployment.request_id) == col(SupportRequest.id))
        .join(CheckIn, col(CheckIn.deployment_id) == col(Deployment.id))
        .where(col(CheckIn.id) == checkin_id)
    ).first()
    people = {person_id for person_id in row or () if person_id}
    deployment_id = session.exec(
        select(CheckIn.deployment_id).where(col(CheckIn.id) == checkin_id)
    ).first()
    if deployment_id is not None:
        people |= {m.person_id for m in current_members(session, deployment_id)}
    return people


def close_checkin_dms_for(
    session: Session, *, now: datetime, deployment_id: int, person_id: int, text: str
) -> int:
    """Close one person's DMs of the deployment's check-ins still awaiting answers (they have
    left its team); returns how many were updated."""
    possible = [
        checkin_ref(checkin.id or 0, person_id, reminder=reminder)
        for checkin in awaiting_answers(session, deployment_id)
        for reminder in (False, True)
    ]
    refs = [ref for ref in possible if was_posted(session, ref)]
    for ref in refs:
        owe_update(session, now=now, update_of=ref, text=text, view=CheckinClosed(text))
    return len(refs)


def refresh_checkin_messages(session: Session, ctx: ServiceContext, checkin: CheckIn) -> int:
    """Owe an in-place update of every DM (and reminder) of this check-in; returns how many."""
    session.flush()
    view = load_view(session, ctx, checkin)
    refs = _owed_refs(session, checkin.id or 0)
    for ref in refs:
        parts = ref.split(":")
        person_id = int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else 0
        reminder = ref.endswith(":reminder")
        owe_update(
            session,
            now=ctx.now,
            update_of=ref,
            text=checkin_text(view, reminder=reminder),
            view=CheckinMessage(
                view, viewer_id=person_id, tz=str(ctx.settings.tz), reminder=reminder
            ),
        )
    return len(refs)


def _recipients(session: Session, view: CheckinView) -> list[Person]:
    """The head, the supporter and the team (once each, never someone erased)."""
    people: dict[int, Person] = {}
    team = tuple(m.person_id for m in view.members)
    for person_id in (view.head_id, view.supporter_id, *team):
        person = session.get(Person, person_id) if person_id else None
        if person is not None and person.erased_at is None and person.id is not None:
            people[person.id] = person
    return list(people.values())


def owe_checkin_dms(
    session: Session, ctx: ServiceContext, view: CheckinView, *, reminder: bool
) -> int:
    recipients = _recipients(session, view)
    for person in recipients:
        owe_post(
            session,
            now=ctx.now,
            channel=address_of(person),
            text=checkin_text(view, reminder=reminder),
            view=CheckinMessage(
                view, viewer_id=person.id or 0, tz=str(ctx.settings.tz), reminder=reminder
            ),
            ref=checkin_ref(view.checkin_id, person.id or 0, reminder=reminder),
        )
    return len(recipients)
