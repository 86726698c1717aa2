"""What the digest reads of requests and deployments, against the rows worked out in Python
from every row, on an untidy history; how many statements a digest takes; and, on SQLite,
that the reads of the week look up indexes rather than scan history."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from bot.core.context import ServiceContext
from bot.core.school_calendar import load_calendar
from bot.core.settings import load_settings
from bot.core.vocabulary import default_vocabulary
from bot.digest.in_view import (
    WAITING_STATUSES,
    AttentionRow,
    DeploymentRow,
    RequestRow,
    attention_in,
    deployments_in_view,
    requests_by_id,
    requests_in_view,
    tags_of_requests,
)
from bot.digest.service import build_digest, digest_week
from bot.entry.runtime import prepare_database
from storage.db import SessionFactory, make_engine, make_session_factory, transaction
from storage.models import (
    ACCEPTED,
    CheckIn,
    CheckInAnswer,
    CheckInOutcome,
    CheckInStatus,
    Deployment,
    DeploymentStatus,
    ExpertiseTag,
    RequestTag,
    SupportRequest,
)
from tests.support.digest_history import NOW, seed_untidy_history
from tests.support.sql_trace import sqlite_plan, statements_sent

WEEKS = [
    (NOW - timedelta(days=7), NOW),  # this week's digest
    (NOW - timedelta(days=35), NOW - timedelta(days=28)),  # a past week's (a preview, a catch-up)
    (NOW - timedelta(days=700), NOW - timedelta(days=693)),  # a week before anything happened
]


def _in(at: datetime | None, start: datetime, end: datetime) -> bool:
    return at is not None and start <= at < end


def _row(r: SupportRequest) -> RequestRow:
    return RequestRow(
        r.id or 0, r.requester_id, r.school_id, r.status, r.created_at, r.offered_at, r.escalated_at
    )


def _expected_requests(session: Session, start: datetime, end: datetime) -> dict[int, RequestRow]:
    running = {*WAITING_STATUSES, ACCEPTED}
    return {
        r.id or 0: _row(r)
        for r in session.exec(select(SupportRequest).order_by(col(SupportRequest.id)))
        if r.status in running or _in(r.created_at, start, end) or _in(r.closed_at, start, end)
    }


def _expected_deployments(session: Session, start: datetime, end: datetime) -> list[DeploymentRow]:
    deployment_of = {c.id: c.deployment_id for c in session.exec(select(CheckIn))}
    next_due: dict[int, datetime] = {}
    for c in session.exec(select(CheckIn).where(CheckIn.status == CheckInStatus.SCHEDULED)):
        next_due[c.deployment_id] = min(c.due_at, next_due.get(c.deployment_id, c.due_at))
    latest: dict[int, tuple[datetime, int, str]] = {}
    for a in session.exec(select(CheckInAnswer)):
        key = deployment_of[a.checkin_id]
        latest[key] = max(
            latest.get(key, (a.answered_at, 0, "")), (a.answered_at, a.id or 0, a.outcome)
        )
    return [
        DeploymentRow(
            d.id or 0, d.request_id, d.supporter_id, d.status, d.started_at, d.ended_at,
            d.checkin_every_days, d.checkins_paused, d.impact_note, next_due.get(d.id or 0),
            latest[d.id or 0][2] if d.id in latest else None,
        )
        for d in session.exec(select(Deployment).order_by(col(Deployment.id)))
        if d.status == DeploymentStatus.ACTIVE
        or _in(d.started_at, start, end)
        or _in(d.ended_at, start, end)
    ]  # fmt: skip


def _expected_attention(session: Session, start: datetime, end: datetime) -> list[AttentionRow]:
    deployments = {d.id: d for d in session.exec(select(Deployment))}
    requests = {r.id: r for r in session.exec(select(SupportRequest))}
    checkins = {c.id: c for c in session.exec(select(CheckIn))}

    def row(kind: str, at: datetime | None, by: int | None, checkin: CheckIn) -> AttentionRow:
        d = deployments[checkin.deployment_id]
        r = requests[d.request_id]
        return AttentionRow(kind, at, by, d.request_id, d.supporter_id, r.requester_id, r.school_id)

    flagged = sorted(
        (
            a.answered_at,
            a.id or 0,
            row(a.outcome, a.answered_at, a.person_id, checkins[a.checkin_id]),
        )
        for a in session.exec(select(CheckInAnswer))
        if a.outcome == CheckInOutcome.NEEDS_ATTENTION and _in(a.answered_at, start, end)
    )
    missed = sorted(
        (c.missed_at, c.id or 0, row("missed", c.missed_at, None, c))
        for c in checkins.values()
        if c.status == CheckInStatus.MISSED and _in(c.missed_at, start, end)
    )
    return [r for *_, r in flagged] + [r for *_, r in missed]  # fmt: skip


def test_the_rows_in_view_are_those_worked_out_from_every_row(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        seed_untidy_history(session, requests=400)
    seen: dict[str, int] = defaultdict(int)
    with sessions() as session:
        for start, end in WEEKS:
            requests = requests_in_view(session, start, end)
            assert requests == _expected_requests(session, start, end)
            deployments = deployments_in_view(session, start, end)
            assert deployments == _expected_deployments(session, start, end)
            assert attention_in(session, start, end) == _expected_attention(session, start, end)
            missing = sorted({d.request_id for d in deployments} - set(requests))
            everyone = session.exec(select(SupportRequest).order_by(col(SupportRequest.id)))
            assert requests_by_id(session, missing) == {
                r.id: _row(r) for r in everyone if r.id in missing
            }
            seen["requests"] += len(requests)
            seen["deployments"] += len(deployments)
            seen["missing"] += len(missing)
            seen["next due"] += sum(1 for d in deployments if d.next_due)
            seen["last outcome"] += sum(1 for d in deployments if d.last_outcome)
            seen["attention"] += len(attention_in(session, start, end))
    assert min(seen.values()) > 0, seen  # every kind of row was really compared


def test_tags_come_in_the_databases_label_order(sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        seed_untidy_history(session, requests=300)
    with sessions() as session:
        ids = session.exec(select(col(SupportRequest.id)).order_by(col(SupportRequest.id))).all()
        tags = tags_of_requests(session, [i or 0 for i in ids])
        expected: dict[int, set[tuple[str, str]]] = defaultdict(set)
        for request_id, slug, label in session.exec(
            select(RequestTag.request_id, RequestTag.tag_slug, ExpertiseTag.label).join(
                ExpertiseTag, col(ExpertiseTag.slug) == col(RequestTag.tag_slug)
            )
        ):
            expected[request_id].add((slug, label))
        assert {i: set(pairs) for i, pairs in tags.items()} == expected
        assert all(len(set(pairs)) == len(pairs) for pairs in tags.values())
        rank = {
            label: n
            for n, label in enumerate(
                session.exec(select(ExpertiseTag.label).order_by(ExpertiseTag.label))
            )
        }
        for pairs in tags.values():
            assert [rank[label] for _, label in pairs] == sorted(rank[label] for _, label in pairs)
        assert sum(len(p) > 1 for p in tags.values()) > 20  # orders were really compared


def _context() -> ServiceContext:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-test"}, env_file=None)
    return ServiceContext(settings, default_vocabulary(), load_calendar(settings), NOW)


def _statements(engine: Engine, sessions: SessionFactory) -> list[tuple[str, Any]]:
    ctx = _context()
    with statements_sent(engine) as sent, sessions() as session:
        build_digest(session, ctx, digest_week(ctx, NOW.date()))
    return sent


def test_a_digest_takes_as_many_statements_whatever_is_in_view(
    engine: Engine, sessions: SessionFactory
) -> None:
    with transaction(sessions) as session:
        seed_untidy_history(session, requests=40)
    few = _statements(engine, sessions)
    with transaction(sessions) as session:
        seed_untidy_history(session, requests=400, seed=6, directory=False)
    many = _statements(engine, sessions)
    assert len(many) == len(few) <= 26, many  # 24 now; 37 before the digest read rows in view


def test_on_sqlite_a_digest_reads_through_indexes_not_by_scanning_history(
    tmp_path: Path,
) -> None:
    """SQLite only: PostgreSQL's plans depend on its statistics and sizes."""
    engine = make_engine(f"sqlite:///{tmp_path}/plans.db")
    prepare_database(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as session:
        # Two statuses, as in the benchmark: closed history and the running requests.
        seed_untidy_history(session, requests=0, closed_history=3_000)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))  # statistics: what made SQLite scan before
    statements = _statements(engine, sessions)
    history = (
        r"\bSCAN (support_request|deployment|checkin|checkin_answer|request_tag|offer"
        r"|visit_request|visit_feedback)\b"
    )
    assert [p for p in sqlite_plan(engine, statements) if re.search(history, p)] == []
    engine.dispose()
