"""A generated directory of any size, written in bulk, for the routing benchmark and tests.

Deliberately untidy where the real directory is: phases and regions in mixed case and
spacing, accented names, erased and away people, full capacity, long deployment histories.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlmodel import Session, select

from bot.routing.matching import Need
from storage.models import (
    Deployment,
    ExpertiseTag,
    Person,
    PersonExpertise,
    PersonRole,
    School,
    SupportRequest,
)

PHASES = ["primary", "Secondary", "all-through", "special", "nursery", " primary ", None]
REGIONS = ["West Midlands", "west  midlands", "London", "North East", "LONDON", None]
FIRST = ["Anna", "Émile", "Zoë", "ßara", "Ōscar", "bob", "Bob", "Chloé", "Dev", "Ifeoma"]
ROLE_SETS = [("sle",), ("nle",), ("specialist",), ("nle", "sle"), ("head",), ("coordinator",)]
BATCH = 5_000


def generate_directory(session: Session, supporters: int, *, seed: int = 7) -> list[str]:
    """Insert `supporters` people (most with a supporter role) and their history; the tags."""
    rng = random.Random(seed)
    slugs = sorted(session.exec(select(ExpertiseTag.slug)).all())
    schools = max(supporters // 10, 3)
    _bulk(session, School, [_school(n, rng) for n in range(1, schools + 1)])
    now = datetime(2026, 11, 23, tzinfo=UTC)
    people, roles, tags, deployments = [], [], [], []
    for n in range(1, supporters + 1):
        people.append(_person(n, rng, schools, now))
        roles += [{"person_id": n, "role": r} for r in rng.choice(ROLE_SETS)]
        tags += [{"person_id": n, "tag_slug": s} for s in rng.sample(slugs, rng.randint(1, 4))]
        deployments += _history(n, rng, now, first_request=len(deployments) + 1)
    requests = [_request(d["request_id"], d["supporter_id"], now) for d in deployments]
    _bulk(session, Person, people)
    _bulk(session, PersonRole, roles)
    _bulk(session, PersonExpertise, tags)
    _bulk(session, SupportRequest, requests)
    _bulk(session, Deployment, deployments)
    _advance_sequences(session, ["school", "person", "support_request"])
    session.flush()
    return slugs


def random_need(rng: random.Random, slugs: list[str], people: int, request_id: int = 0) -> Need:
    """A need with one to three tags, from a random school, excluding a few people."""
    return Need(
        request_id=request_id,
        tags=frozenset(rng.sample(slugs, rng.randint(1, 3))),
        school_id=rng.randint(1, max(people // 10, 3)),
        phase=rng.choice(PHASES),
        region=rng.choice(REGIONS),
        excluded_person_ids=frozenset(rng.sample(range(1, people + 1), min(3, people))),
        requester_person_id=rng.randint(1, people),
    )


def _school(n: int, rng: random.Random) -> dict:
    return {
        "id": n,
        "name": f"School {n}",
        "phase": rng.choice(PHASES),
        "region": rng.choice(REGIONS),
    }


def _person(n: int, rng: random.Random, schools: int, now: datetime) -> dict:
    return {
        "id": n,
        "slack_user_id": f"U{n:07d}",
        "name": f"{rng.choice(FIRST)} {rng.choice(FIRST)}",  # many ties: name and id decide
        "school_id": rng.choice([None, rng.randint(1, schools)]),
        "capacity": rng.choice([0, 1, 1, 2, 3]),
        "available": rng.random() > 0.1,
        "created_at": now,
        "updated_at": now,
        "erased_at": now if rng.random() < 0.02 else None,
    }


def _history(n: int, rng: random.Random, now: datetime, first_request: int) -> list[dict]:
    """Past and active deployments, each of a request of its own (one active per request)."""
    return [
        {
            "request_id": first_request + k,
            "supporter_id": n,
            "status": rng.choice(["active", "completed", "completed", "released"]),
            "started_at": now - timedelta(days=rng.randint(1, 3650)),
            "checkins_paused": False,
        }
        for k in range(rng.choice([0, 0, 1, 2]))
    ]


def _request(request_id: int, requester_id: int, now: datetime) -> dict:
    return {
        "id": request_id,
        "requester_id": requester_id,
        "title": "",
        "description": "",
        "urgency": "routine",
        "source": "cli",
        "awaiting_profile": False,
        "offer_round": 1,
        "status": "accepted",
        "created_at": now,
        "updated_at": now,
    }


def _bulk(session: Session, table: type, rows: list[dict]) -> None:
    """executemany in batches (one statement per batch); COPY on PostgreSQL (much faster)."""
    connection = session.connection()
    if rows and connection.dialect.name == "postgresql":
        columns = list(rows[0])
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        sql = f"COPY {table.__tablename__} ({', '.join(columns)}) FROM STDIN"  # type: ignore[attr-defined]
        with cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row([row[column] for column in columns])
        return
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(table.__table__), rows[start : start + BATCH])  # type: ignore[attr-defined]


def _advance_sequences(session: Session, tables: list[str]) -> None:
    """PostgreSQL: move the id sequences past the ids written explicitly."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in tables:
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        )
