"""Checking the Bot Framework token on every request to `/api/messages`.

Our own verifier replaces the SDK's (docs/teams-design.md §2.2): the SDK's fetches keys with
blocking `urllib` inside the event loop (stalling `/slack/events` too), skips the OpenID
document, never checks the key's `endorsements` and has no tenant check.

`BotFrameworkVerifier.verify` reads the OpenID document, then its `jwks_uri`, with an async
httpx client; caches the keys for a day; fetches again for an unknown `kid` at most once per
five minutes (so random `kid`s cannot make it hammer Microsoft); fetches once for requests
arriving together (single flight: those queued behind a fetch use its outcome, on a cold start
too); when fetching fails (an outage) keeps the keys it has, if any, and tries again only after
five minutes (15 seconds while it has none), and a request whose key is already held never
waits for a fetch another request has under way; and checks RS256, the audience (our app id),
the issuer, expiry (five minutes' leeway), the `serviceurl` claim against the activity's
`serviceUrl`, and that the key is endorsed for Teams.

Two different refusals:
- `TokenRejected` (the adapter answers 401): the token is bad. Forged, expired, for another
  bot or issuer, not RS256, not endorsed, or signed with a `kid` that Microsoft did not
  publish when we last fetched its keys successfully. An unknown `kid` stays 401 while the
  unknown-`kid` cooldown forbids fetching again: with a current key set it is most likely
  forged, and a flood of random `kid`s must neither make us fetch nor look like an outage.
- `KeysUnavailable` (the adapter answers 503 with `Retry-After`): we cannot check the token
  right now because Microsoft's keys cannot be fetched. That is the case when we hold no keys
  and the last fetch failed (a cold start during an outage), and when the token's `kid` is not
  one we hold and the last fetch failed (tried for this request, by the fetch it queued behind,
  or within the failed-fetch cooldown): Microsoft may have rotated its keys while we could not
  see it, so a real message must not be refused as forged. No extra fetch happens either way.
  `retry_after` is the whole seconds until a fetch will next be tried, at most
  `FAILED_REFRESH_COOLDOWN_SECONDS` (five minutes) while we hold keys and
  `NO_KEYS_RETRY_SECONDS` (15 s) while we hold none: a retry sooner would only be refused again
  without fetching, a retry then fetches. It is not a subclass of `TokenRejected`, so nothing
  that answers 401 catches it by accident. What Teams does with a 503 (it may retry, soon,
  and only once or twice; `Retry-After` is not known to be honoured) is in
  docs/teams-design.md §3.2, with the sources searched.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from handlers.teams.tls import tls_context

log = logging.getLogger(__name__)

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TEAMS_CHANNEL = "msteams"
LEEWAY_SECONDS = 300
KEYS_LIFETIME_SECONDS = 24 * 3600
UNKNOWN_KID_COOLDOWN_SECONDS = 300
FAILED_REFRESH_COOLDOWN_SECONDS = 300
NO_KEYS_RETRY_SECONDS = 15  # the cooldown while we hold no keys at all: every request waits
FETCH_TIMEOUT_SECONDS = 10.0


class TokenRejected(Exception):
    """The request's token is bad (answered 401); the reason is safe to log (no token text)."""


class KeysUnavailable(Exception):
    """The token cannot be checked now: Microsoft's signing keys could not be fetched
    (answered 503). `retry_after`: whole seconds until a fetch will next be tried."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("signing keys unavailable")
        self.retry_after = retry_after


@dataclass
class _KeySet:
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    fetched_at: float = float("-inf")


class BotFrameworkVerifier:
    """Verifies Bot Framework bearer tokens against Microsoft's published keys, async."""

    def __init__(
        self,
        *,
        app_id: str,
        openid_metadata_url: str = OPENID_METADATA_URL,
        monotonic: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.openid_metadata_url = openid_metadata_url
        self._monotonic = monotonic
        self._wall_clock = wall_clock
        self._key_set = _KeySet()
        self._last_fetch = float("-inf")
        self._retry_refresh_at = float("-inf")  # after a failed fetch: not before then
        self._last_fetch_failed = False  # Microsoft could not be reached at the last try
        self._lock = asyncio.Lock()
        self.fetches = 0  # how many times the key set was fetched (for tests and metrics)

    async def verify(self, raw_token: str, service_url: str | None) -> dict[str, Any]:
        """The token's claims; `TokenRejected` saying why not, or `KeysUnavailable` when it
        cannot be checked for want of Microsoft's keys."""
        try:
            header = jwt.get_unverified_header(raw_token)
        except jwt.PyJWTError as exc:
            raise TokenRejected("not a JWT") from exc
        if header.get("alg") != "RS256":
            raise TokenRejected("algorithm is not RS256")
        key = await self._key_for(str(header.get("kid") or ""))
        if TEAMS_CHANNEL not in (key.get("endorsements") or []):
            raise TokenRejected("signing key is not endorsed for Teams")
        claims = self._decode(raw_token, key)
        if not service_url or claims.get("serviceurl") != service_url:
            raise TokenRejected("serviceurl claim does not match the activity")
        return claims

    def _decode(self, raw_token: str, key: dict[str, Any]) -> dict[str, Any]:
        try:
            signing_key = jwt.PyJWK(key, algorithm="RS256")
            return jwt.decode(
                raw_token,
                signing_key,
                algorithms=["RS256"],
                audience=self.app_id,
                issuer=BOT_FRAMEWORK_ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenRejected(type(exc).__name__) from exc

    async def _key_for(self, kid: str) -> dict[str, Any]:
        held = self._key_set.keys.get(kid)
        if held is not None and (self._lock.locked() or not self._refresh_due(kid)):
            return held  # usable: never queue behind another request's fetch
        # Single flight: one fetch at a time, and whoever queued here behind it uses its
        # result (the keys, or the cooldown after a failure) instead of fetching in turn.
        async with self._lock:
            now = self._monotonic()
            if self._refresh_due(kid):  # asked again: another request may have just fetched
                await self._refresh(now)
            key = self._key_set.keys.get(kid)
        if key is not None:
            return key
        if self._last_fetch_failed:  # not a key we hold, and we cannot see Microsoft's now
            raise KeysUnavailable(self._seconds_until_next_fetch())
        raise TokenRejected("unknown signing key")

    def _seconds_until_next_fetch(self) -> int:
        """Whole seconds (at least 1) until a `kid` we don't hold may be fetched for again."""
        now = self._monotonic()
        next_fetch = self._retry_refresh_at
        if not self._stale(now):  # keys held: an unknown `kid` also waits out its own cooldown
            next_fetch = max(next_fetch, self._last_fetch + UNKNOWN_KID_COOLDOWN_SECONDS)
        return max(1, math.ceil(next_fetch - now))

    def _failed_fetch_cooldown(self) -> float:
        """Five minutes while we hold keys (they still check most tokens); 15 seconds on a
        cold start, when every request is refused until a fetch succeeds and Teams retries a
        refused message within seconds, if at all."""
        return FAILED_REFRESH_COOLDOWN_SECONDS if self._key_set.keys else NO_KEYS_RETRY_SECONDS

    def _stale(self, now: float) -> bool:
        return now - self._key_set.fetched_at > KEYS_LIFETIME_SECONDS

    def _refresh_due(self, kid: str) -> bool:
        """A day-old key set (unless a fetch just failed), or a `kid` we don't know (at most
        once per cooldown)."""
        now = self._monotonic()
        if now < self._retry_refresh_at:
            return False
        unknown = kid not in self._key_set.keys
        may_force = now - self._last_fetch >= UNKNOWN_KID_COOLDOWN_SECONDS
        return self._stale(now) or (unknown and may_force)

    async def _refresh(self, now: float) -> None:
        self._last_fetch = now  # a `kid` unknown just after any fetch waits out the cooldown
        try:
            async with httpx.AsyncClient(
                timeout=FETCH_TIMEOUT_SECONDS, verify=tls_context()
            ) as http:
                metadata = (await http.get(self.openid_metadata_url)).raise_for_status().json()
                jwks = (await http.get(str(metadata["jwks_uri"]))).raise_for_status().json()
            keys = {str(k["kid"]): k for k in jwks["keys"] if k.get("kid")}
            if not keys:
                raise ValueError("no signing keys published")
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            log.warning("Teams signing keys could not be fetched (%s)", type(exc).__name__)
            # Keep the keys we have (if any); try again after the cooldown, also on a cold
            # start, so requests queued behind this fetch do not each fetch in turn.
            self._retry_refresh_at = now + self._failed_fetch_cooldown()
            self._last_fetch_failed = True
            return
        self.fetches += 1
        self._last_fetch_failed = False
        self._key_set = _KeySet(keys=keys, fetched_at=now)


def activity_tenant(body: dict[str, Any]) -> str | None:
    """The Microsoft 365 tenant an activity comes from, as Teams states it."""
    conversation = body.get("conversation")
    if isinstance(conversation, dict) and conversation.get("tenantId"):
        return str(conversation["tenantId"])
    channel_data = body.get("channelData")
    if isinstance(channel_data, dict):
        tenant = channel_data.get("tenant")
        if isinstance(tenant, dict) and tenant.get("id"):
            return str(tenant["id"])
    return None


class SdkValidatorShim:
    """Stands in for the SDK's `InboundActivityTokenValidator` (same `validate_token`), so the
    SDK's blocking validator never runs; the adapter has verified already, this checks again."""

    def __init__(self, verifier: BotFrameworkVerifier) -> None:
        self.verifier = verifier

    async def validate_token(self, raw_token: str, service_url: str | None = None) -> None:
        """Raise if the token does not verify (the SDK turns any exception into a 401; the
        adapter has answered 503 already when keys are unavailable, so it never gets here)."""
        await self.verifier.verify(raw_token, service_url)
