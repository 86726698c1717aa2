"""The HTTP face: a Starlette app serving Slack at POST /slack/events and GET /healthz.

Served by uvicorn in production (see Procfile). Bolt's own Starlette adapter calls the sync
`App.dispatch` on the event loop; we run it in the thread pool instead so one slow request
never stalls the others. A Microsoft Teams endpoint can be mounted beside it later.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anyio.to_thread
from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000


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

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return Response("Request too large", status_code=413)
        try:
            bolt_request = to_bolt_request(request, body)
        except (ValueError, LookupError, AttributeError, TypeError):  # not UTF-8/JSON/an object
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

    return Starlette(
        lifespan=_threads_for_slack(runtime.settings.slack_listener_threads),
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
    )
