"""The whole bot composed around the local stand-ins for Slack and Microsoft: for the demo
and the tests.

`running_world(env, clock)` serves the real Bolt app under uvicorn on a free port, points its
`WebClient` (via SLACK_API_URL) at a `FakeSlack`, and gives a `SlackSender` that signs
requests like Slack. With `teams=True` it also serves the Teams adapter at `/api/messages`,
its Microsoft side (keys, token endpoint, Bot Connector) a `FakeMicrosoft`, and
`world.teams_send(activity)` posts an activity with a token signed like Teams'. Without Slack
settings it is a Teams-only bot. `world.settle()` waits for listeners to finish and the
outbox to drain.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from sqlalchemy import select
from sqlmodel import col

from bot.core.clock import FixedClock
from bot.core.settings import Settings, load_settings
from bot.directory.service import import_directory
from bot.entry.runtime import Runtime, build_runtime
from bot.entry.web import create_web_app
from handlers.slack.app import create_app
from handlers.slack.front_door import MAX_BODY_BYTES, slack_events_endpoint
from handlers.slack.stand_in.fake_slack import FakeSlack
from handlers.slack.stand_in.signing import SlackSender
from handlers.teams import load_teams_endpoint
from handlers.teams.config import teams_config
from handlers.teams.context import TeamsContext
from handlers.teams.stand_in.fake_microsoft import FakeMicrosoft
from handlers.teams.tls import tls_context
from storage.models import OutboxMessage, OutboxStatus

SIGNING_SECRET = "local-signing-secret"
# Bolt answers 404 when a listener has not acked within Slack's 3 s. On a loaded test machine
# (CI runs three test workers on two cores) an ack can take longer; the stand-in waits for it,
# so a slow run is slow rather than a 404. The `deadline` tests time each ack against 3 s.
ACK_WAIT_SECONDS = 30


class ErrorRecords(logging.Handler):
    """Collects the global error handler's reports, so a listener that crashes is noticed."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class MissedAcks(logging.Handler):
    """Collects Bolt's warnings that a listener never acknowledged: Bolt then waits out the
    whole ack time (3 s in production, a replay included) and answers 404."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(level=logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        if "didn't call ack" in record.getMessage():  # the logs' filter may cut it short
            self.records.append(record)


class CountingExecutor(ThreadPoolExecutor):
    """A listener executor that knows when every listener it was given has finished."""

    def __init__(self, max_workers: int = 16) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="listener")
        self._lock = threading.Lock()
        self._running = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            self._running += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[Any]) -> None:
        with self._lock:
            self._running -= 1

    def idle(self) -> bool:
        """True when no listener is running or queued."""
        with self._lock:
            return self._running == 0


@dataclass
class SlackWorld:
    """A running bot with its fake Slack, clock and a signed-request sender."""

    fake: FakeSlack
    runtime: Runtime
    sender: SlackSender
    clock: FixedClock
    executor: CountingExecutor
    url: str
    errors: list[logging.LogRecord]
    directory: str = ""
    teams: FakeMicrosoft | None = None
    teams_url: str = ""
    http: httpx.Client | None = None

    def teams_send(self, activity: dict[str, Any], *, token: str | None = None) -> httpx.Response:
        """Post `activity` to `/api/messages` as Teams does (signed by the fake's key)."""
        assert self.teams is not None and self.http is not None, "this world has no Teams"
        bearer = self.teams.sign(activity) if token is None else token
        return self.http.post(
            self.teams_url, json=activity, headers={"Authorization": f"Bearer {bearer}"}
        )

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every listener has finished and nothing owed is still due."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.executor.idle():
                self.runtime.deliverer.drain()
                if self.executor.idle() and not self._due():
                    return
            time.sleep(0.01)
        raise AssertionError("the bot did not settle in time")

    def _due(self) -> bool:
        with self.runtime.sessions() as session:
            due = session.scalars(
                select(col(OutboxMessage.id)).where(
                    col(OutboxMessage.status).in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                    col(OutboxMessage.next_attempt_at) <= self.clock.now(),
                )
            ).first()
        return due is not None

    def import_directory(self, text: str | None = None) -> None:
        """Load people into the directory from CSV text (default: the world's directory)."""
        report = import_directory(
            self.runtime.sessions, io.StringIO(text or self.directory), now=self.clock.now()
        )
        if not report.ok:
            raise AssertionError(report.render())


def start_server(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    """Serve an ASGI app on a free loopback port in a background thread (uvicorn's warnings
    to the root logger: configuring its own handlers took a quarter of a world's start)."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


def teams_env(fake: FakeMicrosoft) -> dict[str, str]:
    """Settings for a Teams bot whose Microsoft is `fake` (tokens checked as in production)."""
    return {
        "TEAMS_CLIENT_ID": fake.app_id,
        "TEAMS_TENANT_ID": fake.tenant_id,
        "TEAMS_CLIENT_SECRET": "stand-in-secret",
        "TEAMS_SERVICE_URL": fake.service_url,
        "TEAMS_LOGIN_URL": fake.login_url,
        "TEAMS_OPENID_METADATA_URL": fake.openid_metadata_url,
    }


def _teams_routes(runtime: Runtime) -> list[Any]:
    config = teams_config(runtime.settings)
    if config is None:
        return []
    return load_teams_endpoint(TeamsContext(runtime, config), max_body=MAX_BODY_BYTES).routes


@contextmanager
def running_world(
    env: Mapping[str, str], clock: FixedClock, *, directory: str = "", teams: bool = False
) -> Iterator[SlackWorld]:
    """Run the bot with settings `env` (SLACK_API_URL and the signing secret filled in when
    Slack is configured; the `TEAMS_*` settings too with `teams`)."""
    # Like a real install, the bot is a member of the support and coordinators' channels only.
    channels = [
        env[name] for name in ("SUPPORT_CHANNEL_ID", "COORDINATOR_CHANNEL_ID") if env.get(name)
    ]
    fake = FakeSlack(clock=clock, bot_channels=channels)
    microsoft = FakeMicrosoft() if teams else None
    settings = _settings_for(env, fake, microsoft)
    runtime = build_runtime(settings, clock=clock)
    executor = CountingExecutor(settings.slack_listener_threads)
    errors = ErrorRecords()
    missed_acks = MissedAcks(errors.records)
    logging.getLogger("handlers.slack.app").addHandler(errors)
    logging.getLogger("slack_bolt").addHandler(missed_acks)
    slack_events = None
    if settings.slack_configured:
        app = create_app(runtime, listener_executor=executor)
        for listener in app._listeners:  # Bolt has no public setting for its wait
            listener.ack_timeout = ACK_WAIT_SECONDS
        slack_events = slack_events_endpoint(app, runtime.settings.slack_signing_secret)
    server, thread, port = start_server(
        create_web_app(runtime, slack_events, teams_routes=_teams_routes(runtime))
    )
    url = f"http://127.0.0.1:{port}/slack/events"
    world = SlackWorld(
        fake=fake,
        runtime=runtime,
        sender=SlackSender(
            url,
            settings.slack_signing_secret or SIGNING_SECRET,
            response_urls=fake.new_response_url,
        ),
        clock=clock,
        executor=executor,
        url=url,
        errors=errors.records,
        directory=directory,
        teams=microsoft,
        teams_url=f"http://127.0.0.1:{port}/api/messages",
        http=httpx.Client(verify=tls_context()) if microsoft else None,
    )
    try:
        yield world
    finally:
        server.should_exit = True
        executor.shutdown(wait=True)
        logging.getLogger("handlers.slack.app").removeHandler(errors)
        logging.getLogger("slack_bolt").removeHandler(missed_acks)
        if world.http is not None:
            world.http.close()
        # uvicorn looks for `should_exit` every 0.1 s, then gives connections 0.1 s more: the
        # rest of the stopping goes on in the background, so the caller does not wait for it.
        threading.Thread(
            target=_stop, args=(thread, world), name="stand-in-stop", daemon=True
        ).start()


def _settings_for(
    env: Mapping[str, str], fake: FakeSlack, microsoft: FakeMicrosoft | None
) -> Settings:
    """`env` with the fakes' addresses (and a signing secret when Slack is configured)."""
    slack_env = (
        {"SLACK_SIGNING_SECRET": SIGNING_SECRET, **env, "SLACK_API_URL": fake.url}
        if env.get("SLACK_BOT_TOKEN")
        else dict(env)
    )
    return load_settings(
        {**slack_env, **(teams_env(microsoft) if microsoft else {})}, env_file=None
    )


def _stop(server_thread: threading.Thread, world: SlackWorld) -> None:
    """Wait for uvicorn to stop, then close the world's database engine and fakes."""
    try:
        server_thread.join(timeout=10)
        world.runtime.engine.dispose()
        world.fake.close()
        if world.teams is not None:
            world.teams.close()
    except Exception:  # nobody waits on this thread: say so rather than fail a later test
        logging.getLogger(__name__).exception("the stand-in world did not stop cleanly")
