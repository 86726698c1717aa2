"""The HTTP face: a Starlette app serving Slack at POST /slack/events, Microsoft Teams at
POST /api/messages (when configured), GET /healthz (alive), GET /readyz (database answers,
migrations current) and GET /metrics (Prometheus).

Served by uvicorn in production (see Procfile). The Slack endpoint itself, with its
signature check, is the Slack adapter's front door (`handlers.slack.front_door`); the Teams
routes, with their token check and the same body-size limit, come from `handlers.teams`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio.to_thread
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.core.metrics import SLACK_REQUEST_SECONDS, render_metrics
from bot.entry.runtime import Runtime
from storage.db import HEAD_REVISIONS, applied_revisions

log = logging.getLogger(__name__)

Endpoint = Callable[[Request], Awaitable[Response]]


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


def create_web_app(
    runtime: Runtime,
    slack_events: Endpoint | None,
    *,
    teams_routes: Sequence[BaseRoute] = (),
    teams_unauthenticated: bool = False,
) -> Starlette:
    """The ASGI application for HTTP mode, with `slack_events` (`handlers.slack.front_door`)
    and the Teams routes (`handlers.teams`), whichever are configured."""

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
        if teams_unauthenticated:
            detail["teams_auth"] = "UNAUTHENTICATED"
        return JSONResponse(detail, status_code=200 if ready else 503)

    async def metrics(_request: Request) -> Response:
        content = await run_in_threadpool(render_metrics, runtime.engine, runtime.clock)
        return Response(content, media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        lifespan=_threads_for_slack(runtime.settings.slack_listener_threads),
        routes=[
            *(
                [Route("/slack/events", timed(slack_events), methods=["POST"])]
                if slack_events
                else []
            ),
            *teams_routes,
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
    heads = HEAD_REVISIONS
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
