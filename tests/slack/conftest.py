"""The Slack harness: the real Bolt app served over HTTP, a fake Web API, signed requests.

`slack` gives a running world: uvicorn serving `POST /slack/events` on a free port, the bot's
`WebClient` pointed (via SLACK_API_URL) at a `FakeSlack`, and a `SlackSender` that signs
requests like Slack. `slack.settle()` waits for listeners to finish and the outbox to drain.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import select

from bot.app import create_app
from bot.clock import FixedClock
from bot.directory import import_directory
from bot.runtime import Runtime, build_runtime
from bot.settings import load_settings
from bot.testing.fake_slack import FakeSlack
from bot.testing.signing import SlackSender
from bot.web import create_web_app
from storage.models import OutboxMessage

SIGNING_SECRET = "test-signing-secret"
SUPPORT_CHANNEL = "C0SUPPORT"
COORDINATOR_CHANNEL = "G0COORDS"

DIRECTORY = (Path(__file__).parents[1] / "fixtures" / "slack_directory.csv").read_text()


class ErrorRecords(logging.Handler):
    """Collects the global error handler's reports, so a listener that crashes fails the test."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class CountingExecutor(ThreadPoolExecutor):
    """A listener executor that knows when every listener it was given has finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=16, thread_name_prefix="listener")
        self._lock = threading.Lock()
        self._running = 0
        self.errors: list[BaseException] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            self._running += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Any]) -> None:
        if future.exception() is not None:
            self.errors.append(future.exception())  # type: ignore[arg-type]
        with self._lock:
            self._running -= 1

    def idle(self) -> bool:
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
            return (
                session.scalars(
                    select(OutboxMessage.id).where(
                        OutboxMessage.status.in_(("pending", "sending")),  # type: ignore[attr-defined]
                        OutboxMessage.next_attempt_at <= self.clock.now(),
                    )
                ).first()
                is not None
            )

    def import_directory(self, text: str = DIRECTORY) -> None:
        """Load people into the directory from CSV text."""
        report = import_directory(self.runtime.sessions, io.StringIO(text), now=self.clock.now())
        assert report.ok, report.render()


def start_server(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    """Serve an ASGI app on a free port in a background thread."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, port


@pytest.fixture
def slack_settings_env(db_url: str) -> dict[str, str]:
    """Settings for a bot talking to the fake (SLACK_API_URL filled in by `slack`)."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": db_url,
        "SUPPORT_CHANNEL_ID": SUPPORT_CHANNEL,
        "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
        "SCHEDULER_ENABLED": "false",
    }


@pytest.fixture
def slack(slack_settings_env: dict[str, str], clock: FixedClock) -> Iterator[SlackWorld]:
    """The running world; see the module docstring."""
    fake = FakeSlack(clock=clock)
    settings = load_settings({**slack_settings_env, "SLACK_API_URL": fake.url}, env_file=None)
    runtime = build_runtime(settings, clock=clock)
    executor = CountingExecutor()
    errors = ErrorRecords()
    logging.getLogger("bot.app").addHandler(errors)
    app = create_app(runtime, listener_executor=executor)
    server, thread, port = start_server(create_web_app(runtime, app))
    url = f"http://127.0.0.1:{port}/slack/events"
    world = SlackWorld(
        fake=fake,
        runtime=runtime,
        sender=SlackSender(url, SIGNING_SECRET),
        clock=clock,
        executor=executor,
        url=url,
        errors=errors.records,
    )
    try:
        yield world
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        executor.shutdown(wait=True)
        runtime.engine.dispose()
        fake.close()
        logging.getLogger("bot.app").removeHandler(errors)
    unexpected = [
        r.getMessage() for r in errors.records if not getattr(world, "errors_expected", False)
    ]
    assert not unexpected, f"a listener failed: {unexpected}"
