"""The Teams front door: `POST /api/messages` as a Starlette route for the SDK's `App`.

`StarletteAdapter` is the SDK's `HttpServerAdapter`: `App.initialize()` hands it the SDK's
request handler, and the adapter wraps it in a route that our own ASGI app serves beside
`/slack/events`. Before the SDK sees anything the route enforces the body-size limit; answers
401 to a request whose Bot Framework token does not verify (`auth.BotFrameworkVerifier`), and
503 with `Retry-After` to one it cannot check because Microsoft's signing keys cannot be
fetched (`auth.KeysUnavailable`: unable to check now, not unauthorised); in local
unauthenticated mode, 403 to any client not on this machine; and drops activities from other
tenants. Nothing unverified reaches a listener, a log line or Microsoft. The SDK awaits every
matched listener before answering, so what a listener commits is committed before the 200
goes out.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from handlers.teams.auth import (
    BotFrameworkVerifier,
    KeysUnavailable,
    TokenRejected,
    activity_tenant,
)

log = logging.getLogger(__name__)

SdkHandler = Callable[[Any], Awaitable[Any]]
UNAUTHENTICATED_HEADER = {"X-Teams-Auth": "UNAUTHENTICATED"}


class BodyTooLarge(Exception):
    """The request body is over the limit."""


async def read_limited(request: Request, max_body: int) -> bytes:
    """The request body, refusing (while reading) anything over `max_body` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_body:
        raise BodyTooLarge
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_body:
            raise BodyTooLarge
    return bytes(raw)


class StarletteAdapter:
    """The SDK's `HttpServerAdapter`, producing Starlette routes instead of running a server."""

    def __init__(
        self,
        *,
        max_body: int,
        tenant_id: str,
        verifier: BotFrameworkVerifier | None,
    ) -> None:
        """`verifier=None` is local unauthenticated mode (tests and the demo only)."""
        self.routes: list[Route] = []
        self.max_body = max_body
        self.tenant_id = tenant_id.lower()  # GUIDs: Teams sends lower case, settings may not
        self.verifier = verifier

    def register_route(self, method: str, path: str, handler: SdkHandler) -> None:
        """Called by `App.initialize()` with the SDK's activity handler."""

        async def endpoint(request: Request) -> Response:
            response = await self._handle(request, handler)
            if self.verifier is None:
                response.headers.update(UNAUTHENTICATED_HEADER)
            return response

        self.routes.append(Route(path, endpoint, methods=[method]))

    async def _handle(self, request: Request, handler: SdkHandler) -> Response:
        if self.verifier is None and not is_loopback(request):
            log.warning("Teams request refused: local unauthenticated mode, client not loopback")
            return JSONResponse({"error": "Forbidden"}, status_code=403)
        authorization = request.headers.get("authorization", "")
        if self.verifier is not None and not authorization.startswith("Bearer "):
            return _unauthorised("missing bearer token")
        try:
            body = json.loads(await read_limited(request, self.max_body))
        except BodyTooLarge:
            return JSONResponse({"error": "request too large"}, status_code=413)
        except ValueError:
            body = None
        if self.verifier is not None:
            service_url = body.get("serviceUrl") if isinstance(body, dict) else None
            try:
                await self.verifier.verify(authorization.removeprefix("Bearer "), service_url)
            except TokenRejected as exc:
                return _unauthorised(str(exc))
            except KeysUnavailable as exc:
                return _unavailable(exc.retry_after)
        if not isinstance(body, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        tenant = activity_tenant(body)
        if tenant is None or tenant.lower() != self.tenant_id:
            log.warning("Teams activity from another tenant dropped (id %s)", _safe_id(body))
            return Response(status_code=200)
        result = await handler({"body": body, "headers": dict(request.headers)})
        return _as_response(result)

    def serve_static(self, path: str, directory: str) -> None:
        """Not used: the bot serves no static pages through the SDK."""

    async def start(self, port: int) -> None:
        raise NotImplementedError("the bot's own ASGI app (bot.entry.web) serves /api/messages")

    async def stop(self) -> None:
        """Nothing to stop: the server is ours."""


def is_loopback(request: Request) -> bool:
    """Whether the request comes from this machine (127.0.0.0/8 or ::1)."""
    try:
        return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
    except ValueError:
        return False


def _unauthorised(reason: str) -> Response:
    log.warning("Teams request refused: %s", reason)
    return JSONResponse({"error": "Unauthorized"}, status_code=401)


def _unavailable(retry_after: int) -> Response:
    log.warning(
        "Teams request refused for now: signing keys unavailable (retry after %d s)", retry_after
    )
    return JSONResponse(
        {"error": "Service Unavailable"},
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


def _safe_id(body: dict[str, Any]) -> str:
    return "".join(ch for ch in str(body.get("id") or "?") if ch.isalnum())[:40]


def _as_response(result: dict[str, Any]) -> Response:
    if result.get("body") is not None:
        return JSONResponse(result["body"], status_code=int(result["status"]))
    return Response(status_code=int(result["status"]))
