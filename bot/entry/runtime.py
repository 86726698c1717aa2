"""Everything a running bot needs, built once from settings and passed down explicitly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bot.core.clock import Clock, SystemClock
from bot.core.context import ServiceContext
from bot.core.logs import keep_personal_data_out_of_logs
from bot.core.school_calendar import SchoolCalendar, load_calendar
from bot.core.settings import Settings
from bot.core.vocabulary import Vocabulary, default_vocabulary, sync_vocabulary
from bot.outbox.delivery import Deliverer
from bot.outbox.giving_up import GiveUp
from bot.outbox.notify import undeliverable_reporter
from bot.outbox.shared_pacing import SharedPacer
from bot.outbox.transport import Transport
from handlers.slack.client import SlackClient, make_web_client
from handlers.slack.sender import SlackRates, SlackTransport
from storage.db import SessionFactory, make_engine, make_session_factory, migrate, transaction


@dataclass
class Runtime:
    """The settings, database, clock, Slack client, outbox, vocabulary and calendar."""

    settings: Settings
    engine: Engine
    sessions: SessionFactory
    clock: Clock
    client: SlackClient
    deliverer: Deliverer
    vocabulary: Vocabulary
    calendar: SchoolCalendar
    # Set by `handlers.slack.app.create_app`: replays saved Slack events whose handling lapsed.
    replay_saved_events: Callable[[], int] | None = None

    def context(self) -> ServiceContext:
        """The services' context as of now."""
        return ServiceContext(
            settings=self.settings,
            vocabulary=self.vocabulary,
            calendar=self.calendar,
            now=self.clock.now(),
        )


def prepare_database(engine: Engine, vocabulary: Vocabulary | None = None) -> None:
    """Migrate the schema and load the expertise vocabulary (both idempotent)."""
    migrate(engine)
    with transaction(make_session_factory(engine)) as session:
        sync_vocabulary(session, vocabulary or default_vocabulary())


def _transports(
    settings: Settings, sessions: SessionFactory, client: SlackClient
) -> list[Transport]:
    """The outbox's senders: Slack's, and Teams' when Teams is configured."""
    transports: list[Transport] = [
        SlackTransport(client, SlackRates(settings.slack_messages_per_second))
    ]
    if settings.teams_configured:  # its HTTP client is imported only then
        from handlers.teams.sender import teams_transport

        teams = teams_transport(settings, sessions)
        if teams is not None:
            transports.append(teams)
    return transports


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client: SlackClient | None = None,
    engine: Engine | None = None,
    prepare: bool = True,
) -> Runtime:
    """Connect to the database (migrating it), and wire up the clock, client and outbox."""
    keep_personal_data_out_of_logs()
    engine = engine or make_engine(settings.database_url)
    vocabulary = default_vocabulary()
    if prepare:
        prepare_database(engine, vocabulary)
    sessions = make_session_factory(engine)
    clock = clock or SystemClock()
    client = client or make_web_client(settings)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        client=client,
        deliverer=Deliverer(
            sessions,
            clock,
            _transports(settings, sessions, client),
            workers=settings.outbox_workers,
            # Pacing runs on real time: a runtime on a test's fixed clock is not paced. The
            # limits are kept in the database, so every running copy counts against them.
            pacer=SharedPacer(sessions) if isinstance(clock, SystemClock) else None,
            on_permanent_failure=undeliverable_reporter(sessions, settings, clock),
            give_up=GiveUp(after=timedelta(hours=settings.outbox_give_up_hours)),
        ),
        vocabulary=vocabulary,
        calendar=load_calendar(settings),
    )
