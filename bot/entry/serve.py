"""Running the bot for real: Socket Mode when an app token is set, else HTTP under uvicorn,
serving Slack at `/slack/events` and, when configured, Microsoft Teams at `/api/messages`.

Starting makes objects that live as long as the process (modules, classes, the app), so the
garbage collector is paused while it starts (it would only scan them over and over, about a
sixth of the start) and resumed once serving, with those objects set aside for good
(`gc.freeze`). For that the pause comes before the database layer and the adapters are
imported, which is why they are imported in the functions below.
"""

from __future__ import annotations

import gc
import logging
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

import uvicorn

from bot.core.logs import configure_logging
from bot.core.settings import Settings, load_settings

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from bot.entry.runtime import Runtime

log = logging.getLogger(__name__)


def build_asgi_app(settings: Settings | None = None) -> Starlette:
    """The ASGI app for `uvicorn --factory bot.entry.serve:build_asgi_app` (the Procfile's web)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    missing = settings.missing_to_serve()
    if missing:
        raise SystemExit("cannot start: " + "; ".join(missing))
    if settings.teams_local_unauthenticated:  # the factory cannot know which host it is on
        raise SystemExit(
            "cannot start: TEAMS_LOCAL_UNAUTHENTICATED=true answers anyone without a token; "
            "run it only with `python -m bot serve`, which listens on 127.0.0.1"
        )
    gc.disable()
    try:
        runtime = _build_runtime(settings)
        web_app = _web_app(runtime)
        _start_background_work(runtime)
    finally:
        _collect_garbage_again()
    return web_app


def _build_runtime(settings: Settings) -> Runtime:
    """Import the database layer and the rest of the bot, and build the runtime."""
    from bot.entry.runtime import build_runtime

    return build_runtime(settings)


def _collect_garbage_again() -> None:
    """End start-up's pause: what exists now is set aside for good (nearly all of it lives as
    long as the process; the few hundred objects already garbage stay), and the collector
    runs as usual on what is made from now on."""
    gc.freeze()
    gc.enable()


def _web_app(runtime: Runtime) -> Starlette:
    """Slack's endpoint if Slack is configured, Teams' if Teams is (the SDK loaded only then)."""
    from bot.entry.web import create_web_app
    from handlers.slack.app import connect
    from handlers.slack.front_door import MAX_BODY_BYTES, slack_events_endpoint
    from handlers.teams import load_teams_endpoint
    from handlers.teams.config import teams_config
    from handlers.teams.context import TeamsContext

    settings = runtime.settings
    slack_events = None
    if settings.slack_configured:
        slack_events = slack_events_endpoint(connect(runtime), settings.slack_signing_secret)
    config = teams_config(settings)
    if config is None:
        return create_web_app(runtime, slack_events)
    teams = load_teams_endpoint(TeamsContext(runtime, config), max_body=MAX_BODY_BYTES)
    return create_web_app(
        runtime,
        slack_events,
        teams_routes=teams.routes,
        teams_unauthenticated=teams.local_unauthenticated,
    )


def _start_background_work(runtime: Runtime) -> None:
    """The outbox worker and (unless disabled) the scheduler, which only this imports."""
    runtime.deliverer.start()
    if runtime.settings.scheduler_enabled:
        from bot.entry.scheduler import start_scheduler

        start_scheduler(runtime)
    else:
        log.info("scheduler disabled in this process (SCHEDULER_ENABLED=false)")


class _Server(uvicorn.Server):
    """uvicorn's server, calling `on_listening` (once) as soon as it accepts connections."""

    def __init__(self, config: uvicorn.Config, on_listening: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_listening()


def _in_background(runtime: Runtime) -> Callable[[], None]:
    """Start the background work on its own thread, so requests are answered meanwhile
    (owed messages wait for it a moment; nothing due is lost: the database holds it)."""

    def start() -> None:
        _collect_garbage_again()
        threading.Thread(
            target=_start_background_work, args=(runtime,), name="start-background", daemon=True
        ).start()

    return start


def serve(settings: Settings) -> None:
    """Run until interrupted."""
    if settings.socket_mode and settings.teams_configured:
        raise SystemExit(
            "cannot start: Teams needs HTTP mode; unset SLACK_APP_TOKEN to serve Slack and "
            "Teams over HTTP on one port"
        )
    gc.disable()  # until serving: see the module's docstring
    runtime = _build_runtime(settings)
    if settings.socket_mode:
        from handlers.slack.app import connect, run_socket_mode

        app = connect(runtime)
        _start_background_work(runtime)
        _collect_garbage_again()
        log.info("connecting to Slack over Socket Mode")
        run_socket_mode(app, settings.slack_app_token, threads=settings.slack_listener_threads)
        return

    web_app = _web_app(runtime)
    # Local unauthenticated Teams mode answers anyone: never beyond this machine.
    host = "127.0.0.1" if settings.teams_local_unauthenticated else "0.0.0.0"
    log.info("serving on http://%s:%s (%s)", host, settings.port, ", ".join(settings.platforms))
    # uvicorn's lines go through our handler (LOG_FORMAT, LOG_LEVEL): no logging set-up of its own.
    config = uvicorn.Config(web_app, host=host, port=settings.port, log_config=None, log_level=None)
    # The scheduler and the outbox worker start once the server listens: the database is
    # migrated and answering by then, so /healthz is true, and start-up is not held up.
    _Server(config, on_listening=_in_background(runtime)).run()
