"""Running the bot for real: Socket Mode when an app token is set, else HTTP under uvicorn."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk.errors import SlackClientError

from bot.core.settings import Settings
from bot.entry.runtime import Runtime, build_runtime
from handlers.slack.app import create_app

log = logging.getLogger(__name__)


def build_asgi_app(settings: Settings | None = None):  # type: ignore[no-untyped-def]
    """The ASGI app for `uvicorn --factory bot.entry.serve:build_asgi_app` (the Procfile's web)."""
    from bot.core.logs import configure_logging
    from bot.core.settings import load_settings
    from bot.entry.web import create_web_app

    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    missing = settings.missing_for_slack()
    if missing:
        raise SystemExit("cannot start: " + "; ".join(missing))
    runtime = build_runtime(settings)
    app = connect(runtime)
    _start_background_work(runtime)
    return create_web_app(runtime, app)


def connect(runtime: Runtime) -> App:
    """Build the app, checking the bot token with Slack; a failure is one clear line."""
    try:
        return create_app(runtime)
    except (BoltError, SlackClientError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SystemExit(
            f"error: could not check SLACK_BOT_TOKEN with Slack at "
            f"{runtime.settings.slack_api_url} ({reason})"
        ) from None


def _start_background_work(runtime: Runtime) -> None:
    runtime.deliverer.start()
    if runtime.settings.scheduler_enabled:
        from bot.entry.scheduler import start_scheduler

        start_scheduler(runtime)
    else:
        log.info("scheduler disabled in this process (SCHEDULER_ENABLED=false)")


def serve(settings: Settings) -> None:
    """Run until interrupted."""
    if settings.socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        runtime = build_runtime(settings)
        app = connect(runtime)
        _start_background_work(runtime)
        log.info("connecting to Slack over Socket Mode")
        # One socket worker per listener thread, so acks are never queued (docs/concurrency.md).
        SocketModeHandler(
            app, settings.slack_app_token, concurrency=settings.slack_listener_threads
        ).start()
        return

    import uvicorn

    from bot.entry.web import create_web_app

    runtime = build_runtime(settings)
    app = connect(runtime)
    _start_background_work(runtime)
    log.info("serving Slack at http://0.0.0.0:%s/slack/events", settings.port)
    uvicorn.run(create_web_app(runtime, app), host="0.0.0.0", port=settings.port, log_level="info")
