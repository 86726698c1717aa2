"""The lifecycle's part in data protection: what is erased with a request's free text
(retention) and what a person wrote (erasure), and a person's records for subject access."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from bot.deployments.record import deployment_record
from storage.models import (
    Deployment,
    DeploymentImpact,
    DeploymentMember,
    DeploymentObjective,
    DeploymentPlan,
    DeploymentReview,
    DeploymentVisit,
    Person,
    SupportRequest,
)

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

ERASED = "[erased]"


def erase_lifecycle_text(session: Session, deployment_ids: list[int], *, now: datetime) -> None:
    """Erase the free text of these deployments' records: the agreement (objectives become
    "[erased]", the expected impact goes), comments, visit and review notes. Dates, days,
    decisions and ratings stay, so the figures still add up."""
    if not deployment_ids:
        return
    session.execute(
        update(DeploymentPlan)
        .where(col(DeploymentPlan.deployment_id).in_(deployment_ids))
        .values(expected_impact=None, text_erased_at=now)
    )
    session.execute(
        update(DeploymentObjective)
        .where(col(DeploymentObjective.deployment_id).in_(deployment_ids))
        .values(text=ERASED, head_comment=None, supporter_comment=None)
    )
    for table in (DeploymentVisit, DeploymentReview):
        session.execute(
            update(table).where(col(table.deployment_id).in_(deployment_ids)).values(note=None)
        )
    session.execute(
        update(DeploymentImpact)
        .where(col(DeploymentImpact.deployment_id).in_(deployment_ids))
        .values(comment=None)
    )


def erase_written_by(session: Session, person_id: int, *, now: datetime) -> int:
    """Erase what the person wrote in deployment records (their notes and comments, and an
    agreement they drafted); returns how many records were touched."""
    touched: set[int] = set()
    for visit in session.exec(
        select(DeploymentVisit).where(
            DeploymentVisit.person_id == person_id, col(DeploymentVisit.note).is_not(None)
        )
    ):
        visit.note = None
        touched.add(visit.deployment_id)
    for review in session.exec(
        select(DeploymentReview).where(
            DeploymentReview.person_id == person_id, col(DeploymentReview.note).is_not(None)
        )
    ):
        review.note = None
        touched.add(review.deployment_id)
    for impact in session.exec(
        select(DeploymentImpact).where(
            DeploymentImpact.person_id == person_id, col(DeploymentImpact.comment).is_not(None)
        )
    ):
        impact.comment = None
        touched.add(impact.deployment_id)
    touched |= _erase_agreements_drafted_by(session, person_id, now=now)
    touched |= _erase_objective_comments(session, person_id)
    session.flush()
    return len(touched)


def _erase_agreements_drafted_by(session: Session, person_id: int, *, now: datetime) -> set[int]:
    drafted = list(
        session.exec(
            select(DeploymentPlan.deployment_id).where(
                DeploymentPlan.agreement_drafted_by == person_id
            )
        )
    )
    if drafted:
        session.execute(
            update(DeploymentPlan)
            .where(col(DeploymentPlan.deployment_id).in_(drafted))
            .values(expected_impact=None, text_erased_at=now)
        )
        session.execute(
            update(DeploymentObjective)
            .where(col(DeploymentObjective.deployment_id).in_(drafted))
            .values(text=ERASED)
        )
    return set(drafted)


def _erase_objective_comments(session: Session, person_id: int) -> set[int]:
    """Head comments on deployments of their requests; supporter comments on theirs."""
    touched = set()
    rows = session.exec(
        select(Deployment, SupportRequest)
        .join(SupportRequest, col(SupportRequest.id) == col(Deployment.request_id))
        .where(
            or_(
                col(Deployment.supporter_id) == person_id,
                col(SupportRequest.requester_id) == person_id,
            )
        )
    ).all()
    for deployment, _request in rows:
        column = "supporter_comment" if deployment.supporter_id == person_id else "head_comment"
        result = session.execute(
            update(DeploymentObjective)
            .where(
                col(DeploymentObjective.deployment_id) == deployment.id,
                col(getattr(DeploymentObjective, column)).is_not(None),
            )
            .values({column: None})
        )
        if result.rowcount:  # type: ignore[attr-defined]  # a DML result is a CursorResult
            touched.add(deployment.id or 0)
    return touched


def records_of(session: Session, person: Person, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The records of the deployments the person is in (as head, supporter, colleague or
    shadow, past places included), other people, the team included, shown only by id."""
    on_team = select(DeploymentMember.deployment_id).where(DeploymentMember.person_id == person.id)
    ids = session.exec(
        select(Deployment.id)
        .join(SupportRequest, col(SupportRequest.id) == col(Deployment.request_id))
        .where(
            or_(
                col(Deployment.supporter_id) == person.id,
                col(SupportRequest.requester_id) == person.id,
                col(Deployment.id).in_(on_team),
            )
        )
        .order_by(col(Deployment.id))
    ).all()
    records = []
    for deployment_id in ids:
        record = deployment_record(session, deployment_id or 0, tz)
        for someone in (record["head"], record["supporter"], *record["team"]):
            # A Teams-only person has no Slack id to match: every name goes, to be safe.
            if person.slack_user_id is None or someone["slack_user_id"] != person.slack_user_id:
                someone["name"] = None
        records.append(record)
    return records
