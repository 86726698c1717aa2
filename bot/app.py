"""The Bolt app factory: builds the `App` from the runtime and registers every handler module."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from bot.runtime import Runtime
from storage.db import transaction
from storage.models import ProcessedEvent

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong on our side and nothing was changed. "
    "Please try again in a minute; if it keeps happening, tell your coordinator."
)
EVENT_MEMORY = timedelta(days=7)


def create_app(
    runtime: Runtime, *, token_verification: bool = True, listener_executor: Executor | None = None
) -> App:
    """Build the Bolt app for this runtime with every listener registered."""
    from handlers import register_all

    settings = runtime.settings
    app = App(
        signing_secret=settings.slack_signing_secret or "socket-mode-does-not-sign",
        client=runtime.client,
        token_verification_enabled=token_verification,
        logger=logging.getLogger("slack_bolt"),
        listener_executor=listener_executor or listener_pool(settings.slack_listener_threads),
        # Runs right after the signature check, before Bolt reads the payload.
        before_authorize=RefuseMalformedPayloads(),
    )
    app.middleware(_skip_retried_events(runtime))
    app.error(_report_error(runtime))
    register_all(app, runtime)
    return app


class RefuseMalformedPayloads(Middleware):
    """Answer 400, doing nothing else, to a signed payload whose shape Slack never sends.

    Bolt and the listeners index payloads by position; a list where an object belongs would
    otherwise crash them into a 500. The log line names the fields, never their values.
    """

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        from handlers.payloads import payload_problem

        problem = payload_problem(req.body)
        if problem is None:
            return next()
        log.info(
            "refused a malformed %s payload (%s; %d bytes)",
            _payload_kind(req.body),
            problem,
            len(req.raw_body.encode("utf-8")),
        )
        return BoltResponse(status=400, body="Bad request: not a payload Slack sends")


def _payload_kind(body: Any) -> str:
    """The payload's kind for the log: one of Slack's own names, never text from the body."""
    from handlers.payloads import KNOWN_KINDS

    if not isinstance(body, dict):
        return "unknown"
    if "command" in body:
        return "slash command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind in KNOWN_KINDS else "unknown"


def listener_pool(threads: int) -> ThreadPoolExecutor:
    """The threads Bolt runs listeners in: one per Slack request being handled at once.

    Bolt's default is 5, so the sixth simultaneous click waited for a whole Web API call
    and missed Slack's 3-second deadlines (see docs/concurrency.md).
    """
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-listener")


def _skip_retried_events(runtime: Runtime) -> Callable[..., BoltResponse]:
    """Middleware: an event whose `event_id` was already taken is acknowledged and dropped.

    Slack retries an event (same `event_id`, `X-Slack-Retry-Num` header) when it did not see
    our 200 in time; the first delivery may still be running. Claiming the id in the database
    makes that true across processes, not only within this one.
    """

    def middleware(body: dict[str, Any], next: Callable[[], BoltResponse]) -> BoltResponse:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not event_id:
            return next()
        try:
            with transaction(runtime.sessions) as session:
                session.add(ProcessedEvent(event_id=str(event_id), received_at=runtime.clock.now()))
        except IntegrityError:
            log.info("event %s already handled; skipping the retry", event_id)
            return BoltResponse(status=200, body="")
        return next()

    return middleware


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def forget_old_events(runtime: Runtime) -> int:
    """Drop processed event ids older than Slack's retry window (kept a week); returns count."""
    cutoff = runtime.clock.now() - EVENT_MEMORY
    with transaction(runtime.sessions) as session:
        result = session.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _report_error(runtime: Runtime) -> Callable[..., None]:
    """Global error handler: log with ids only, and tell the person something went wrong."""

    def handler(error: Exception, body: dict[str, Any]) -> None:
        event = _dict(body.get("event"))
        user = _text(_dict(body.get("user")).get("id") or body.get("user_id") or event.get("user"))
        channel = _text(
            _dict(body.get("channel")).get("id") or body.get("channel_id") or event.get("channel")
        )
        actions = (
            [_dict(a) for a in body.get("actions") or [{}]]
            if isinstance(body.get("actions"), list)
            else [{}]
        )
        log.error(
            "unhandled %s in %s (user=%s channel=%s action=%s callback=%s event=%s)",
            type(error).__name__,
            body.get("type") or body.get("command"),
            user,
            channel,
            actions[0].get("action_id"),
            _dict(body.get("view")).get("callback_id") or body.get("callback_id"),
            body.get("event_id"),
            exc_info=error,
        )
        if not user:
            return
        # A direct call, not the outbox: the database may be what failed, and this courtesy
        # is only useful right now.
        try:
            if channel:
                runtime.client.chat_postEphemeral(channel=channel, user=user, text=SORRY)
            else:
                runtime.client.chat_postMessage(channel=user, text=SORRY)
        except Exception as exc:  # the original error is what matters
            log.warning("could not tell user %s about the error: %s", user, type(exc).__name__)

    return handler
