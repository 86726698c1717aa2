"""A coordinator pauses, resumes or snoozes any active support's check-ins (*Check-ins for a
support…*): a school shut for a week, a head off sick, an inspection week.

Keyed by the deployment, not by a check-in message (coordinators are not sent those), and
done as the head's and the lead supporter's buttons do it (`bot.checkins.service`): one
transaction, audited, the check-in messages refreshed in place. The head and the lead
supporter are told in one line. Doing it twice (a double submit) changes nothing the second
time; anyone but a coordinator is refused (audited at the edge), and an ended support too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from bot.checkins.service import (
    awaiting_answers,
    latest_sent,
    next_is_on,
    next_scheduled,
    pause_schedule,
    refresh_checkin_messages,
    resume_schedule,
    set_next_due,
    snoozed_until,
)
from bot.core import audit
from bot.core.errors import Conflict, NotFound
from bot.core.text import escape
from bot.deployments.ending import coordinators_support, tell_person
from bot.deployments.views import PAUSE, RESUME, SNOOZE
from storage.models import CheckInStatus, Deployment, School, SupportRequest

if TYPE_CHECKING:
    from bot.core.context import ServiceContext

NOT_A_COORDINATOR = "Only coordinators can change a support's check-ins."
PAUSED = "Done: check-ins for this support are paused until someone resumes them."
ALREADY_PAUSED = "Check-ins for this support are already paused, so nothing has changed."
NOT_PAUSED = "Check-ins for this support aren't paused, so nothing has changed."
ALREADY_PUT_OFF = "The next check-in is a week or more away already, so nothing has changed."
_PUT_OFF = "the next check-in is put off for a week"
_PUT_OFF_FOR_LEADS = "put off the next check-in for a week"
_CLOSED = "the check-in awaiting answers is closed, and the next is a week or more away already"
_CLOSED_FOR_LEADS = "closed the check-in awaiting your answers (no reminder will come)"
PAUSED_SO_NO_SNOOZE = (
    "Check-ins for this support are paused, so there's nothing to snooze. Resume them first."
)


def change_checkins(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int, change: str
) -> str:
    """Pause, resume or snooze (`change`) a support's check-ins as a coordinator; returns what
    to tell them. NotFound for a change not offered (a forged form)."""
    work = {PAUSE: pause_for, RESUME: resume_for, SNOOZE: snooze_for}.get(change)
    if work is None:
        raise NotFound("I don't know that change to check-ins. Please choose one from the list.")
    return work(session, ctx, actor=actor, deployment_id=deployment_id)


def pause_for(session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int) -> str:
    """Pause a support's check-ins: nothing more is sent until someone resumes them."""
    deployment = _coordinators(session, actor, deployment_id, "checkins.pause")
    if not pause_schedule(session, ctx, deployment, actor=actor):
        return ALREADY_PAUSED
    _tell_leads(session, ctx, deployment, "paused the check-ins")
    return PAUSED


def resume_for(session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int) -> str:
    """Resume a support's paused check-ins at its cadence, counting from today."""
    deployment = _coordinators(session, actor, deployment_id, "checkins.resume")
    if not resume_schedule(session, ctx, deployment, actor=actor):
        return NOT_PAUSED
    next_words = _next_words(session, ctx, deployment)
    _tell_leads(session, ctx, deployment, "resumed the check-ins", next_words)
    return f"Done: check-ins for this support are back on.{next_words}"


def snooze_for(session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int) -> str:
    """Ask nothing for a week from today (to a working day): a check-in still awaiting answers
    is closed, neither reminded nor missed, and the next is put off to then. It is never
    brought forward: one already that far away stays, and with nothing awaiting answers too,
    nothing changes."""
    deployment = _coordinators(session, actor, deployment_id, "checkins.snooze")
    if deployment.checkins_paused:
        raise Conflict(PAUSED_SO_NO_SNOOZE)
    until, scheduled = snoozed_until(ctx), next_scheduled(session, deployment_id)
    waiting = next(iter(awaiting_answers(session, deployment_id)), None)
    far_enough = scheduled is not None and scheduled.due_at >= until
    if waiting is None and far_enough:
        return ALREADY_PUT_OFF + _next_words(session, ctx, deployment)
    if not far_enough:
        set_next_due(session, deployment_id, until)
    if waiting is not None:
        waiting.status, waiting.claimed_until = CheckInStatus.CANCELLED, None
        session.flush()
    shown = waiting or latest_sent(session, deployment_id)
    if shown is not None:
        refresh_checkin_messages(session, ctx, shown)
    next_words = _next_words(session, ctx, deployment)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.checkins_snoozed",
        subject_type="deployment",
        subject_id=deployment_id,
        closed_checkin=waiting.id if waiting else None,
    )
    did = _CLOSED_FOR_LEADS if far_enough else _PUT_OFF_FOR_LEADS
    _tell_leads(session, ctx, deployment, did, next_words)
    return f"Done: {_CLOSED if far_enough else _PUT_OFF}.{next_words}"


def _coordinators(session: Session, actor: str, deployment_id: int, action: str) -> Deployment:
    """The active support, locked (PostgreSQL) so that a double submit waits for the first;
    NotAllowed for anyone but a coordinator, Conflict once it has ended."""
    return coordinators_support(
        session,
        actor=actor,
        deployment_id=deployment_id,
        action=action,
        refusal=NOT_A_COORDINATOR,
        lock=True,
    )


def _next_words(session: Session, ctx: ServiceContext, deployment: Deployment) -> str:
    """ " The next is on …" (nothing while none is scheduled)."""
    scheduled = next_scheduled(session, deployment.id or 0)
    return next_is_on(ctx, scheduled.due_at if scheduled else None)


def _tell_leads(
    session: Session, ctx: ServiceContext, deployment: Deployment, did: str, then: str = ""
) -> None:
    """One line to the head and the lead supporter: a coordinator `did` (the school and the
    request number, which they know already; no name), and `then` (when the next is)."""
    request = session.get(SupportRequest, deployment.request_id)
    if request is None:
        return
    school = session.get(School, request.school_id) if request.school_id else None
    where = f"*{escape(school.name)}*" if school else "your school"
    line = f"A coordinator has {did} for the support at {where} (request #{request.id}).{then}"
    for person_id in (request.requester_id, deployment.supporter_id):
        tell_person(session, ctx, person_id, line)
