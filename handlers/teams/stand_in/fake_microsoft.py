"""A local fake of the Microsoft side of a Teams bot, for the test-suite and the demo.

`FakeMicrosoft()` serves, on 127.0.0.1 with only the standard library and in its own thread
(the verifier fetches keys from the event loop that serves `/api/messages`, so a fake on that
loop would deadlock):

- the Bot Framework OpenID document and key set, with an RSA key generated at start and
  endorsed for `msteams` (counting fetches; unreachable or slow on demand);
  `sign(activity)` mints the token Teams would send with it;
- the Entra token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client credentials), answering
  a JWT as Entra does;
- the Bot Connector (`POST /v3/conversations`, `POST|PUT …/{id}/activities[/{aid}]`),
  which keeps every conversation's messages at their latest version and records every call,
  and can be told to fail (`fail_next(429, retry_after=7)`, `fail_next(503)`, `fail_next(403)`).

The activity builders (`message`, `card_action`, `installation_update`) make the bodies Teams
posts to `/api/messages`.
"""

from __future__ import annotations

import functools
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

TENANT_ID = "8b4f4d2e-0000-4000-8000-00000000a001"
APP_ID = "5f2b7a3c-0000-4000-8000-00000000b001"
BOT_ID = f"28:{APP_ID}"
ISSUER = "https://api.botframework.com"


@dataclass
class ConnectorCall:
    """One call the bot made to the Bot Connector (or the token endpoint)."""

    method: str
    path: str
    body: dict[str, Any]
    status: int
    authorization: str = ""


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    code: str


@dataclass
class _State:
    calls: list[ConnectorCall] = field(default_factory=list)
    # conversation id -> activity id -> latest activity body
    conversations: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    members: dict[str, str] = field(default_factory=dict)  # member id -> 1:1 conversation id
    failures: list[_Failure] = field(default_factory=list)
    answers_to_lose: int = 0  # new messages taken whose answer is then dropped
    tokens_issued: int = 0
    keys_served: int = 0
    keys_asked: int = 0  # requests for the OpenID document, answered or not
    keys_available: bool = True
    keys_delay: float = 0.0  # seconds the OpenID endpoints take to answer


class FakeMicrosoft:
    """OpenID + keys, the token endpoint and the Bot Connector, recording what the bot did."""

    def __init__(
        self,
        *,
        tenant_id: str = TENANT_ID,
        app_id: str = APP_ID,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.tenant_id = tenant_id
        self.wall_clock = wall_clock  # what tokens are issued by: the verifier's wall clock
        self.app_id = app_id
        self.kid = f"fake-{uuid.uuid4().hex[:8]}"
        self._key = _signing_key()
        self._lock = threading.Lock()
        self._state = _State()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    # ---- addresses -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The base URL (also the Bot Connector's service URL in activities)."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def service_url(self) -> str:
        """The `serviceUrl` Teams puts in activities, pointing at this fake's connector."""
        return f"{self.url}/"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    @property
    def login_url(self) -> str:
        return self.url

    # ---- tokens ----------------------------------------------------------------------------
    def sign(self, activity: dict[str, Any], **overrides: Any) -> str:
        """A Bot Framework token for `activity`, as Teams sends it; `overrides` change claims
        (`aud`, `iss`, `exp`, `serviceurl`) or the header (`kid=`), or `key=` another key."""
        now = int(self.wall_clock())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": self.app_id,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "serviceurl": activity.get("serviceUrl"),
        }
        kid = overrides.pop("kid", self.kid)
        key = overrides.pop("key", self._key)
        claims.update(overrides)
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def jwks(self) -> dict[str, Any]:
        """The published key set."""
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._key.public_key()))
        public.update({"kid": self.kid, "use": "sig", "endorsements": ["msteams"]})
        return {"keys": [public]}

    def rotate_key(self) -> None:
        """Publish the signing key under a new `kid` only, as when Microsoft rolls its keys
        (the verifier finds keys by `kid`); tokens from `sign` carry the new one from now on."""
        with self._lock:
            self.kid = f"fake-{uuid.uuid4().hex[:8]}"

    def set_keys_available(self, available: bool) -> None:
        """Make the OpenID document and key set answer 503 (Microsoft unreachable)."""
        with self._lock:
            self._state.keys_available = available

    def set_keys_delay(self, seconds: float) -> None:
        """Make the OpenID document and key set take `seconds` to answer (a slow Microsoft)."""
        with self._lock:
            self._state.keys_delay = seconds

    # ---- failures and records --------------------------------------------------------------
    def fail_next(self, status: int, *, retry_after: int | None = None, code: str = "") -> None:
        """Answer the next Bot Connector call with `status` (and `Retry-After`, an error code)."""
        with self._lock:
            self._state.failures.append(_Failure(status, retry_after, code or f"HTTP{status}"))

    def lose_next_answer(self) -> None:
        """Take the next new message, then close the connection without answering (the bot
        hears nothing back, as after a read timeout: Teams has it, the bot can't know)."""
        with self._lock:
            self._state.answers_to_lose += 1

    @property
    def calls(self) -> list[ConnectorCall]:
        with self._lock:
            return list(self._state.calls)

    def connector_calls(self) -> list[ConnectorCall]:
        """Every call to the Bot Connector (not the token endpoint)."""
        return [c for c in self.calls if c.path.startswith("/v3/")]

    def messages(self, conversation_id: str) -> list[dict[str, Any]]:
        """A conversation's messages, each at its latest version, oldest first."""
        with self._lock:
            return list(self._state.conversations.get(conversation_id, {}).values())

    def personal_conversation(self, member_id: str) -> str | None:
        """The 1:1 conversation between the bot and `member_id`, if it exists yet."""
        with self._lock:
            return self._state.members.get(member_id)

    def _chat_with(self, aad: str) -> str:
        """The 1:1 conversation with `aad` (as Teams: one per user and bot, made on first use)."""
        with self._lock:
            conv = self._state.members.setdefault(aad, f"a:1:{uuid.uuid4().hex[:12]}")
            self._state.conversations.setdefault(conv, {})
            return conv

    @property
    def tokens_issued(self) -> int:
        with self._lock:
            return self._state.tokens_issued

    @property
    def keys_served(self) -> int:
        with self._lock:
            return self._state.keys_served

    @property
    def keys_asked(self) -> int:
        """How many times the OpenID document was asked for: one per fetch of the keys."""
        with self._lock:
            return self._state.keys_asked

    # ---- activity builders -----------------------------------------------------------------
    def _base(self, kind: str, *, user: str, aad: str | None, conversation: dict[str, Any]):
        return {
            "type": kind,
            "id": f"1{uuid.uuid4().int % 10**12:012d}",
            "timestamp": "2026-11-23T09:00:00.000Z",
            "serviceUrl": self.service_url,
            "channelId": "msteams",
            "from": {"id": user, "name": "Someone", "aadObjectId": aad or user.split(":")[-1]},
            "conversation": {"tenantId": self.tenant_id, **conversation},
            "recipient": {"id": BOT_ID, "name": "School Support"},
            "channelData": {"tenant": {"id": self.tenant_id}},
        }

    def message(
        self,
        text: str,
        *,
        user: str,
        aad: str | None = None,
        conversation_id: str | None = None,
        channel: bool = False,
    ) -> dict[str, Any]:
        """A message activity: a 1:1 chat by default, else a post in a team channel."""
        kind = "channel" if channel else "personal"
        aad = aad or user.split(":")[-1]
        new_channel = f"19:{uuid.uuid4().hex}@thread.tacv2"
        conv = conversation_id or (new_channel if channel else self._chat_with(aad))
        body = self._base("message", user=user, aad=aad, conversation={"id": conv})
        body["conversation"]["conversationType"] = kind
        body["text"] = text
        body["textFormat"] = "plain"
        return body

    def card_action(
        self, data: dict[str, Any], *, user: str, aad: str | None = None, reply_to: str = ""
    ) -> dict[str, Any]:
        """An `adaptiveCard/action` invoke: someone pressed an `Action.Execute` button."""
        aad = aad or user.split(":")[-1]
        body = self._base("invoke", user=user, aad=aad, conversation={"id": self._chat_with(aad)})
        body["conversation"]["conversationType"] = "personal"
        body["name"] = "adaptiveCard/action"
        body["replyToId"] = reply_to
        body["value"] = {
            "action": {"type": "Action.Execute", "verb": data.get("action", ""), "data": data},
            "trigger": "manual",
        }
        return body

    def message_action(
        self, message_text: str, *, user: str, aad: str | None = None, channel: str | None = None
    ) -> dict[str, Any]:
        """A `composeExtension/fetchTask` invoke: "Request support" chosen on a message."""
        aad = aad or user.split(":")[-1]
        conv = channel or self._chat_with(aad)
        body = self._base("invoke", user=user, aad=aad, conversation={"id": conv})
        body["conversation"]["conversationType"] = "channel" if channel else "personal"
        body["name"] = "composeExtension/fetchTask"
        body["value"] = {
            "commandId": "requestSupport",
            "commandContext": "message",
            "messagePayload": {
                "id": f"1{uuid.uuid4().int % 10**12:012d}",
                "body": {"contentType": "html", "content": f"<p>{message_text}</p>"},
            },
        }
        return body

    def installation_update(
        self, *, user: str, aad: str | None = None, conversation_id: str | None = None
    ) -> dict[str, Any]:
        """An `installationUpdate` (add): the app was installed for `user` (1:1)."""
        aad = aad or user.split(":")[-1]
        conv = conversation_id or self._chat_with(aad)
        body = self._base("installationUpdate", user=user, aad=aad, conversation={"id": conv})
        body["conversation"]["conversationType"] = "personal"
        body["action"] = "add"
        return body

    # ---- the server ------------------------------------------------------------------------
    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeMicrosoft:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _answer(self, method: str, path: str, body: dict[str, Any], auth: str):
        """(status, headers, body) for one request."""
        if path == "/v1/.well-known/openidconfiguration" or path == "/v1/.well-known/keys":
            return self._openid(path)
        if path.endswith("/oauth2/v2.0/token"):
            return self._token(method, path, body)
        if path.startswith("/v3/conversations"):
            return self._connector(method, path, body, auth)
        return 404, {}, {"error": "not found"}

    def _openid(self, path: str):
        with self._lock:
            delay = self._state.keys_delay
            if not path.endswith("keys"):
                self._state.keys_asked += 1
        time.sleep(delay)  # in this request's own thread: the others are served meanwhile
        with self._lock:
            if not self._state.keys_available:
                return 503, {}, {"error": "unavailable"}
            if path.endswith("keys"):
                self._state.keys_served += 1
                return 200, {}, self.jwks()
        return 200, {}, {"issuer": ISSUER, "jwks_uri": f"{self.url}/v1/.well-known/keys"}

    def _token(self, method: str, path: str, form: dict[str, Any]):
        ok = (
            method == "POST"
            and form.get("grant_type") == "client_credentials"
            and form.get("client_id") == self.app_id
            and bool(form.get("client_secret"))
        )
        status = 200 if ok else 401
        with self._lock:
            self._state.calls.append(ConnectorCall(method, path, {}, status))
            if not ok:
                return 401, {}, {"error": "invalid_client"}
            self._state.tokens_issued += 1
        now = int(self.wall_clock())
        token = jwt.encode(
            {"aud": "https://api.botframework.com", "iat": now, "exp": now + 3600},
            self._key,
            algorithm="RS256",
        )
        return 200, {}, {"token_type": "Bearer", "expires_in": 3600, "access_token": token}

    def _connector(self, method: str, path: str, body: dict[str, Any], auth: str):
        with self._lock:
            failure = self._state.failures.pop(0) if self._state.failures else None
            if failure is None and not auth.startswith("Bearer "):
                failure = _Failure(401, None, "Unauthorized")
            if failure:
                self._state.calls.append(ConnectorCall(method, path, body, failure.status, auth))
                headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
                return failure.status, headers, {"error": {"code": failure.code}}
            status, answer = self._connector_ok(method, path.split("/")[3:], body)
            self._state.calls.append(ConnectorCall(method, path, body, status, auth))
            if self._state.answers_to_lose and method == "POST" and path.endswith("/activities"):
                self._state.answers_to_lose -= 1
                return None, {}, {}  # no answer at all
            return status, {}, answer

    def _connector_ok(self, method: str, parts: list[str], body: dict[str, Any]):
        state = self._state
        if not parts and method == "POST":  # create a conversation (a 1:1)
            member = str(body["members"][0]["id"])
            conv = state.members.setdefault(member, f"a:1:{uuid.uuid4().hex[:12]}")
            state.conversations.setdefault(conv, {})
            return 201, {"id": conv}  # the same chat every time for the same member
        conv = parts[0].split(";")[0]
        if len(parts) == 2 and method == "POST":
            activity_id = f"1{uuid.uuid4().int % 10**12:012d}"
            state.conversations.setdefault(conv, {})[activity_id] = {**body, "id": activity_id}
            return 201, {"id": activity_id}
        if len(parts) == 3 and method == "PUT":
            messages = state.conversations.get(conv, {})
            if parts[2] not in messages:
                return 404, {"error": {"code": "ActivityNotFound"}}
            messages[parts[2]] = {**body, "id": parts[2]}
            return 200, {"id": parts[2]}
        return 405, {"error": {"code": "MethodNotAllowed"}}


@functools.cache
def _signing_key() -> rsa.RSAPrivateKey:
    """One RSA key per process (generating one takes a while), never written anywhere."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _handler_for(fake: FakeMicrosoft) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            content_type = self.headers.get("Content-Type") or ""
            if "x-www-form-urlencoded" in content_type:
                body: dict[str, Any] = {
                    k: v[0] for k, v in parse_qs(raw.decode()).items()
                }  # no python-multipart needed
            else:
                body = json.loads(raw) if raw else {}
            path = urlsplit(self.path).path
            auth = self.headers.get("Authorization") or ""
            status, headers, answer = fake._answer(method, path, body, auth)
            if status is None:  # the answer is lost: hang up
                self.close_connection = True
                return
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

    return Handler
