"""The HTTP face: a Starlette app serving Slack at POST /slack/events, GET /healthz
(alive), GET /readyz (database answers, migrations current) and GET /metrics (Prometheus).

Served by uvicorn in production (see Procfile). Bolt's own Starlette adapter calls the sync
`App.dispatch` on the event loop; we run it in the thread pool instead so one slow request
never stalls the others. A Microsoft Teams endpoint can be mounted beside it later.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.metrics import SLACK_REQUEST_SECONDS, render_metrics
from bot.runtime import Runtime
from storage.db import applied_revisions, migration_heads

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


def create_web_app(runtime: Runtime, app: App) -> Starlette:
    """The ASGI application for HTTP mode."""

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return Response("Request too large", status_code=413)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, AttributeError, TypeError):  # not UTF-8, not JSON, not an object
            bolt_request = None
        if bolt_request is None or not isinstance(bolt_request.body, dict):
            log.info("refused an unparseable request body (%d bytes)", len(body))
            return Response("Bad request", status_code=400)
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
        routes=[
            Route("/slack/events", timed(slack_events), methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ]
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
