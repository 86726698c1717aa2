"""Scheduled lifecycle work: the "next steps" message for each new deployment, the mid-point
review when due, and the closing request once a deployment has ended.

Each is one transaction per deployment: the deployment's row is locked (PostgreSQL) and the
plan's state re-checked under it, or changed by a conditional UPDATE whose row count says who
won, so two processes never send the same message twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, update
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.postponing import postpone_outside_working_time, waits_for_working_time
from bot.deployments.service import days_given, ensure_plan, review_ref
from bot.deployments.views import (
    closing_card,
    days_words,
    next_steps_card,
    review_card,
)
from bot.outbox.owing import owe_post
from bot.reach.people import address_of
from storage.db import each_in_its_own_transaction
from storage.models import (
    Deployment,
    DeploymentPlan,
    DeploymentStatus,
    Person,
    School,
    SupportRequest,
)

if TYPE_CHECKING:
    from bot.core.context import ServiceContext, Services

log = logging.getLogger(__name__)
BATCH = 200


def _people(session: Session, deployment: Deployment) -> tuple[str | None, str | None, str | None]:
    """The head's and the supporter's Slack ids (None once erased) and the school's name."""
    request = session.get(SupportRequest, deployment.request_id)
    head = session.get(Person, request.requester_id) if request else None
    supporter = session.get(Person, deployment.supporter_id)
    school = session.get(School, request.school_id) if request and request.school_id else None

    def live(person: Person | None) -> str | None:
        return address_of(person) if person and person.erased_at is None else None

    return live(head), live(supporter), school.name if school else None


def _each(
    runtime: Services, ids: list[int], work: Callable[[Session, ServiceContext, int], bool]
) -> int:
    """Run `work` for each deployment id in its own transaction; returns how many did work."""
    return each_in_its_own_transaction(
        runtime.sessions,
        ids,
        lambda session, deployment_id: work(session, runtime.context(), deployment_id),
        log=log,
        failed="lifecycle work failed for deployment %s; next run retries",
    )


# --- new deployments -----------------------------------------------------------------------------
def start_new_deployments(runtime: Services) -> int:
    """Make the plan of each new active deployment and send both people the next steps;
    outside working time, they wait for working time."""
    if waits_for_working_time(runtime):
        return 0
    sent = exists().where(
        col(DeploymentPlan.deployment_id) == col(Deployment.id),
        col(DeploymentPlan.next_steps_sent_at).is_not(None),
    )
    with runtime.sessions() as session:
        ids = list(
            session.exec(
                select(Deployment.id)
                .where(col(Deployment.status) == DeploymentStatus.ACTIVE, ~sent)
                .order_by(col(Deployment.id))
                .limit(BATCH)
            )
        )
    return _each(runtime, [i for i in ids if i is not None], _start_one)


def _start_one(session: Session, ctx: ServiceContext, deployment_id: int) -> bool:
    deployment = session.get(Deployment, deployment_id, with_for_update=True)
    if deployment is None:
        return False
    plan = ensure_plan(session, deployment, now=ctx.now)
    session.refresh(plan)
    if plan.next_steps_sent_at is not None:
        return False  # another process sent them meanwhile
    plan.next_steps_sent_at = ctx.now
    head, supporter, school = _people(session, deployment)
    for me, other, role in ((supporter, head, "supporter"), (head, supporter, "head")):
        if me:
            owe_post(
                session,
                now=ctx.now,
                channel=me,
                text="Next steps for your support.",
                view=next_steps_card(deployment_id, school, role=role, other=other or "someone"),
                ref=f"deployment:{deployment_id}:next_steps:{role}",
                dedupe_key=f"deployment:{deployment_id}:next_steps:{role}",
            )
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="deployment.plan_started",
        subject_type="deployment",
        subject_id=deployment_id,
    )
    return True


# --- the mid-point review ------------------------------------------------------------------------
def _claim_step(session: Session, deployment_id: int, sent_at: Any, ctx: ServiceContext) -> bool:
    """Mark a step sent (`sent_at` set to now) if nobody has: True for the one that did."""
    won = session.execute(
        update(DeploymentPlan)
        .where(col(DeploymentPlan.deployment_id) == deployment_id, col(sent_at).is_(None))
        .values({sent_at: ctx.now})
    ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    return bool(won == 1)


def _review_due(now: datetime) -> ColumnElement[bool]:
    """A review of active support due at `now`, not yet asked or skipped."""
    active = select(Deployment.id).where(col(Deployment.status) == DeploymentStatus.ACTIVE)
    return and_(
        col(DeploymentPlan.review_due_at) <= now,
        col(DeploymentPlan.review_sent_at).is_(None),
        col(DeploymentPlan.review_skipped).is_(False),
        col(DeploymentPlan.deployment_id).in_(active),
    )


def send_due_reviews(runtime: Services) -> int:
    """Ask both people "continue, adjust or close?" for each review now due, once; outside
    working time, what is due waits for the next working day's CHECKIN_TIME."""
    now = runtime.clock.now()
    due = _review_due(now)
    postpone_outside_working_time(runtime, DeploymentPlan, due, "review_due_at", what="review(s)")
    with runtime.sessions() as session:
        ids = list(
            session.exec(
                select(DeploymentPlan.deployment_id)
                .where(due)
                .order_by(col(DeploymentPlan.deployment_id))
                .limit(BATCH)
            )
        )
    return _each(runtime, ids, _review_one)


def _review_one(session: Session, ctx: ServiceContext, deployment_id: int) -> bool:
    won = _claim_step(session, deployment_id, DeploymentPlan.review_sent_at, ctx)
    deployment = session.get(Deployment, deployment_id)
    plan = session.get(DeploymentPlan, deployment_id)
    if not won or deployment is None or plan is None:
        return False
    given = days_given(session, deployment)
    of = f" of {days_words(plan.days_committed)} committed" if plan.days_committed else ""
    head, supporter, school = _people(session, deployment)
    for person, role in ((head, "head"), (supporter, "supporter")):
        if person:
            owe_post(
                session,
                now=ctx.now,
                channel=person,
                text="Mid-point review: continue, adjust or close?",
                view=review_card(
                    deployment_id, school, f"Days given so far: {days_words(given)}{of}."
                ),
                ref=review_ref(deployment_id, role),
            )
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="deployment.review_sent",
        subject_type="deployment",
        subject_id=deployment_id,
    )
    return True


# --- closure -------------------------------------------------------------------------------------
def ask_for_closing_records(runtime: Services) -> int:
    """Once a deployment is completed, ask the head to rate progress and the supporter for
    their comments, once; outside working time, the asking waits for working time."""
    if waits_for_working_time(runtime):
        return 0
    with runtime.sessions() as session:
        ids = list(
            session.exec(
                select(DeploymentPlan.deployment_id)
                .join(Deployment, col(Deployment.id) == col(DeploymentPlan.deployment_id))
                .where(
                    col(DeploymentPlan.closing_asked_at).is_(None),
                    col(Deployment.status) == DeploymentStatus.COMPLETED,
                )
                .limit(BATCH)
            )
        )
    return _each(runtime, ids, _close_one)


def _close_one(session: Session, ctx: ServiceContext, deployment_id: int) -> bool:
    won = _claim_step(session, deployment_id, DeploymentPlan.closing_asked_at, ctx)
    deployment = session.get(Deployment, deployment_id)
    if not won or deployment is None:
        return False
    head, supporter, school = _people(session, deployment)
    for person, role in ((head, "head"), (supporter, "supporter")):
        if person:
            owe_post(
                session,
                now=ctx.now,
                channel=person,
                text="The support has closed: please add your closing record.",
                view=closing_card(deployment_id, school, role=role),
                ref=f"deployment:{deployment_id}:closing:{role}",
            )
    audit.record(
        session,
        at=ctx.now,
        actor=None,
        action="deployment.closing_asked",
        subject_type="deployment",
        subject_id=deployment_id,
    )
    return True
