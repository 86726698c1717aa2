"""The three Bot Connector calls the bot makes, as plain synchronous REST, with answers sorted.

The outbox delivers from threads and from `jobs run-due` with no event loop, and the SDK's
async client is tied to one loop and never retries (docs/teams-design.md §2.3), so the sender
calls the Bot Connector itself: post a message (`POST …/activities`), update one
(`PUT …/activities/{id}`), and open a 1:1 chat (`POST /v3/conversations`, idempotent: the same
member gets the same conversation). Each answer is sorted into `Done`, `Retry` (429 honouring
`Retry-After`, 5xx, 408, connection errors, a read timeout: then `in_doubt`, Teams may have
the message) or `Failed` (a permanent refusal: bad card, blocked, uninstalled, gone).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from bot.core.clock import Clock, SystemClock
from handlers.teams.tls import tls_context
from handlers.teams.token import ClientCredentialsToken, TokenUnavailable

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(20.0, connect=5.0)
RETRYABLE_STATUSES = {408, 429, 500, 502, 503, 504}
_ERROR_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,59}")


@dataclass(frozen=True)
class Done:
    """Teams took it: the id it answered (an activity id, or a conversation id)."""

    id: str


@dataclass(frozen=True)
class Retry:
    """Try again later: after `after` seconds if Teams said (`Retry-After`), else backoff."""

    reason: str
    after: float | None = None
    in_doubt: bool = False  # the request went out and no answer came: Teams may have it


@dataclass(frozen=True)
class Failed:
    """Teams refused it for good (the error code, safe to log)."""

    error: str


Outcome = Done | Retry | Failed


class BotConnector:
    """Posts, updates and opens 1:1 chats on the Bot Connector at an activity's service URL."""

    def __init__(
        self,
        *,
        app_id: str,
        token: ClientCredentialsToken,
        http: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.app_id = app_id
        self.token = token
        self.clock = clock or SystemClock()
        self._http = http or httpx.Client(timeout=TIMEOUT, verify=tls_context())

    def post(self, service_url: str, conversation_id: str, activity: dict[str, Any]) -> Outcome:
        """Send a new message to a conversation (`conv;messageid=X` replies in a thread)."""
        path = f"v3/conversations/{quote(conversation_id, safe=':;=@.')}/activities"
        return self._call("POST", service_url, path, activity)

    def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> Outcome:
        """Replace a message the bot sent, for everyone in the conversation."""
        conv = quote(conversation_id, safe=":;=@.")
        path = f"v3/conversations/{conv}/activities/{quote(activity_id, safe='')}"
        return self._call("PUT", service_url, path, {**activity, "id": activity_id})

    def open_personal(self, service_url: str, member_id: str, tenant_id: str) -> Outcome:
        """The 1:1 chat between the bot and `member_id` (a `29:` id or Entra object id)."""
        body = {
            "isGroup": False,
            "bot": {"id": f"28:{self.app_id}"},
            "members": [{"id": member_id}],
            "tenantId": tenant_id,
            "channelData": {"tenant": {"id": tenant_id}},
        }
        return self._call("POST", service_url, "v3/conversations", body)

    def _call(self, method: str, service_url: str, path: str, body: dict[str, Any]) -> Outcome:
        outcome = self._attempt(method, service_url, path, body)
        if isinstance(outcome, Retry) and outcome.reason == "HTTP 401":
            self.token.forget()  # perhaps only our cached token lapsed: one fresh try
            outcome = self._attempt(method, service_url, path, body)
            if isinstance(outcome, Retry) and outcome.reason == "HTTP 401":
                log.error("Teams credentials rejected by the Bot Connector (HTTP 401)")
        return outcome

    def _attempt(self, method: str, service_url: str, path: str, body: dict[str, Any]) -> Outcome:
        try:
            bearer = self.token.get()
        except TokenUnavailable as exc:
            return Retry(f"no token: {exc}")
        url = f"{service_url.rstrip('/')}/{path}"
        try:
            response = self._http.request(
                method, url, json=body, headers={"Authorization": f"Bearer {bearer}"}
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            return Retry(f"unreachable ({type(exc).__name__})")
        except httpx.HTTPError as exc:  # sent, but no answer: Teams may have taken it
            return Retry(f"no answer ({type(exc).__name__})", in_doubt=True)
        return sort_answer(response, now=self.clock.now())


def sort_answer(response: httpx.Response, *, now: datetime) -> Outcome:
    """`Done`, `Retry` or `Failed`, from the Bot Connector's HTTP answer received at `now`."""
    status = response.status_code
    if 200 <= status < 300:
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        return Done(str(answer.get("id") or "") if isinstance(answer, dict) else "")
    if status == 401:
        return Retry("HTTP 401")
    if status in RETRYABLE_STATUSES:
        return Retry(
            f"HTTP {status}", after=retry_after(response.headers.get("Retry-After"), now=now)
        )
    return Failed(_error_code(response) or f"HTTP {status}")


def retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` header (seconds or an HTTP date), if any."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _error_code(response: httpx.Response) -> str:
    """The Bot Connector's error code (`ConversationBlockedByUser`), or "" when its answer
    has none shaped like one: an `error` quoting data never reaches the log or the outbox."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return ""
    code = str((error.get("code") if isinstance(error, dict) else error) or "")
    return code if _ERROR_CODE.fullmatch(code) else ""
