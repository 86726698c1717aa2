"""Running it as a service: /healthz, /readyz and /metrics over HTTP, as a load balancer and
Prometheus use them, with counts, method names and statuses only (no ids, no text)."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlmodel import select

from bot.entry import jobs
from bot.entry.jobs import run_due
from bot.entry.runtime import Runtime
from bot.entry.web import readiness
from bot.outbox.owing import owe_post
from handlers.slack.stand_in.signing import JSON, sign
from storage.db import transaction
from storage.models import Offer, OutboxMessage, Person, SupportRequest
from tests.handlers.slack.conftest import SlackWorld

SECRET_TEXT = "Our SENCO has left and pupils in Year 6 need help"


def get(slack: SlackWorld, path: str) -> tuple[int, str, str]:
    url = slack.url.replace("/slack/events", path)
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def samples(body: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def metric(body: str, name: str, **labels: str) -> float:
    return samples(body).get((name, tuple(sorted(labels.items()))), 0.0)


# --- readiness -----------------------------------------------------------------------------------
def test_readyz_is_ready_when_the_database_answers_and_migrations_are_current(
    slack: SlackWorld,
) -> None:
    status, content_type, body = get(slack, "/readyz")
    assert status == 200 and content_type.startswith("application/json")
    assert json.loads(body) == {"status": "ready", "database": True, "migrations": "current"}


def test_readyz_is_503_while_migrations_are_behind_and_healthz_stays_alive(
    slack: SlackWorld,
) -> None:
    engine = slack.runtime.engine
    with engine.begin() as connection:
        [head] = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0000'"))
        status, _, body = get(slack, "/readyz")
        detail = json.loads(body)
        assert status == 503
        assert detail["migrations"] == "behind" and detail["applied"] == ["0000"]
        assert "python -m bot migrate" in detail["reason"]
        assert get(slack, "/healthz")[0] == 200  # alive: the process is fine, only not ready
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
        assert json.loads(get(slack, "/readyz")[2])["migrations"] == "none"
    finally:  # the database is reused by the next test: put its revision back
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
            connection.execute(
                text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": head}
            )
    assert get(slack, "/readyz")[0] == 200


def test_readiness_says_when_the_database_does_not_answer(slack: SlackWorld) -> None:
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:9/none")
    runtime: Runtime = dataclasses.replace(slack.runtime, engine=unreachable)
    ready, detail = readiness(runtime)
    assert not ready
    assert detail == {
        "status": "unavailable",
        "database": False,
        "reason": "the database does not answer",
    }


# --- metrics -------------------------------------------------------------------------------------
def seed_gauges(slack: SlackWorld) -> None:
    """Two owed messages (oldest 90 s old), one failed, requests in three states, two open
    offers and one declined."""
    now = slack.clock.now()
    slack.import_directory()
    with transaction(slack.runtime.sessions) as session:
        people = {p.slack_user_id: p.id or 0 for p in session.exec(select(Person))}
        statuses = ["offered", "offered", "accepted", "expired"]
        requests = []
        for status in statuses:
            request = SupportRequest(
                requester_id=people["UHEAD1"],
                title=SECRET_TEXT,
                description=SECRET_TEXT,
                status=status,
                created_at=now,
                updated_at=now,
            )
            session.add(request)
            requests.append(request)
        session.flush()
        for request_id, supporter, status in (
            (requests[0].id, "USLE1", "open"),
            (requests[1].id, "UNLE1", "open"),
            (requests[1].id, "USLE1", "declined"),
        ):
            session.add(
                Offer(
                    request_id=request_id or 0,
                    supporter_id=people[supporter],
                    status=status,
                    created_at=now,
                )
            )
        for age, status in ((90, "pending"), (30, "sending"), (600, "failed"), (900, "sent")):
            session.add(
                OutboxMessage(
                    created_at=now - timedelta(seconds=age),
                    next_attempt_at=now + timedelta(hours=1),
                    method="chat.postMessage",
                    channel="UHEAD1",
                    payload={"text": SECRET_TEXT},
                    status=status,
                )
            )


def test_metrics_report_the_outbox_requests_and_offers_from_the_database(
    slack: SlackWorld,
) -> None:
    seed_gauges(slack)
    status, content_type, body = get(slack, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    assert metric(body, "school_support_outbox_owed_messages") == 2
    assert metric(body, "school_support_outbox_failed_messages") == 1
    assert metric(body, "school_support_outbox_oldest_owed_age_seconds") == 90
    assert metric(body, "school_support_requests", status="offered") == 2
    assert metric(body, "school_support_requests", status="accepted") == 1
    assert metric(body, "school_support_requests", status="expired") == 1
    assert ("school_support_requests", (("status", "closed"),)) in samples(body)  # zeros shown
    assert metric(body, "school_support_offers_awaiting_answer") == 2


def test_metrics_count_slack_calls_with_429s_due_work_and_request_latency(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = get(slack, "/metrics")[2]
    with transaction(slack.runtime.sessions) as session:
        owe_post(session, now=slack.clock.now(), channel="C0SUPPORT", text=SECRET_TEXT)
    slack.fake.fail_next("chat.postMessage", status=429, retry_after=1)
    assert slack.runtime.deliverer.drain().retried == 1
    slack.clock.advance(seconds=2)
    assert slack.runtime.deliverer.drain().sent == 1
    assert slack.sender.url_verification("challenge-123")[0] == 200
    forged = sign(b'{"type": "url_verification"}', "not-the-secret")
    assert slack.sender.post(b'{"type": "url_verification"}', JSON, headers=forged)[0] == 401

    def broken(_runtime: Runtime) -> int:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(jobs, "due_tasks", lambda: [("broken", broken), ("three", lambda _: 3)])
    assert run_due(slack.runtime) == {"broken": -1, "three": 3}
    after = get(slack, "/metrics")[2]

    def grew(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    posts = "school_support_slack_calls_total"
    assert grew(posts, method="chat.postMessage", outcome="ratelimited") == 1
    assert grew(posts, method="chat.postMessage", outcome="ok") == 1
    assert grew("school_support_due_work_failed_total", task="broken") == 1
    assert grew("school_support_due_work_claimed_total", task="three") == 3
    latency = "school_support_slack_request_duration_seconds_count"
    assert grew(latency, status="200") == 1
    assert grew(latency, status="401") == 1
    for private in (SECRET_TEXT, "SENCO", "C0SUPPORT", "UHEAD1", "xoxb", "challenge-123"):
        assert private not in after
