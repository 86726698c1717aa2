"""Deployment members: colleagues and shadows, their rows, and the load they carry.

A deployment's lead supporter is `Deployment.supporter_id`; everyone else on it is a
`DeploymentMember` (a `colleague` from the lead's school, or a `shadow`, an aspiring leader).
A person's *load* is the active deployments they lead plus those they are a colleague on:
that is what their directory capacity limits. Shadows learn; they carry no load.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, union_all
from sqlmodel import Session, col

from bot.core import audit
from storage.models import (
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    MemberRole,
    Person,
)

COLLEAGUE, SHADOW = MemberRole


def _led() -> Any:
    """SELECT person_id: one row per active deployment, for the supporter leading it."""
    return select(col(Deployment.supporter_id).label("person_id")).where(
        col(Deployment.status) == DeploymentStatus.ACTIVE
    )


def _joined() -> Any:
    """SELECT person_id: one row per current colleague's place on an active deployment."""
    return (
        select(col(DeploymentMember.person_id).label("person_id"))
        .join(Deployment, col(Deployment.id) == col(DeploymentMember.deployment_id))
        .where(
            col(Deployment.status) == DeploymentStatus.ACTIVE,
            col(DeploymentMember.removed_at).is_(None),
            col(DeploymentMember.role) == COLLEAGUE,
        )
    )


def load_subquery() -> Any:
    """SELECT person_id, n: each person's active deployments, led or as a colleague.

    One rule for capacity everywhere (routing's ranking, accepting, the Home tab, the digest).
    """
    both = union_all(_led(), _joined()).subquery()
    return select(both.c.person_id, func.count().label("n")).group_by(both.c.person_id).subquery()


def loads(session: Session) -> dict[int, int]:
    """Every person's load (see `load_subquery`), for those carrying any."""
    load = load_subquery()
    return {int(pid): int(n) for pid, n in session.execute(select(load.c.person_id, load.c.n))}


def load_of(session: Session, person_id: int) -> int:
    """One person's load, by the same rule, looked up for them alone: SQLite would otherwise
    count everyone's active deployments first (it does not push the person into the union)."""
    led = _led().where(col(Deployment.supporter_id) == person_id)
    joined = _joined().where(col(DeploymentMember.person_id) == person_id)
    both = union_all(led, joined).subquery()
    return int(session.execute(select(func.count()).select_from(both)).scalar_one())


def colleague_loads(session: Session) -> dict[int, int]:
    """Active deployments each person is a colleague on (not those they lead)."""
    joined = _joined().subquery()
    rows = session.execute(select(joined.c.person_id, func.count()).group_by(joined.c.person_id))
    return {int(pid): int(n) for pid, n in rows}


def current_members(session: Session, deployment_id: int) -> list[DeploymentMember]:
    """The deployment's colleagues and shadows now (not those removed), in joining order."""
    return list(
        session.scalars(
            select(DeploymentMember)
            .where(
                col(DeploymentMember.deployment_id) == deployment_id,
                col(DeploymentMember.removed_at).is_(None),
            )
            .order_by(col(DeploymentMember.added_at), col(DeploymentMember.id))
        )
    )


def current_places(session: Session, deployment_ids: list[int]) -> list[DeploymentMember]:
    """The colleagues and shadows on any of these deployments now, in joining order."""
    if not deployment_ids:
        return []
    return list(
        session.scalars(
            select(DeploymentMember)
            .where(
                col(DeploymentMember.deployment_id).in_(deployment_ids),
                col(DeploymentMember.removed_at).is_(None),
            )
            .order_by(col(DeploymentMember.added_at), col(DeploymentMember.id))
        )
    )


def current_membership(
    session: Session, deployment_id: int, person_id: int
) -> DeploymentMember | None:
    """This person's current place on the deployment as a colleague or shadow, if any."""
    return session.scalars(
        select(DeploymentMember).where(
            col(DeploymentMember.deployment_id) == deployment_id,
            col(DeploymentMember.person_id) == person_id,
            col(DeploymentMember.removed_at).is_(None),
        )
    ).first()


def last_member_role(session: Session, deployment_id: int, person_id: int) -> str | None:
    """The role this person last had on the deployment (colleague or shadow, current or
    former), if they were ever on its team."""
    role = session.scalars(
        select(col(DeploymentMember.role))
        .where(
            col(DeploymentMember.deployment_id) == deployment_id,
            col(DeploymentMember.person_id) == person_id,
        )
        .order_by(col(DeploymentMember.added_at).desc(), col(DeploymentMember.id).desc())
    ).first()
    return str(role) if role is not None else None


def members_by_deployment(
    session: Session, deployment_ids: list[int]
) -> dict[int, list[DeploymentMember]]:
    """Current members of several deployments at once."""
    found: dict[int, list[DeploymentMember]] = defaultdict(list)
    if not deployment_ids:
        return found
    for member in session.scalars(
        select(DeploymentMember)
        .where(
            col(DeploymentMember.deployment_id).in_(deployment_ids),
            col(DeploymentMember.removed_at).is_(None),
        )
        .order_by(col(DeploymentMember.added_at), col(DeploymentMember.id))
    ):
        found[member.deployment_id].append(member)
    return found


def active_memberships_of(session: Session, person_id: int) -> list[DeploymentMember]:
    """The person's current places on active deployments, as a colleague or shadow."""
    return list(
        session.scalars(
            select(DeploymentMember)
            .join(Deployment, col(Deployment.id) == col(DeploymentMember.deployment_id))
            .where(
                col(DeploymentMember.person_id) == person_id,
                col(DeploymentMember.removed_at).is_(None),
                col(Deployment.status) == DeploymentStatus.ACTIVE,
            )
            .order_by(col(DeploymentMember.added_at), col(DeploymentMember.id))
        )
    )


def all_memberships_of(session: Session, person_id: int) -> list[DeploymentMember]:
    """Every membership the person ever held, current or ended (for subject access)."""
    return list(
        session.scalars(
            select(DeploymentMember)
            .where(col(DeploymentMember.person_id) == person_id)
            .order_by(col(DeploymentMember.added_at), col(DeploymentMember.id))
        )
    )


def add_member(
    session: Session,
    *,
    deployment: Deployment,
    person: Person,
    role: MemberRole,
    added_by: Person | None,
    actor: str | None,
    now: datetime,
) -> DeploymentMember:
    """Record `person` joining the deployment in `role` (audited); the caller has checked."""
    member = DeploymentMember(
        deployment_id=deployment.id or 0,
        person_id=person.id or 0,
        role=role,
        added_by_id=added_by.id if added_by else None,
        added_at=now,
    )
    session.add(member)
    session.flush()
    audit.record(
        session,
        at=now,
        actor=actor,
        action="deployment.member_added",
        subject_type="deployment",
        subject_id=deployment.id or 0,
        request_id=deployment.request_id,
        person_id=person.id,
        role=str(role),
    )
    return member


def end_membership(
    session: Session,
    member: DeploymentMember,
    *,
    removed_by: Person | None,
    actor: str | None,
    now: datetime,
    reason: str,
) -> None:
    """End a membership (the row stays, with when and by whom), audited with `reason`."""
    member.removed_at = now
    member.removed_by_id = removed_by.id if removed_by else None
    session.add(member)
    session.flush()
    audit.record(
        session,
        at=now,
        actor=actor,
        action="deployment.member_removed",
        subject_type="deployment",
        subject_id=member.deployment_id,
        person_id=member.person_id,
        role=str(member.role),
        reason=reason,
    )


@dataclass(frozen=True)
class Shadowing:
    """One deployment an aspiring leader shadowed."""

    person_id: int
    deployment_id: int
    request_id: int
    added_at: datetime


def shadowing_since(session: Session, since: datetime, until: datetime) -> list[Shadowing]:
    """Shadow places taken from `since` until `until` (removed or not), oldest first."""
    rows = session.execute(
        select(
            col(DeploymentMember.person_id),
            col(DeploymentMember.deployment_id),
            col(Deployment.request_id),
            col(DeploymentMember.added_at),
        )
        .join(Deployment, col(Deployment.id) == col(DeploymentMember.deployment_id))
        .where(
            col(DeploymentMember.role) == SHADOW,
            col(DeploymentMember.added_at) >= since,
            col(DeploymentMember.added_at) < until,
        )
        .order_by(col(DeploymentMember.added_at), col(DeploymentMember.id))
    )
    return [Shadowing(int(p), int(d), int(r), at) for p, d, r, at in rows]
