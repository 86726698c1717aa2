"""The Slack front door: POST /slack/events, checked before anything else reads the body.

A request failing Slack's signature check for any reason gets 401, one log line (reason and
size, never the body) and nothing else; only verified requests reach Bolt, marked as such in
their context (the global error handler acts on nothing else). Bolt's own check still runs
after ours, as a second lock should the app ever be served some other way; it can no longer
fail with a 500 (our check refused any timestamp it could not parse), and `bot.core.logs`
cuts the body out of its log line.

Bolt's own Starlette adapter calls the sync `App.dispatch` on the event loop; we run it in
the thread pool instead so one slow request never stalls the others.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Mapping

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from bot.core.clock import Clock, SystemClock
from handlers.slack.app import VERIFIED

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
    age = (SystemClock().now().timestamp() if now is None else now) - int(timestamp)
    if age > MAX_CLOCK_SKEW_SECONDS:
        return "stale timestamp"
    if age < -MAX_CLOCK_SKEW_SECONDS:
        return "timestamp in the future"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, "sha256").hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return "wrong signature"
    return None


def slack_events_endpoint(
    app: App, signing_secret: str | None, *, wall_clock: Clock | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint for every request from Slack: size and signature checked, then Bolt.

    Freshness is judged by `wall_clock` (the real time by default), not the bot's business
    clock: Slack stamps requests with the real time, while tests and the demo fix the bot's.
    """
    secret = signing_secret or ""
    clock = wall_clock or SystemClock()

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            log.info("refused a Slack request: too large (%d bytes)", len(body))
            return Response("Request too large", status_code=413)
        problem = (
            signature_problem(secret, request.headers, body, now=clock.now().timestamp())
            if secret
            else "no secret"
        )
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

    return slack_events
