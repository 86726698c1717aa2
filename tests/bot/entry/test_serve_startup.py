"""Starting `serve` quickly: a database already at the migrations' head is not migrated
again (Alembic is never imported), `holidays`, the scheduler, the Teams HTTP client, the
ORM's mappers and the tables' pydantic validators load only when needed, the garbage
collector waits until the server is built, Bolt is not left to walk the stack, and the
background work starts once the server listens."""

from __future__ import annotations

import inspect
import logging
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from bot.entry.runtime import build_runtime
from bot.entry.serve import _Server
from handlers.slack.app import create_app
from handlers.slack.stand_in.fake_slack import FakeSlack

ROOT = Path(__file__).resolve().parents[3]
LAZY = ("alembic", "holidays", "apscheduler", "httpx", "microsoft_teams", "dotenv")

PROBE = f"""
import sys
from datetime import date

def loaded():
    return ",".join(sorted({{m.split(".")[0] for m in sys.modules}} & set({LAZY!r})))

from bot.core.settings import load_settings
from bot.entry import serve

runtime = serve._build_runtime(load_settings(env_file=None))
serve._web_app(runtime)
print("SERVING:" + loaded())
from sqlalchemy import inspect
from storage.models import SupportRequest
print("ORM CONFIGURED:" + str(inspect(SupportRequest).configured))
print("TABLE VALIDATORS BUILT:" + str(SupportRequest.__pydantic_complete__))
runtime.calendar.is_working_day(date(2026, 12, 28))
serve._start_background_work(runtime)
print("WORKING:" + loaded())
"""


# Records whether the collector runs while the runtime is built, and then once serving.
GC_PROBE = """
import gc, sys
import bot.entry.runtime as runtime_module
from bot.core.settings import load_settings
from bot.entry import serve

def building(settings):
    print("BUILDING:", gc.isenabled())
    return build(settings)

def serving(settings):
    print("SERVING:", gc.isenabled(), gc.get_freeze_count() > 10_000)

build, runtime_module.build_runtime = runtime_module.build_runtime, building
settings = load_settings(env_file=None)
if sys.argv[1] == "factory":
    serve.build_asgi_app(settings)
    serving(settings)
else:  # `python -m bot serve`, with uvicorn's server saying it listens straight away
    serve._Server.run = lambda server: server._on_listening() or serving(settings)
    serve.serve(settings)
"""


def _probe_env(db_url: str, fake: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": db_url,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_serving_a_migrated_database_defers_the_optional_imports(
    db_url: str, fake: FakeSlack, tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=_probe_env(db_url, fake),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    serving, mapped, validators, working = done.stdout.strip().splitlines()[-4:]
    assert serving == "SERVING:"
    # The vocabulary's sync is plain SQL: the ORM's mappers wait for the first ORM query.
    assert mapped == "ORM CONFIGURED:False"
    # Pydantic builds a table's validator only if one is used (the bot never does).
    assert validators == "TABLE VALIDATORS BUILT:False"
    # The probe sees them once they are needed: a date asked about, the scheduler started.
    assert working == "WORKING:apscheduler,holidays"


@pytest.mark.parametrize("entry", ["factory", "serve"])
def test_garbage_is_collected_once_serving_not_while_starting(
    db_url: str, fake: FakeSlack, tmp_path: Path, entry: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", GC_PROBE, entry],
        env=_probe_env(db_url, fake, SCHEDULER_ENABLED="false"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # Paused while building; then on again, with start-up's objects set aside (frozen).
    assert done.stdout.split() == ["BUILDING:", "False", "SERVING:", "True", "True"]


def test_bolt_is_told_the_apps_name_instead_of_walking_the_stack_for_it(
    engine: Engine, clock: FixedClock, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unnamed, Bolt calls inspect.stack(), which looks up the file of every loaded module."""
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.url},
        env_file=None,
    )
    runtime = build_runtime(settings, clock=clock, engine=engine)
    walked: list[object] = []
    stack = inspect.stack
    monkeypatch.setattr(inspect, "stack", lambda *args: walked.append(args) or stack(*args))
    app = create_app(runtime)
    assert app.name == "school-support-bot"
    assert walked == []


def test_building_the_bolt_app_logs_no_warning_when_the_token_is_in_the_environment(
    engine: Engine,
    clock: FixedClock,
    fake: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Bolt reads SLACK_BOT_TOKEN itself and, given our client too, warned at every start
    that the token "will be unused": true, and nothing for an operator to fix."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    settings = load_settings(
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": fake.url},
        env_file=None,
    )
    runtime = build_runtime(settings, clock=clock, engine=engine)
    caplog.set_level(logging.DEBUG, logger="slack_bolt")
    create_app(runtime)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_background_work_starts_once_the_server_listens() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = Starlette(routes=[Route("/healthz", lambda _r: PlainTextResponse("ok"))])
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    reachable: list[bool] = []

    def on_listening() -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            reachable.append(True)
        server.should_exit = True

    server = _Server(config, on_listening=on_listening)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert reachable == [True]
