"""What a week's digest reads of requests, deployments and people: plain rows, not ORM
objects (building an object costs several times as much, and a region's directory is
thousands of people).

"In view" is what is still running plus what happened in the week. Each is a `UNION ALL` of
disjoint look-ups, one index each, returning the rows themselves: an `OR` of the conditions
scans the whole history on SQLite, and a `UNION` of ids joined back to its table lets
PostgreSQL hash-join the whole table; either way the digest would slow with history.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Row, and_, func, not_, select, union_all
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.selectable import CompoundSelect
from sqlmodel import Session, col

from storage.db import by_status
from storage.models import (
    ACCEPTED,
    EXPIRED,
    OFFERED,
    OPEN,
    CheckIn,
    CheckInAnswer,
    CheckInOutcome,
    CheckInStatus,
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    ExpertiseTag,
    Person,
    Platform,
    RequestStatus,
    RequestTag,
    SupportRequest,
)

WAITING_STATUSES = (OPEN, OFFERED, EXPIRED)
_IN_LIST = 5_000  # ids per IN list: well inside both databases' parameter limits


class RequestRow(NamedTuple):
    """A request as the digest needs it: whose, where and its state (not its text)."""

    id: int
    requester_id: int
    school_id: int | None
    status: RequestStatus
    created_at: datetime
    offered_at: datetime | None
    escalated_at: datetime | None


class PersonRow(NamedTuple):
    """Someone as the digest names and reaches them, with their places and availability."""

    id: int
    name: str
    slack_user_id: str | None
    teams_user_id: str | None
    preferred_platform: Platform | None
    capacity: int
    available: bool
    away_until: date | None
    erased_at: datetime | None
    available_from: date | None  # offered nothing before this local date


class DeploymentRow(NamedTuple):
    """A deployment as the digest needs it, with its next scheduled check-in and the outcome
    of its latest answer."""

    id: int
    request_id: int
    supporter_id: int
    status: DeploymentStatus
    started_at: datetime
    ended_at: datetime | None
    checkin_every_days: int | None
    checkins_paused: bool
    impact_note: str | None
    next_due: datetime | None
    last_outcome: str | None


_REQUEST_COLUMNS = (
    col(SupportRequest.id),
    col(SupportRequest.requester_id),
    col(SupportRequest.school_id),
    col(SupportRequest.status),
    col(SupportRequest.created_at),
    col(SupportRequest.offered_at),
    col(SupportRequest.escalated_at),
)


def _running_or_within(
    session: Session,
    columns: tuple[Mapped[Any], ...],
    table: type[SupportRequest] | type[Deployment],
    running: ColumnElement[bool],
    first: ColumnElement[bool],
    second: ColumnElement[bool],
) -> CompoundSelect:
    """`columns` of the rows running, or else in the `first` period, or else in the `second`:
    each once. No `ORDER BY`: SQLite would merge the parts in id order by scanning the table."""
    return union_all(
        select(*columns).where(by_status(session, col(table.id), running)),
        select(*columns).where(first, not_(running)),
        select(*columns).where(second, not_(running), not_(first)),
    )


def _by_id(row: Row[Any]) -> int:
    return int(row.id)


def _within(
    column: Mapped[datetime] | Mapped[datetime | None], start: datetime, end: datetime
) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def everyone(session: Session) -> dict[int | None, PersonRow]:
    """Everyone in the directory by id, the erased too (the digest calls them "someone")."""
    p = Person
    rows = session.execute(
        select(
            col(p.id),
            col(p.name),
            col(p.slack_user_id),
            col(p.teams_user_id),
            col(p.preferred_platform),
            col(p.capacity),
            col(p.available),
            col(p.away_until),
            col(p.erased_at),
            col(p.available_from),
        )
    )
    return {row.id: PersonRow(*row) for row in rows}


def requests_in_view(session: Session, start: datetime, end: datetime) -> dict[int, RequestRow]:
    """Requests still waiting or running, and those created or closed from `start` to `end`,
    by id."""
    found = _running_or_within(
        session,
        _REQUEST_COLUMNS,
        SupportRequest,
        col(SupportRequest.status).in_((*WAITING_STATUSES, ACCEPTED)),
        _within(col(SupportRequest.created_at), start, end),
        _within(col(SupportRequest.closed_at), start, end),
    )
    return {row.id: RequestRow(*row) for row in sorted(session.execute(found), key=_by_id)}


def requests_by_id(session: Session, request_ids: list[int]) -> dict[int, RequestRow]:
    """These requests, by id (those of deployments in view that were not in view themselves)."""
    found: dict[int, RequestRow] = {}
    for first in range(0, len(request_ids), _IN_LIST):
        chunk = request_ids[first : first + _IN_LIST]
        for row in session.execute(
            select(*_REQUEST_COLUMNS)
            .where(col(SupportRequest.id).in_(chunk))
            .order_by(col(SupportRequest.id))
        ):
            found[row.id] = RequestRow(*row)
    return found


def deployments_in_view(session: Session, start: datetime, end: datetime) -> list[DeploymentRow]:
    """Deployments still active, and those started or ended from `start` to `end`, by id;
    each with its check-in facts, looked up through its own check-ins (one index each)."""
    d = Deployment
    columns = (
        col(d.id),
        col(d.request_id),
        col(d.supporter_id),
        col(d.status),
        col(d.started_at),
        col(d.ended_at),
        col(d.checkin_every_days),
        col(d.checkins_paused),
        col(d.impact_note),
    )
    rows = _running_or_within(
        session,
        columns,
        Deployment,
        col(d.status) == DeploymentStatus.ACTIVE,
        _within(col(d.started_at), start, end),
        _within(col(d.ended_at), start, end),
    ).subquery()
    next_due = (
        select(func.min(CheckIn.due_at))
        .where(
            col(CheckIn.deployment_id) == rows.c.id,
            col(CheckIn.status) == CheckInStatus.SCHEDULED,
        )
        .scalar_subquery()
    )
    last_outcome = (
        select(col(CheckInAnswer.outcome))
        .join(CheckIn, col(CheckIn.id) == col(CheckInAnswer.checkin_id))
        .where(col(CheckIn.deployment_id) == rows.c.id)
        .order_by(col(CheckInAnswer.answered_at).desc(), col(CheckInAnswer.id).desc())
        .limit(1)
        .scalar_subquery()
    )
    found = select(rows, next_due.label("next_due"), last_outcome.label("last_outcome"))
    return [DeploymentRow(*row) for row in sorted(session.execute(found), key=_by_id)]


def tags_of_requests(session: Session, request_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Each of these requests' areas of need as (slug, label), alphabetically by label."""
    tags: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for first in range(0, len(request_ids), _IN_LIST):
        for request_id, slug, label in session.execute(
            select(col(RequestTag.request_id), col(RequestTag.tag_slug), col(ExpertiseTag.label))
            .join(ExpertiseTag, col(ExpertiseTag.slug) == col(RequestTag.tag_slug))
            .where(col(RequestTag.request_id).in_(request_ids[first : first + _IN_LIST]))
            .order_by(col(ExpertiseTag.label))
        ):
            tags[request_id].append((slug, label))
    return tags


class AttentionRow(NamedTuple):
    """A needs-attention answer (`answered_by` who gave it) or a missed check-in, with its
    deployment's supporter and its request's head and school."""

    kind: str  # needs_attention | missed
    at: datetime | None
    answered_by: int | None
    request_id: int
    supporter_id: int
    requester_id: int
    school_id: int | None
    team_role: str | None = None  # colleague | shadow, when a team member gave the answer


def attention_in(session: Session, start: datetime, end: datetime) -> list[AttentionRow]:
    """Answers flagged as needing attention, then check-ins missed, from `start` to `end`;
    each oldest first (then in the order they were saved)."""
    deployment_and_request = (
        col(Deployment.request_id),
        col(Deployment.supporter_id),
        col(SupportRequest.requester_id),
        col(SupportRequest.school_id),
    )
    # The part the answerer had on the team, if any (their latest place, even if left since).
    team_role = (
        select(col(DeploymentMember.role))
        .where(
            col(DeploymentMember.deployment_id) == col(Deployment.id),
            col(DeploymentMember.person_id) == col(CheckInAnswer.person_id),
        )
        .order_by(col(DeploymentMember.added_at).desc(), col(DeploymentMember.id).desc())
        .limit(1)
        .correlate(Deployment, CheckInAnswer)
        .scalar_subquery()
    )
    flagged = session.execute(
        select(
            col(CheckInAnswer.answered_at),
            col(CheckInAnswer.person_id),
            *deployment_and_request,
            team_role,
        )
        .join(CheckIn, col(CheckIn.id) == col(CheckInAnswer.checkin_id))
        .join(Deployment, col(Deployment.id) == col(CheckIn.deployment_id))
        .join(SupportRequest, col(SupportRequest.id) == col(Deployment.request_id))
        .where(
            col(CheckInAnswer.outcome) == CheckInOutcome.NEEDS_ATTENTION,
            _within(col(CheckInAnswer.answered_at), start, end),
        )
        .order_by(col(CheckInAnswer.answered_at), col(CheckInAnswer.id))
    )
    missed = session.execute(
        select(col(CheckIn.missed_at), *deployment_and_request)
        .join(Deployment, col(Deployment.id) == col(CheckIn.deployment_id))
        .join(SupportRequest, col(SupportRequest.id) == col(Deployment.request_id))
        .where(
            col(CheckIn.status) == CheckInStatus.MISSED,
            _within(col(CheckIn.missed_at), start, end),
        )
        .order_by(col(CheckIn.missed_at), col(CheckIn.id))
    )
    return [AttentionRow(CheckInOutcome.NEEDS_ATTENTION, *row) for row in flagged] + [
        AttentionRow("missed", missed_at, None, *rest) for missed_at, *rest in missed
    ]
