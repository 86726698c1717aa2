"""Running the bot for real: Socket Mode when an app token is set, else HTTP under uvicorn."""

from __future__ import annotations

import logging

import uvicorn

from bot.core.logs import configure_logging
from bot.core.settings import Settings, load_settings
from bot.entry.runtime import Runtime, build_runtime
from bot.entry.scheduler import start_scheduler
from bot.entry.web import create_web_app
from handlers.slack.app import connect, run_socket_mode
from handlers.slack.front_door import slack_events_endpoint

log = logging.getLogger(__name__)


def build_asgi_app(settings: Settings | None = None):
    """The ASGI app for `uvicorn --factory bot.entry.serve:build_asgi_app` (the Procfile's web)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    missing = settings.missing_for_slack()
    if missing:
        raise SystemExit("cannot start: " + "; ".join(missing))
    runtime = build_runtime(settings)
    app = connect(runtime)
    _start_background_work(runtime)
    return create_web_app(runtime, slack_events_endpoint(app, settings.slack_signing_secret))


def _start_background_work(runtime: Runtime) -> None:
    runtime.deliverer.start()
    if runtime.settings.scheduler_enabled:
        start_scheduler(runtime)
    else:
        log.info("scheduler disabled in this process (SCHEDULER_ENABLED=false)")


def serve(settings: Settings) -> None:
    """Run until interrupted."""
    if settings.socket_mode:
        runtime = build_runtime(settings)
        app = connect(runtime)
        _start_background_work(runtime)
        log.info("connecting to Slack over Socket Mode")
        run_socket_mode(app, settings.slack_app_token, threads=settings.slack_listener_threads)
        return

    runtime = build_runtime(settings)
    app = connect(runtime)
    _start_background_work(runtime)
    log.info("serving Slack at http://0.0.0.0:%s/slack/events", settings.port)
    web_app = create_web_app(runtime, slack_events_endpoint(app, settings.slack_signing_secret))
    uvicorn.run(web_app, host="0.0.0.0", port=settings.port, log_level="info")
