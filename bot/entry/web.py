"""The HTTP face: a Starlette app serving Slack at POST /slack/events, GET /healthz
(alive), GET /readyz (database answers, migrations current) and GET /metrics (Prometheus).

Served by uvicorn in production (see Procfile). Bolt's own Starlette adapter calls the sync
`App.dispatch` on the event loop; we run it in the thread pool instead so one slow request
never stalls the others. A Microsoft Teams endpoint can be mounted beside it later.

The Slack endpoint checks Slack's signature itself before anything else reads the body: a
request failing it for any reason gets 401, one log line (reason and size, never the body)
and nothing else; only verified requests reach Bolt, marked as such in their context (the
global error handler acts on nothing else). Bolt's own check still runs after ours, as a
second lock should the app ever be served some other way; it can no longer fail with a 500
(our check refused any timestamp it could not parse), and `bot.core.logs` cuts the body out of its
log line.
"""

from __future__ import annotations

import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio.to_thread
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.core.metrics import SLACK_REQUEST_SECONDS, render_metrics
from bot.entry.runtime import Runtime
from handlers.slack.app import VERIFIED
from storage.db import applied_revisions, migration_heads

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
MAX_CLOCK_SKEW_SECONDS = 5 * 60  # Slack's own advice: refuse anything older (or newer)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


def signature_problem(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None
) -> str | None:
    """Why this request is not verifiably from Slack (a fixed phrase), or None if it is.

    Slack's v0 scheme: `X-Slack-Signature` is `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`,
    and `X-Slack-Request-Timestamp` must be within five minutes of now.
    """
    timestamp = headers.get("x-slack-request-timestamp")
    signature = headers.get("x-slack-signature")
    if not timestamp:
        return "no timestamp"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "malformed timestamp"
    if not signature:
        return "no signature"
    if not _SIGNATURE.fullmatch(signature):
        return "malformed signature"
    age = (time.time() if now is None else now) - int(timestamp)
    if age > MAX_CLOCK_SKEW_SECONDS:
        return "stale timestamp"
    if age < -MAX_CLOCK_SKEW_SECONDS:
        return "timestamp in the future"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, "sha256").hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "wrong signature"
    return None


def _threads_for_slack(
    threads: int,
) -> Callable[[Starlette], AbstractAsyncContextManager[None]]:
    """Let as many requests wait for their ack in threads as there are listener threads.

    Each Slack request holds one of anyio's worker threads (40 by default) until its listener
    acknowledges; a smaller limit would queue the rest past Slack's 3 s (docs/concurrency.md).
    """

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = max(limiter.total_tokens, threads)
        yield

    return lifespan


def create_web_app(runtime: Runtime, app: App) -> Starlette:
    """The ASGI application for HTTP mode."""

    secret = runtime.settings.slack_signing_secret or ""

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            log.info("refused a Slack request: too large (%d bytes)", len(body))
            return Response("Request too large", status_code=413)
        problem = signature_problem(secret, request.headers, body) if secret else "no secret"
        if problem:
            log.info("refused a Slack request: %s (%d bytes)", problem, len(body))
            return Response("Unauthorised", status_code=401)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, LookupError, AttributeError, TypeError):  # not UTF-8/JSON/an object
            bolt_request = None
        if bolt_request is None or not isinstance(bolt_request.body, dict):
            log.info("refused an unparseable request body (%d bytes)", len(body))
            return Response("Bad request", status_code=400)
        bolt_request.context[VERIFIED] = True
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    async def healthz(_request: Request) -> Response:
        def check() -> bool:
            try:
                # Autocommit: no transaction, so no write lock taken on SQLite.
                autocommit = runtime.engine.execution_options(isolation_level="AUTOCOMMIT")
                with autocommit.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return True
            except Exception as exc:
                log.error("health check: database unavailable (%s)", type(exc).__name__)
                return False

        ok = await run_in_threadpool(check)
        return JSONResponse(
            {"status": "ok" if ok else "unavailable", "database": ok},
            status_code=200 if ok else 503,
        )

    async def readyz(_request: Request) -> Response:
        ready, detail = await run_in_threadpool(readiness, runtime)
        return JSONResponse(detail, status_code=200 if ready else 503)

    async def metrics(_request: Request) -> Response:
        content = await run_in_threadpool(render_metrics, runtime.engine, runtime.clock)
        return Response(content, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        lifespan=_threads_for_slack(runtime.settings.slack_listener_threads),
        routes=[
            Route("/slack/events", timed(slack_events), methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
    )


def timed(handler: Callable[[Request], Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Wrap a handler so its latency is observed in `/metrics`, labelled by response status."""

    async def timed_handler(request: Request) -> Response:
        started = time.monotonic()
        response = await handler(request)
        seconds = time.monotonic() - started
        SLACK_REQUEST_SECONDS.labels(str(response.status_code)).observe(seconds)
        duration_ms = round(seconds * 1000)
        log.debug(
            "slack request answered %d in %d ms",
            response.status_code,
            duration_ms,
            extra={"status": response.status_code, "duration_ms": duration_ms},
        )
        return response

    return timed_handler


def readiness(runtime: Runtime) -> tuple[bool, dict[str, object]]:
    """Whether this process should get traffic: the database answers and its schema is at the
    migrations' head. The detail says why not, with revision ids only."""
    try:
        applied = applied_revisions(runtime.engine)
    except Exception as exc:
        log.error("readiness: database unavailable (%s)", type(exc).__name__)
        return False, {
            "status": "unavailable",
            "database": False,
            "reason": "the database does not answer",
        }
    heads = migration_heads()
    if applied != heads:
        return False, {
            "status": "unavailable",
            "database": True,
            "migrations": "behind" if applied else "none",
            "reason": "the database schema is not up to date: run `python -m bot migrate`",
            "applied": sorted(applied),
            "head": sorted(heads),
        }
    return True, {"status": "ready", "database": True, "migrations": "current"}
