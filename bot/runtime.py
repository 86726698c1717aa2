"""Everything a running bot needs, built once from settings and passed down explicitly."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.clock import Clock, SystemClock
from bot.delivery import Deliverer
from bot.settings import Settings
from storage.db import SessionFactory, make_engine, make_session_factory, migrate


@dataclass
class Runtime:
    """The settings, database, clock, Slack client and outbox of one process."""

    settings: Settings
    engine: Engine
    sessions: SessionFactory
    clock: Clock
    client: WebClient
    deliverer: Deliverer


def make_web_client(settings: Settings) -> WebClient:
    """A `WebClient` for the bot token, pointed at `SLACK_API_URL`."""
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, timeout=10)


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client: WebClient | None = None,
    engine: Engine | None = None,
    run_migrations: bool = True,
) -> Runtime:
    """Connect to the database (migrating it), and wire up the clock, client and outbox."""
    engine = engine or make_engine(settings.database_url)
    if run_migrations:
        migrate(engine)
    sessions = make_session_factory(engine)
    clock = clock or SystemClock()
    client = client or make_web_client(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        client=client,
        deliverer=Deliverer(sessions, client, clock),
    )
