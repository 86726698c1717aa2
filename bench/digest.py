"""The weekly digest over 1 and 10 years of history against one hand-written query.

History is written in bulk: per year 5,000 requests, each with one to three areas of need,
three offers (one accepted, two withdrawn), a deployment and two check-ins (so 10 years is
50,000 requests and 100,000 check-ins). Those of the last `RUNNING` are still running (the
request accepted, the deployment active, a check-in due later still scheduled); the rest are
closed, their deployments completed and check-ins answered. The digest reads only the week
and what is still running, so its time should stay flat with history.
"""

from __future__ import annotations

import random
import tempfile
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select, text

from bench.directory import _advance_sequences, _bulk, generate_directory
from bench.routing import analyze, fresh_engine, median_of
from bench.table import Row
from bot.core.context import ServiceContext
from bot.core.school_calendar import load_calendar
from bot.core.settings import load_settings
from bot.core.vocabulary import default_vocabulary
from bot.digest.service import build_digest, digest_week
from storage.db import make_session_factory, read_only, transaction
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Deployment,
    Offer,
    RequestTag,
    SupportRequest,
)

NOW = datetime(2026, 11, 30, 8, tzinfo=UTC)
PEOPLE = 200
RUNNING = timedelta(days=40)  # how long a deployment runs: those started since are active
BASELINE = """
SELECT (SELECT count(*) FROM support_request WHERE created_at >= :start),
       (SELECT count(*) FROM deployment WHERE started_at >= :start OR ended_at >= :start),
       (SELECT count(*) FROM checkin_answer WHERE answered_at >= :start)
"""


def generate_history(engine: Engine, years: int, per_year: int) -> None:
    """A directory of PEOPLE, then `years` of requests, offers, deployments and check-ins."""
    sessions = make_session_factory(engine)
    rng = random.Random(years)
    with transaction(sessions) as session:
        slugs = generate_directory(session, PEOPLE)
        first = session.execute(select(func.max(SupportRequest.id))).scalar_one() or 0
        offset = session.execute(select(func.max(Deployment.id))).scalar_one() or 0
        offers = session.execute(select(func.max(Offer.id))).scalar_one() or 0
        total = years * per_year
        rows: dict[type, list[dict]] = {
            table: [] for table in (SupportRequest, RequestTag, Offer, Deployment, CheckIn)
        }
        answers = []
        for n in range(1, total + 1):
            at = NOW - timedelta(days=8 + (n * 365 * years) // total)
            running = NOW - at < RUNNING
            person = 1 + n % PEOPLE
            supporter = 1 + (n * 7) % PEOPLE
            request_id, deployment_id = first + n, offset + n
            rows[SupportRequest].append(_request(request_id, person, at, running=running))
            rows[RequestTag] += [
                {"request_id": request_id, "tag_slug": slug}
                for slug in rng.sample(slugs, rng.randint(1, 3))
            ]
            rows[Offer] += _offers(offers + 3 * n - 2, request_id, supporter, at)
            rows[Deployment].append(
                _deployment(deployment_id, request_id, supporter, at, running=running)
            )
            for k in (1, 2):
                checkin = 2 * n + k - 2
                due = at + timedelta(days=14 * k)
                rows[CheckIn].append(_checkin(checkin, deployment_id, k, due))
                if due <= NOW:
                    answers.append(_answer(checkin, person, due))
        for table, table_rows in rows.items():
            _bulk(session, table, table_rows)
        _bulk(session, CheckInAnswer, answers)
        _advance_sequences(
            session, ["support_request", "offer", "deployment", "checkin", "checkin_answer"]
        )
    analyze(engine)


def _request(request_id: int, person: int, at: datetime, *, running: bool) -> dict:
    return {
        "id": request_id,
        "requester_id": person,
        "title": "",
        "description": "",
        "urgency": "routine",
        "status": "accepted" if running else "closed",
        "source": "cli",
        "awaiting_profile": False,
        "offer_round": 1,
        "created_at": at,
        "updated_at": at,
        "offered_at": at,
        "closed_at": None if running else at + RUNNING,
    }


def _offers(first_id: int, request_id: int, supporter: int, at: datetime) -> list[dict]:
    """Three offers of the request: the supporter's accepted, two others withdrawn."""
    others = [1 + (supporter + k * 11) % PEOPLE for k in (1, 2)]
    return [
        {
            "id": first_id + k,
            "request_id": request_id,
            "supporter_id": offered,
            "round": 1,
            "status": "withdrawn" if k else "accepted",
            "score": 1.0,
            "reasons": "",
            "created_at": at,
            "responded_at": at,
        }
        for k, offered in enumerate([supporter, *others])
    ]


def _deployment(
    deployment_id: int, request_id: int, supporter: int, at: datetime, *, running: bool
) -> dict:
    return {
        "id": deployment_id,
        "request_id": request_id,
        "supporter_id": supporter,
        "status": "active" if running else "completed",
        "started_at": at,
        "ended_at": None if running else at + RUNNING,
        "checkins_paused": False,
    }


def _checkin(checkin_id: int, deployment_id: int, sequence: int, due: datetime) -> dict:
    return {
        "id": checkin_id,
        "deployment_id": deployment_id,
        "sequence": sequence,
        "due_at": due,
        "status": "answered" if due <= NOW else "scheduled",
        "answered_at": due if due <= NOW else None,
    }


def _answer(checkin_id: int, person: int, at: datetime) -> dict:
    return {
        "id": checkin_id,
        "checkin_id": checkin_id,
        "person_id": person,
        "outcome": "on_track",
        "answered_at": at,
    }


def time_digest(engine: Engine, repeats: int) -> tuple[float, float]:
    """(building the week's digests, the baseline query), median seconds."""
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-bench"}, env_file=None)
    ctx = ServiceContext(settings, default_vocabulary(), load_calendar(settings), NOW)
    week = digest_week(ctx, NOW.date())
    sessions = make_session_factory(engine)
    with read_only(sessions) as session:
        real = median_of(lambda: build_digest(session, ctx, week), repeats)
        base = median_of(
            lambda: session.execute(text(BASELINE), {"start": week.start}).all(), repeats
        )
    return real, base


def report_digest(
    years: list[int], *, per_year: int = 5_000, postgres_url: str | None = None, repeats: int = 7
) -> list[Row]:
    """One row per database and history: the digest against the baseline query."""
    rows = []
    for label, url in [("SQLite", None), ("PostgreSQL", postgres_url)]:
        if label == "PostgreSQL" and url is None:
            continue
        first: float | None = None
        with tempfile.TemporaryDirectory() as folder:
            for count in years:
                engine = fresh_engine(url, folder, f"h{count}")
                generate_history(engine, count, per_year)
                real, base = time_digest(engine, repeats)
                engine.dispose()
                first = first or real
                rows.append(
                    Row(
                        f"digest, {count} y history ({label})",
                        real,
                        base,
                        "s",
                        "< 200 ms, flat with history",
                        f"{real / first:.1f}× the {years[0]} y time",
                    )
                )
    return rows
