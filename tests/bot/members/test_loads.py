"""A person's load: `load_of` (one person, on every Accept and Home) agrees with `loads`
(everyone, for routing and insight), and looks the person up rather than counting everyone."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import select

from bot.entry.runtime import prepare_database
from bot.members.service import load_of, loads
from storage.db import SessionFactory, make_engine, make_session_factory, transaction
from storage.models import (
    Deployment,
    DeploymentMember,
    DeploymentStatus,
    MemberRole,
    Person,
    SupportRequest,
)
from tests.support.sql_trace import sqlite_plan, statements_sent

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def untidy_teams(sessions: SessionFactory, seed: int = 7) -> list[int]:
    """Forty people; sixty deployments of every status, each with colleagues and shadows,
    some of them since removed. Returns everyone's id."""
    rng = random.Random(seed)
    with transaction(sessions) as session:
        people = [
            Person(
                slack_user_id=f"U{n:04d}",
                name=f"Person {n}",
                capacity=5,
                created_at=NOW,
                updated_at=NOW,
            )
            for n in range(40)
        ]
        session.add_all(people)
        session.flush()
        ids = [p.id or 0 for p in people]
        for _ in range(60):
            request = SupportRequest(requester_id=rng.choice(ids), created_at=NOW, updated_at=NOW)
            session.add(request)
            session.flush()
            deployment = Deployment(
                request_id=request.id or 0,
                supporter_id=rng.choice(ids),
                status=rng.choice(list(DeploymentStatus)),
                started_at=NOW,
            )
            session.add(deployment)
            session.flush()
            for person_id in rng.sample(ids, rng.randint(0, 4)):
                session.add(
                    DeploymentMember(
                        deployment_id=deployment.id or 0,
                        person_id=person_id,
                        role=rng.choice(list(MemberRole)),
                        added_at=NOW,
                        removed_at=NOW if rng.random() < 0.3 else None,
                    )
                )
    return ids


def counted_in_python(sessions: SessionFactory) -> dict[int, int]:
    """The rule, counted from the rows: +1 for each active deployment a person leads, +1 for
    each current colleague's place on an active deployment (shadows and removed places: 0)."""
    with sessions() as session:
        active = {
            d.id: d for d in session.exec(select(Deployment)) if d.status == DeploymentStatus.ACTIVE
        }
        members = list(session.exec(select(DeploymentMember)))
    counted: Counter[int] = Counter(d.supporter_id for d in active.values())
    counted.update(
        m.person_id
        for m in members
        if m.deployment_id in active and m.role == MemberRole.COLLEAGUE and m.removed_at is None
    )
    return dict(counted)


def test_every_kind_of_place_is_in_the_history(sessions: SessionFactory) -> None:
    untidy_teams(sessions)
    with sessions() as session:
        statuses = {d.id: d.status for d in session.exec(select(Deployment))}
        members = list(session.exec(select(DeploymentMember)))
    kinds = {
        (statuses[m.deployment_id] == DeploymentStatus.ACTIVE, m.role, m.removed_at is None)
        for m in members
    }
    assert len(kinds) == 2 * len(MemberRole) * 2, kinds  # every combination occurs
    assert set(statuses.values()) == set(DeploymentStatus)


def test_one_persons_load_and_everyones_follow_the_rule(sessions: SessionFactory) -> None:
    ids = untidy_teams(sessions)
    expected = counted_in_python(sessions)
    assert len(expected) > 10, "the history gives many people a load"
    with sessions() as session:
        assert loads(session) == expected
        assert {pid: load_of(session, pid) for pid in ids} == {
            pid: expected.get(pid, 0) for pid in ids
        }


def test_on_sqlite_one_persons_load_is_looked_up_not_counted_for_everyone(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'loads.db'}")  # SQLite's plan, by design
    prepare_database(engine)
    sessions = make_session_factory(engine)
    ids = untidy_teams(sessions)
    with statements_sent(engine) as sent, sessions() as session:
        load_of(session, ids[0])
    [select_one] = [(s, p) for s, p in sent if s.lstrip().upper().startswith("SELECT")]
    plan = sqlite_plan(engine, [select_one])
    engine.dispose()
    assert not [step for step in plan if step.endswith("(status=?)")], "not every active one"
    assert any("supporter_id=?" in step for step in plan), plan
    assert any("person_id=?" in step for step in plan), plan
