"""The bot's own token for calling the Bot Connector (Entra client credentials), cached.

Not MSAL (the SDK's choice): MSAL refuses a non-https authority, so it cannot be pointed at
the local fake, and the outbox calls from plain threads. One `ClientCredentialsToken` is shared
by the Teams sender; it asks Entra again five minutes before the token runs out, or at once
after the Bot Connector said 401 (`forget`). The secret and the token are never logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import httpx

from handlers.teams.tls import tls_context

log = logging.getLogger(__name__)

BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
LOGIN_URL = "https://login.microsoftonline.com"
REFRESH_MARGIN_SECONDS = 300


class TokenUnavailable(Exception):
    """Entra did not give a token (unreachable, or the credentials were refused)."""

    def __init__(self, reason: str, *, refused: bool = False) -> None:
        super().__init__(reason)
        self.refused = refused  # the credentials themselves were rejected: a config problem


class ClientCredentialsToken:
    """A bearer token for the Bot Connector, fetched with the app's id and secret."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        tenant_id: str,
        login_url: str = LOGIN_URL,
        http: httpx.Client | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._form = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": BOT_FRAMEWORK_SCOPE,
        }
        self._url = f"{login_url.rstrip('/')}/{tenant_id}/oauth2/v2.0/token"
        self._http = http or httpx.Client(timeout=httpx.Timeout(10.0), verify=tls_context())
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._token: str | None = None
        self._good_until = float("-inf")

    def get(self) -> str:
        """A token good for at least five more minutes."""
        with self._lock:
            if self._token is None or self._monotonic() >= self._good_until:
                self._token, lifetime = self._fetch()
                self._good_until = self._monotonic() + lifetime - REFRESH_MARGIN_SECONDS
            return self._token

    def forget(self) -> None:
        """Drop the cached token (the Bot Connector refused it)."""
        with self._lock:
            self._token = None

    def _fetch(self) -> tuple[str, float]:
        try:
            response = self._http.post(self._url, data=self._form)
        except httpx.HTTPError as exc:
            raise TokenUnavailable(f"token endpoint unreachable ({type(exc).__name__})") from exc
        if response.status_code in (400, 401, 403):
            log.error("Teams credentials rejected by Entra (HTTP %d)", response.status_code)
            raise TokenUnavailable(f"credentials refused ({response.status_code})", refused=True)
        if response.status_code != 200:
            raise TokenUnavailable(f"token endpoint answered {response.status_code}")
        try:
            answer = response.json()
            return str(answer["access_token"]), float(answer.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenUnavailable("token endpoint answered something else") from exc
