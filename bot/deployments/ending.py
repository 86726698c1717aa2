"""A coordinator ends a support early (*End this support*): the deployment is cancelled with
a short reason, its request cancelled, its check-ins stopped, and the head, the lead
supporter, the team and the coordinators told, in one transaction.

Releasing (`bot.routing.service.release_deployment`) finds the school someone else instead;
completing the support is for the head and the supporter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import Session, col

from bot.checkins.service import cancel_future_checkins
from bot.core import audit
from bot.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.core.text import escape
from bot.deployments.views import notice_card
from bot.directory.people import is_coordinator
from bot.members.service import current_members
from bot.outbox.notify import notify_coordinators
from bot.outbox.owing import owe_post, was_posted
from bot.reach.people import address_of
from bot.requests.intake import card_ref, get_request, refresh_card, summarise
from storage.models import (
    ACCEPTED,
    CANCELLED,
    END_REASON_LIMIT,
    Deployment,
    DeploymentStatus,
    Person,
    School,
    SupportRequest,
)

if TYPE_CHECKING:
    from bot.core.context import ServiceContext

NOT_A_COORDINATOR = "Only coordinators can end a support."
ALREADY_ENDED = "This support has already ended, so there's nothing more to do."
ENDED = "Done: the support has ended, and the head, the supporter and their team are told."


def end_support(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int, reason: str
) -> str:
    """End an active deployment early, for a reason (coordinators only); returns what to tell
    the coordinator. Conflict, changing nothing, once it has ended (a double click, two copies
    of the form, or the head completing it first)."""
    deployment = may_end(session, actor=actor, deployment_id=deployment_id)
    reason = checked_reason(reason)
    # The request's lock first (as releasing and reassigning take it), then a conditional
    # update: of two clicks at once, only one finds the deployment still active.
    request = get_request(session, deployment.request_id, for_update=True)
    ended = session.execute(
        update(Deployment)
        .where(
            col(Deployment.id) == deployment_id, col(Deployment.status) == DeploymentStatus.ACTIVE
        )
        .values(status=DeploymentStatus.CANCELLED, ended_at=ctx.now, end_reason=reason)
    ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    session.refresh(deployment)
    if ended != 1:
        raise Conflict(ALREADY_ENDED)
    if request.status == ACCEPTED:
        request.status = CANCELLED
        request.closed_at = ctx.now
        request.updated_at = ctx.now
    cancel_future_checkins(session, deployment_id, now=ctx.now)
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.ended",
        subject_type="deployment",
        subject_id=deployment_id,
        request_id=request.id,
    )
    _tell_everyone(session, ctx, deployment, request, actor=actor, reason=reason)
    if was_posted(session, card_ref(request.id or 0)):
        refresh_card(session, summarise(session, request, ctx.vocabulary), now=ctx.now)
    return ENDED


def may_end(session: Session, *, actor: str, deployment_id: int) -> Deployment:
    """The deployment if `actor` may end it now (before the form opens, and again on
    submitting it): NotAllowed for anyone but a coordinator, Conflict once it has ended."""
    return coordinators_support(
        session, actor=actor, deployment_id=deployment_id, action="deployment.end"
    )


def coordinators_support(
    session: Session,
    *,
    actor: str,
    deployment_id: int,
    action: str,
    refusal: str = NOT_A_COORDINATOR,
    lock: bool = False,
) -> Deployment:
    """The active deployment a coordinator acts on (locked with `lock`, on PostgreSQL):
    NotAllowed (saying `refusal`, audited at the edge as `action`) for anyone but a
    coordinator, NotFound if it never was, Conflict once it has ended."""
    check_coordinator(
        session, actor=actor, action=action, refusal=refusal, subject_id=deployment_id
    )
    deployment = session.get(
        Deployment, deployment_id, with_for_update=lock, populate_existing=lock
    )
    if deployment is None:
        raise NotFound("I can't find that support any more.")
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict(ALREADY_ENDED)
    return deployment


def check_coordinator(
    session: Session,
    *,
    actor: str,
    action: str,
    refusal: str = NOT_A_COORDINATOR,
    subject_id: int | str = "",
) -> None:
    """NotAllowed, saying `refusal`, unless `actor` is a coordinator."""
    if not is_coordinator(session, actor):
        raise NotAllowed(refusal, action=action, subject_type="deployment", subject_id=subject_id)


def checked_reason(reason: str) -> str:
    """The reason, trimmed; InvalidInput (on the form's `reason`) when empty or too long."""
    reason = " ".join(reason.split())
    if not reason:
        raise InvalidInput({"reason": "Please say briefly why the support is ending."})
    if len(reason) > END_REASON_LIMIT:
        raise InvalidInput(
            {"reason": f"Please keep the reason to {END_REASON_LIMIT} characters or fewer."}
        )
    return reason


def _tell_everyone(
    session: Session,
    ctx: ServiceContext,
    deployment: Deployment,
    request: SupportRequest,
    *,
    actor: str,
    reason: str,
) -> None:
    """The head and the lead supporter hear why; the team that it has ended; the
    coordinators who ended it and why."""
    school = session.get(School, request.school_id) if request.school_id else None
    where = f"*{escape(school.name)}*" if school else "the school"
    about = f"The coordinators have ended the support for {where} (request #{request.id})."
    why = f"Reason: {escape(reason)}"
    tell_person(
        session,
        ctx,
        request.requester_id,
        about,
        why,
        "Thank you. If you still need support, you're welcome to ask again.",
    )
    tell_person(session, ctx, deployment.supporter_id, about, why, "Thank you for your help.")
    for member in current_members(session, deployment.id or 0):
        tell_person(session, ctx, member.person_id, about, "Thank you for your help.")
    notify_coordinators(
        session,
        ctx.settings,
        now=ctx.now,
        text=f"The support on request #{request.id} has been ended by a coordinator.",
        view=notice_card(
            f"<@{actor}> ended the support on request #{request.id}, so its check-ins have "
            f"stopped. {why}"
        ),
    )


def tell_person(
    session: Session, ctx: ServiceContext, person_id: int | None, *paragraphs: str
) -> None:
    """Owe someone on a support a DM, its first paragraph the notification (nobody erased is
    written to)."""
    person = session.get(Person, person_id) if person_id else None
    if person is None or person.erased_at is not None:
        return
    owe_post(
        session,
        now=ctx.now,
        channel=address_of(person),
        text=paragraphs[0],
        view=notice_card(*paragraphs),
    )
