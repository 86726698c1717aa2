"""Prometheus metrics for `GET /metrics`: what operators watch, with no personal data.

Counters and the latency histogram live in this process (each process, web or worker,
exposes its own; Prometheus sums them across targets). Gauges about the database (owed and
failed outbox messages, the oldest owed message's age, requests by status, offers awaiting
an answer) are read at scrape time, one cheap query each, outside any transaction so they
take no write lock on SQLite. Labels are method names, outcome classes, task names and
statuses only: never user ids, channel ids or text.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select
from sqlmodel import col

from bot.core.clock import Clock
from storage.models import (
    REQUEST_STATUSES,
    Offer,
    OfferStatus,
    OutboxMessage,
    OutboxStatus,
    SupportRequest,
)

PREFIX = "school_support"
PROCESS = CollectorRegistry(auto_describe=True)

SLACK_CALLS = Counter(
    f"{PREFIX}_slack_calls",
    "Slack Web API calls by method and outcome (ok, ratelimited, server_error, "
    "client_error, error, connection_error).",
    ["method", "outcome"],
    registry=PROCESS,
)
DUE_WORK_CLAIMED = Counter(
    f"{PREFIX}_due_work_claimed",
    "Items of due work (check-ins, reminders, expiries, messages…) claimed and done, by task.",
    ["task"],
    registry=PROCESS,
)
DUE_WORK_FAILED = Counter(
    f"{PREFIX}_due_work_failed",
    "Runs of a due task that failed (the next run tries again), by task.",
    ["task"],
    registry=PROCESS,
)
SLACK_REQUEST_SECONDS = Histogram(
    f"{PREFIX}_slack_request_duration_seconds",
    "Time to handle one HTTP request from Slack at /slack/events, until the response.",
    ["status"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
    registry=PROCESS,
)
OWED = ("pending", "sending")


def slack_outcome(status: int | None, ok: bool) -> str:
    """The outcome class of one Slack call from its HTTP status and `ok`."""
    if status == 429:
        return "ratelimited"
    if status is not None and status >= 500:
        return "server_error"
    if status is not None and status >= 400:
        return "client_error"
    return "ok" if ok else "error"


class DatabaseCollector(Collector):
    """Gauges read from the database at scrape time."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        with self.engine.connect() as connection:
            owed = connection.scalar(
                select(func.count()).where(col(OutboxMessage.status).in_(OWED))
            )
            failed = connection.scalar(
                select(func.count()).where(col(OutboxMessage.status) == OutboxStatus.FAILED)
            )
            oldest: datetime | None = connection.scalar(
                select(func.min(col(OutboxMessage.created_at))).where(
                    col(OutboxMessage.status).in_(OWED)
                )
            )
            by_status = dict(
                connection.execute(
                    select(col(SupportRequest.status), func.count()).group_by(
                        col(SupportRequest.status)
                    )
                ).all()
            )
            awaiting = connection.scalar(
                select(func.count()).where(col(Offer.status) == OfferStatus.OPEN)
            )
        yield _gauge("outbox_owed_messages", "Messages owed to Slack, not yet delivered.", owed)
        yield _gauge("outbox_failed_messages", "Messages refused for good, or given up on.", failed)
        age = max(0.0, (self.clock.now() - _aware(oldest)).total_seconds()) if oldest else 0.0
        yield _gauge(
            "outbox_oldest_owed_age_seconds", "Age of the oldest owed message (0 if none).", age
        )
        requests = GaugeMetricFamily(
            f"{PREFIX}_requests", "Support requests by status.", labels=["status"]
        )
        for status in REQUEST_STATUSES:
            requests.add_metric([status], float(by_status.get(status, 0)))
        yield requests
        yield _gauge("offers_awaiting_answer", "Offers sent and not yet answered.", awaiting)


def _gauge(name: str, documentation: str, value: float | int | None) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=float(value or 0))


def _aware(value: datetime) -> datetime:
    """A naive value from an aggregate is UTC; make it aware."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class _ProcessMetrics(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from PROCESS.collect()


def render_metrics(engine: Engine, clock: Clock) -> bytes:
    """The Prometheus text exposition: database gauges plus this process's counters."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(engine, clock))
    registry.register(_ProcessMetrics())
    return generate_latest(registry)
