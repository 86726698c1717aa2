"""A generated, deliberately untidy history for the digest's queries, as of NOW.

On top of `bench.directory`'s people (some erased, away or full): requests in every status,
created, offered, escalated and closed at hours that often coincide; deployments of them
active and ended, several to a request, some started or ended this week and some after it;
check-ins in every status, some missed this week; one or two answers to each answered
check-in, often at the same instant; open and closed offers; colleagues on deployments. And,
where asked, a long closed history that the digest should not read.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlmodel import Session, SQLModel, col

from bench.directory import generate_directory
from storage.models import (
    CheckInOutcome,
    CheckInStatus,
    DeploymentStatus,
    ExpertiseTag,
    OfferStatus,
    RequestStatus,
    VisitStatus,
    VisitUsefulness,
)

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)
PEOPLE = 60
_ENDED = [s for s in DeploymentStatus if s != DeploymentStatus.ACTIVE]
_TABLES = (
    "support_request",
    "request_tag",
    "deployment",
    "checkin",
    "checkin_answer",
    "offer",
    "deployment_member",
    "visit_request",
    "visit_feedback",
)


class _Rows:
    """Rows to write, per table, with ids given here (so they can refer to each other)."""

    def __init__(self, session: Session) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.next_id: dict[str, int] = {}
        self.session = session

    def add(self, table: str, **row: Any) -> int:
        """Add a row to `table` with the next free id; return the id."""
        if table not in self.next_id:
            column = SQLModel.metadata.tables[table].c.id
            self.next_id[table] = (self.session.execute(select(func.max(column))).scalar() or 0) + 1
        row_id = row["id"] = self.next_id[table]
        self.next_id[table] += 1
        self.rows.setdefault(table, []).append(row)
        return row_id

    def tag(self, request_id: int, slug: str) -> None:
        """Tag a request with an area of need (request tags have no id of their own)."""
        self.rows.setdefault("request_tag", []).append({"request_id": request_id, "tag_slug": slug})

    def write(self) -> None:
        """Insert every row, parents first; move PostgreSQL's id sequences past them."""
        connection = self.session.connection()
        for name in _TABLES:
            if rows := self.rows.get(name):
                keys = {key for row in rows for key in row}  # one statement: the same keys
                rows = [dict.fromkeys(keys) | row for row in rows]
                connection.execute(insert(SQLModel.metadata.tables[name]), rows)
                if connection.dialect.name == "postgresql" and name != "request_tag":
                    connection.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT max(id) FROM {name}))"
                        )
                    )


def seed_untidy_history(
    session: Session,
    *,
    requests: int = 300,
    closed_history: int = 0,
    seed: int = 5,
    directory: bool = True,
) -> None:
    """The directory (unless there is one), `requests` untidy requests around NOW and
    `closed_history` old ones."""
    rng = random.Random(seed)
    if directory:
        slugs = generate_directory(session, PEOPLE, seed=seed)
    else:
        slugs = sorted(session.execute(select(col(ExpertiseTag.slug))).scalars())
    rows = _Rows(session)
    for _ in range(requests):
        _untidy_request(rows, rng, slugs)
    for n in range(closed_history):
        _old_request(rows, rng, slugs, NOW - timedelta(days=200 + n % 3000))
        _old_visit(rows, rng, NOW - timedelta(days=200 + n % 3000))
    # A deployment that ended this week, of a request closed long before: not in view itself.
    request = _request(rows, rng, slugs, NOW - timedelta(days=90), RequestStatus.CLOSED)
    rows.rows["support_request"][-1]["closed_at"] = NOW - timedelta(days=60)
    _deployment(rows, rng, request, NOW - timedelta(days=80), DeploymentStatus.COMPLETED)
    rows.rows["deployment"][-1]["ended_at"] = NOW - timedelta(days=2)
    rows.write()
    session.flush()


def _instant(rng: random.Random, days: int) -> datetime:
    """An hour in the last `days` days (or a few after NOW): hours, so that many coincide."""
    return NOW - timedelta(hours=rng.randint(-72, 24 * days))


def _request(
    rows: _Rows, rng: random.Random, slugs: list[str], created: datetime, status: RequestStatus
) -> int:
    request = rows.add(
        "support_request",
        requester_id=rng.randint(1, PEOPLE),
        school_id=rng.choice([None, rng.randint(1, 6)]),
        title="",
        description="",
        urgency="routine",
        source="cli",
        awaiting_profile=False,
        offer_round=1,
        status=status,
        created_at=created,
        updated_at=created,
        offered_at=rng.choice([None, created, created + timedelta(hours=rng.randint(1, 90))]),
        escalated_at=rng.choice([None, None, created + timedelta(days=rng.randint(0, 9))]),
        accepted_at=rng.choice([None, created + timedelta(hours=rng.randint(1, 300))]),
        closed_at=(
            created + timedelta(hours=rng.randint(1, 2000))
            if status in (RequestStatus.CLOSED, RequestStatus.CANCELLED)
            else None
        ),
    )
    for slug in rng.sample(slugs, rng.randint(0, 3)):
        rows.tag(request, slug)
    return request


def _untidy_request(rows: _Rows, rng: random.Random, slugs: list[str]) -> None:
    status = rng.choice(list(RequestStatus))
    created = _instant(rng, 120)
    request = _request(rows, rng, slugs, created, status)
    for _ in range(rng.randint(0, 2)):  # earlier deployments, ended
        _deployment(rows, rng, request, created + timedelta(hours=rng.randint(0, 900)), None)
    if status == RequestStatus.ACCEPTED:
        _deployment(rows, rng, request, _instant(rng, 90), DeploymentStatus.ACTIVE)
    offered = rng.randint(0, 3) if status == RequestStatus.OFFERED else rng.randint(0, 1)
    for supporter in rng.sample(range(1, PEOPLE + 1), offered):
        rows.add(
            "offer",
            request_id=request,
            supporter_id=supporter,
            round=1,
            status=rng.choice(list(OfferStatus)),
            score=0.0,
            reasons="",
            created_at=created,
        )


def _deployment(
    rows: _Rows,
    rng: random.Random,
    request: int,
    started: datetime,
    status: DeploymentStatus | None,
) -> None:
    status = status or rng.choice(_ENDED)
    supporter = rng.randint(1, PEOPLE)
    deployment = rows.add(
        "deployment",
        request_id=request,
        supporter_id=supporter,
        status=status,
        started_at=started,
        ended_at=None
        if status == DeploymentStatus.ACTIVE
        else started + timedelta(hours=rng.randint(1, 1500)),
        checkin_every_days=rng.choice([None, 7, 14, 28]),
        checkins_paused=rng.random() < 0.2,
        impact_note=rng.choice([None, "Calmer corridors."]),
    )
    if status == DeploymentStatus.ACTIVE and rng.random() < 0.3:
        rows.add(
            "deployment_member",
            deployment_id=deployment,
            person_id=rng.randint(1, PEOPLE),
            role=rng.choice(["colleague", "shadow"]),
            added_at=started,
            removed_at=rng.choice([None, None, started + timedelta(days=3)]),
        )
    for sequence in range(1, rng.randint(0, 4) + 1):
        _checkin(rows, rng, deployment, sequence, started + timedelta(days=7 * sequence))


def _checkin(
    rows: _Rows, rng: random.Random, deployment: int, sequence: int, due: datetime
) -> None:
    status = rng.choice(list(CheckInStatus))
    checkin = rows.add(
        "checkin",
        deployment_id=deployment,
        sequence=sequence,
        due_at=due,
        status=status,
        missed_at=due + timedelta(days=rng.randint(0, 7)) if status == "missed" else None,
    )
    if status == CheckInStatus.ANSWERED:
        answered = due + timedelta(hours=rng.randint(0, 2))
        for person in rng.sample(range(1, PEOPLE + 1), rng.randint(1, 2)):
            rows.add(
                "checkin_answer",
                checkin_id=checkin,
                person_id=person,
                outcome=rng.choice(list(CheckInOutcome)),
                answered_at=rng.choice([answered, answered + timedelta(hours=1)]),
            )


def _old_request(rows: _Rows, rng: random.Random, slugs: list[str], created: datetime) -> None:
    """A request long finished: closed, with a completed deployment and answered check-ins."""
    request = _request(rows, rng, slugs, created, RequestStatus.CLOSED)
    rows.rows["support_request"][-1]["closed_at"] = created + timedelta(days=40)
    deployment = rows.add(
        "deployment",
        request_id=request,
        supporter_id=rng.randint(1, PEOPLE),
        status=DeploymentStatus.COMPLETED,
        started_at=created,
        ended_at=created + timedelta(days=40),
        checkins_paused=False,
    )
    for sequence in (1, 2):
        due = created + timedelta(days=14 * sequence)
        checkin = rows.add(
            "checkin",
            deployment_id=deployment,
            sequence=sequence,
            due_at=due,
            status=CheckInStatus.ANSWERED,
            answered_at=due,
        )
        rows.add(
            "checkin_answer",
            checkin_id=checkin,
            person_id=rng.randint(1, PEOPLE),
            outcome=CheckInOutcome.ON_TRACK,
            answered_at=due,
        )


def _old_visit(rows: _Rows, rng: random.Random, asked: datetime) -> None:
    """A visit to observe practice, long past: visited (with an answer) or cancelled."""
    visited = rng.random() < 0.8
    visit = rows.add(
        "visit_request",
        requester_id=rng.randint(1, PEOPLE),
        host_id=rng.randint(1, PEOPLE),
        description="",
        status=VisitStatus.VISITED if visited else VisitStatus.CANCELLED,
        visit_date=(asked + timedelta(days=20)).date(),
        created_at=asked,
        updated_at=asked,
        booked_at=asked + timedelta(days=5),
    )
    if visited:
        rows.add(
            "visit_feedback",
            visit_id=visit,
            person_id=rng.randint(1, PEOPLE),
            usefulness=rng.choice(list(VisitUsefulness)),
            answered_at=asked + timedelta(days=21),
        )
