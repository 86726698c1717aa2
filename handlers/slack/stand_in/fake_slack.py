"""A local fake of the Slack Web API, for the test-suite and `python -m bot demo`.

`FakeSlack()` serves the Web API on 127.0.0.1 using only the standard library; point slack_sdk
at it with `WebClient(token="xoxb-…", base_url=fake.url)`. It answers like Slack, keeps posted
messages so history, replies and updates work, refuses what Slack refuses (with Slack's error
codes), records every call, and can be told to fail: rate limits, 5xx, outages, dead channels.
It also takes file uploads (`files.getUploadURLExternal`, the upload POST, then
`files.completeUploadExternal`) and serves files a test adds with `add_file` to the bot token.

Like Slack, it refuses `chat.postMessage` and `chat.postEphemeral` in a conversation the bot
is not a member of (`not_in_channel` in a public channel, `channel_not_found` in a private one
or a DM between other people); the bot is always in its own DMs. It serves the `response_url`s
it mints with `new_response_url` (30 minutes, 5 uses, as Slack does), so a test can see what
the person was shown wherever they acted.

It answers `conversations.info` as Slack does: public channels for anyone, private channels
and group DMs only when the bot is in them (else `channel_not_found`), and a DM without
`is_private` at all; channels `add_conversation` did not declare take their kind from the id
(`G…` private, `D…` a DM), but a private channel made since 2021 has a `C…` id, so tests
declare those.

Message timestamps come from `clock` (anything with `now() -> datetime`), so a test that runs
the bot on a `FixedClock` should give the fake the same clock.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import mimetypes
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from bot.core.clock import Clock, SystemClock

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"
TEAM_NAME = "School Support (test)"
TEAM_DOMAIN = "school-support-test"
TEAM_URL = f"https://{TEAM_DOMAIN}.slack.com/"
APP_ID = "A0001"

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_MESSAGE_TEXT = 40_000
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60
RESPONSE_URL_USES = 5
# Methods that post into a conversation, which Slack allows only where the bot is a member.
_MEMBERS_ONLY = ("chat.postMessage", "chat.postEphemeral")

# Form-encoded bodies carry these arguments as JSON strings.
_JSON_ARGS = ("blocks", "attachments", "view", "metadata")
# Element types whose `options` Slack checks (option text ≤ 75, value ≤ 150), with the most
# options each takes.
_OPTION_ELEMENTS = {
    "static_select": 100,
    "multi_static_select": 100,
    "overflow": 5,
    "radio_buttons": 10,
    "checkboxes": 10,
}
_TEXT_INPUT_MOST = 3000  # a plain_text_input's max_length and min_length

_MethodHandler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake received and answered it (failed calls included)."""

    method: str
    args: dict[str, Any]
    token: str | None
    response: dict[str, Any]
    status: int
    index: int
    at: float = 0.0  # time.monotonic() when the fake received the call

    @property
    def ok(self) -> bool:
        """True when Slack would have accepted the call (HTTP 200 and `ok: true`)."""
        return self.status == 200 and self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        """Slack's error code, if the call failed with a JSON body."""
        error = self.response.get("error")
        return error if isinstance(error, str) else None


def _kind_of(channel: str) -> str:
    """A conversation's kind from its id, as the fake's ids go: `G…` private, `D…` a DM."""
    return {"G": "private", "D": "im"}.get(channel[:1], "public")


def dm_channel_id(user_id: str) -> str:
    """The fake's stable DM channel id for a user id (`U123` -> `D123`); other ids unchanged."""
    if user_id[:1] in ("U", "W") and len(user_id) > 1:
        return "D" + user_id[1:]
    return user_id


class _SlackError(Exception):
    """An `ok: false` answer, with Slack's error code and any schema problems."""

    def __init__(self, error: str, problems: list[str] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.problems = problems or []

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error}
        if self.problems:
            body["errors"] = list(self.problems)
            body["response_metadata"] = {"messages": [f"[ERROR] {p}" for p in self.problems]}
        return body


@dataclass
class _Failure:
    """An injected HTTP-level failure: for `times` matching calls, or until ended if None."""

    method: str | None
    status: int
    error: str
    retry_after: int | None
    text: str | None
    times: int | None
    acted_on: bool = False  # the call is carried out first: only its answer fails

    def matches(self, method: str) -> bool:
        return self.method is None or self.method == method

    def answer(self) -> tuple[int, dict[str, Any], bytes, dict[str, str]]:
        headers: dict[str, str] = {}
        if self.status == 429 and self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        if self.text is not None:
            headers["Content-Type"] = "text/plain; charset=utf-8"
            return self.status, {}, self.text.encode("utf-8"), headers
        response = {"ok": False, "error": self.error}
        headers["Content-Type"] = "application/json; charset=utf-8"
        return self.status, response, json.dumps(response).encode("utf-8"), headers


def _default_error(status: int) -> str:
    if status == 429:
        return "ratelimited"
    if status == 500:
        return "internal_error"
    if status > 500:
        return "service_unavailable"
    return "fatal_error"


# Calls a second by Slack's published tier (Tier 2: 20+, Tier 3: 50+, Tier 4: 100+ a minute);
# `chat.postMessage` is "special": about one a second per channel, plus a workspace limit.
SLACK_TIERS: dict[str, float] = {
    "chat.postMessage": 10.0,
    "chat.update": 50 / 60,
    "chat.postEphemeral": 100 / 60,
    "conversations.open": 50 / 60,
    "conversations.info": 50 / 60,
    "conversations.history": 50 / 60,
    "conversations.replies": 50 / 60,
    "views.publish": 100 / 60,
    "views.open": 100 / 60,
    "files.getUploadURLExternal": 100 / 60,
    "files.completeUploadExternal": 100 / 60,
    "users.info": 100 / 60,
}


class _RateLimits:
    """Token buckets by method and, for posts, by channel (call under the fake's lock)."""

    def __init__(
        self,
        per_second: dict[str, float],
        per_channel: float | None,
        burst_seconds: float,
        channel_burst: float,
    ) -> None:
        self.per_second = per_second
        self.per_channel = per_channel
        self.burst_seconds = burst_seconds
        self.channel_burst = channel_burst
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, method: str, channel: str | None) -> float | None:
        """Take a token for `method` (and `channel`); None if allowed, else seconds to wait."""
        now = time.monotonic()
        wanted: list[tuple[str, float, float]] = []
        if method in self.per_second:
            rate = self.per_second[method]
            wanted.append((method, rate, max(1.0, rate * self.burst_seconds)))
        if channel and self.per_channel:
            wanted.append((f"channel:{channel}", self.per_channel, self.channel_burst))
        levels = []
        for key, rate, capacity in wanted:
            tokens, at = self._buckets.get(key, (capacity, now))
            levels.append(min(capacity, tokens + (now - at) * rate))
        short = [
            (1 - level) / rate
            for level, (_, rate, _) in zip(levels, wanted, strict=True)
            if level < 1
        ]
        if short:
            return max(short)
        for level, (key, _, _) in zip(levels, wanted, strict=True):
            self._buckets[key] = (level - 1, now)
        return None


# --- what Slack refuses -------------------------------------------------------------------


def _too_long(problems: list[str], value: Any, limit: int, pointer: str) -> None:
    if isinstance(value, str) and len(value) > limit:
        problems.append(f"must be less than {limit + 1} characters [json-pointer:{pointer}]")


def _check_text(
    problems: list[str], obj: Any, limit: int, pointer: str, *, plain_only: bool = False
) -> None:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        problems.append(f"must provide a text object [json-pointer:{pointer}]")
        return
    kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if obj.get("type") not in kinds:
        problems.append(f"must be one of {', '.join(kinds)} [json-pointer:{pointer}/type]")
    if not obj["text"]:
        problems.append(f"must be more than 0 characters [json-pointer:{pointer}/text]")
    _too_long(problems, obj["text"], limit, f"{pointer}/text")


def _check_option(problems: list[str], option: Any, pointer: str, *, plain_only: bool) -> None:
    if not isinstance(option, dict):
        problems.append(f"must be an option object [json-pointer:{pointer}]")
        return
    _check_text(problems, option.get("text"), 75, f"{pointer}/text", plain_only=plain_only)
    _too_long(problems, option.get("value"), 150, f"{pointer}/value")
    if option.get("description") is not None:
        _check_text(problems, option["description"], 75, f"{pointer}/description")


def _check_element(problems: list[str], element: Any, pointer: str) -> None:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        problems.append(f"missing required field: type [json-pointer:{pointer}]")
        return
    kind = element["type"]
    _too_long(problems, element.get("action_id"), 255, f"{pointer}/action_id")
    if kind == "button":
        _check_text(problems, element.get("text"), 75, f"{pointer}/text", plain_only=True)
        _too_long(problems, element.get("value"), 2000, f"{pointer}/value")
        _too_long(problems, element.get("url"), 3000, f"{pointer}/url")
        if element.get("style") not in (None, "primary", "danger"):
            problems.append(f"must be one of primary, danger [json-pointer:{pointer}/style]")
    if element.get("placeholder") is not None:
        _check_text(
            problems, element["placeholder"], 150, f"{pointer}/placeholder", plain_only=True
        )
    if element.get("confirm") is not None:
        _check_confirm(problems, element["confirm"], f"{pointer}/confirm")
    if kind == "plain_text_input":
        _check_text_input(problems, element, pointer)
    if kind in _OPTION_ELEMENTS:
        _check_options(problems, element, pointer)


def _check_options(problems: list[str], element: dict[str, Any], pointer: str) -> None:
    """A select's, radio group's or checkbox group's options, or a select's option groups."""
    kind = element["type"]
    most = _OPTION_ELEMENTS[kind]
    plain_only = kind not in ("radio_buttons", "checkboxes")
    lists: list[tuple[Any, str]] = [(element.get("options"), f"{pointer}/options")]
    groups = element.get("option_groups")
    if isinstance(groups, list) and kind in ("static_select", "multi_static_select"):
        if len(groups) > 100:
            problems.append(
                f"no more than 100 items allowed [json-pointer:{pointer}/option_groups]"
            )
        for g, group in enumerate(groups):
            where = f"{pointer}/option_groups/{g}"
            group = group if isinstance(group, dict) else {}
            _check_text(problems, group.get("label"), 75, f"{where}/label", plain_only=True)
            lists.append((group.get("options"), f"{where}/options"))
    for options, where in lists:
        if not isinstance(options, list):
            continue
        if len(options) > most:
            problems.append(f"no more than {most} items allowed [json-pointer:{where}]")
        for j, option in enumerate(options):
            _check_option(problems, option, f"{where}/{j}", plain_only=plain_only)


def _check_text_input(problems: list[str], element: dict[str, Any], pointer: str) -> None:
    """A plain_text_input: lengths Slack accepts, and an initial value within them."""
    most = element.get("max_length")
    if most is not None and not (isinstance(most, int) and 1 <= most <= _TEXT_INPUT_MOST):
        problems.append(
            f"must be between 1 and {_TEXT_INPUT_MOST} [json-pointer:{pointer}/max_length]"
        )
        most = None
    least = element.get("min_length")
    if least is not None and not (isinstance(least, int) and 0 <= least <= _TEXT_INPUT_MOST):
        problems.append(
            f"must be between 0 and {_TEXT_INPUT_MOST} [json-pointer:{pointer}/min_length]"
        )
    limit = most if isinstance(most, int) else _TEXT_INPUT_MOST
    _too_long(problems, element.get("initial_value"), limit, f"{pointer}/initial_value")


def _check_confirm(problems: list[str], confirm: Any, pointer: str) -> None:
    """A confirmation dialog: title 100, text 300, confirm and deny 30 characters."""
    if not isinstance(confirm, dict):
        problems.append(f"must be a confirmation object [json-pointer:{pointer}]")
        return
    _check_text(problems, confirm.get("title"), 100, f"{pointer}/title", plain_only=True)
    _check_text(problems, confirm.get("text"), 300, f"{pointer}/text")
    for key in ("confirm", "deny"):
        _check_text(problems, confirm.get(key), 30, f"{pointer}/{key}", plain_only=True)


def _check_block(problems: list[str], block: dict[str, Any], pointer: str) -> None:
    kind = block["type"]
    if kind == "section":
        text, fields = block.get("text"), block.get("fields")
        if text is None and not fields:
            problems.append(f"must provide either text or fields [json-pointer:{pointer}]")
        if text is not None:
            _check_text(problems, text, 3000, f"{pointer}/text")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > 10:
                problems.append(f"no more than 10 items allowed [json-pointer:{pointer}/fields]")
            else:
                for j, field in enumerate(fields):
                    _check_text(problems, field, 2000, f"{pointer}/fields/{j}")
        if block.get("accessory") is not None:
            _check_element(problems, block["accessory"], f"{pointer}/accessory")
    elif kind == "header":
        _check_text(problems, block.get("text"), 150, f"{pointer}/text", plain_only=True)
    elif kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            problems.append(f"missing required field: elements [json-pointer:{pointer}]")
            return
        if len(elements) > 25:
            problems.append(f"no more than 25 items allowed [json-pointer:{pointer}/elements]")
        action_ids: set[str] = set()
        for j, element in enumerate(elements):
            _check_element(problems, element, f"{pointer}/elements/{j}")
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in action_ids:
                    problems.append(
                        f"duplicate action_id [json-pointer:{pointer}/elements/{j}/action_id]"
                    )
                action_ids.add(action_id)
    elif kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            problems.append(f"missing required field: elements [json-pointer:{pointer}]")
            return
        if len(elements) > 10:
            problems.append(f"no more than 10 items allowed [json-pointer:{pointer}/elements]")
        for j, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") in ("plain_text", "mrkdwn"):
                _check_text(problems, element, 3000, f"{pointer}/elements/{j}")
            else:
                _check_element(problems, element, f"{pointer}/elements/{j}")
    elif kind == "input":
        _check_text(problems, block.get("label"), 2000, f"{pointer}/label", plain_only=True)
        if block.get("hint") is not None:
            _check_text(problems, block["hint"], 2000, f"{pointer}/hint", plain_only=True)
        if block.get("element") is None:
            problems.append(f"missing required field: element [json-pointer:{pointer}]")
        else:
            _check_element(problems, block["element"], f"{pointer}/element")


def block_problems(blocks: Any, limit: int, root: str = "/blocks") -> list[str]:
    """Slack's objections to a list of blocks (empty when Slack would accept it)."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{root}]"]
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"no more than {limit} items allowed [json-pointer:{root}]")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        pointer = f"{root}/{i}"
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            problems.append(f"missing required field: type [json-pointer:{pointer}]")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            _too_long(problems, block_id, 255, f"{pointer}/block_id")
            if block_id in block_ids:
                problems.append(f"duplicate block_id [json-pointer:{pointer}/block_id]")
            block_ids.add(block_id)
        _check_block(problems, block, pointer)
    return problems


def options_problems(answer: Any) -> list[str]:
    """Slack's objections to the answer to a `block_suggestion` (the options of an
    `external_select`): `options` or `option_groups`, at most 100 of either, each option's
    plain text within 75 characters and its value within 150 (empty when Slack takes it)."""
    if not isinstance(answer, dict):
        return ["must be an object [json-pointer:/]"]
    options, groups = answer.get("options"), answer.get("option_groups")
    if (options is None) == (groups is None):
        return ["must provide either options or option_groups [json-pointer:/]"]
    problems: list[str] = []
    lists: list[tuple[Any, str]] = [(options, "/options")] if options is not None else []
    for g, group in enumerate(groups if isinstance(groups, list) else []):
        group = group if isinstance(group, dict) else {}
        _check_text(problems, group.get("label"), 75, f"/option_groups/{g}/label", plain_only=True)
        lists.append((group.get("options"), f"/option_groups/{g}/options"))
    for items, where in [*lists, (groups, "/option_groups")]:
        if items is not None and (not isinstance(items, list) or len(items) > 100):
            problems.append(f"must be a list of no more than 100 items [json-pointer:{where}]")
    for items, where in lists:
        for j, option in enumerate(items if isinstance(items, list) else []):
            _check_option(problems, option, f"{where}/{j}", plain_only=True)
    return problems


def view_problems(view: Any, allowed_types: tuple[str, ...] = ("modal", "home")) -> list[str]:
    """Slack's objections to a view (empty when Slack would accept it)."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    problems: list[str] = []
    kind = view.get("type")
    if kind not in allowed_types:
        problems.append(f"must be one of {', '.join(allowed_types)} [json-pointer:/view/type]")
    if kind == "modal":
        _check_text(problems, view.get("title"), 24, "/view/title", plain_only=True)
        for key in ("submit", "close"):
            if view.get(key) is not None:
                _check_text(problems, view[key], 24, f"/view/{key}", plain_only=True)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            problems.append(
                "submit is required when an input block is within the blocks"
                " [json-pointer:/view/submit]"
            )
    if "blocks" not in view:
        problems.append("missing required field: blocks [json-pointer:/view]")
    else:
        problems += block_problems(view["blocks"], MAX_VIEW_BLOCKS, "/view/blocks")
    _too_long(problems, view.get("private_metadata"), 3000, "/view/private_metadata")
    _too_long(problems, view.get("callback_id"), 255, "/view/callback_id")
    _too_long(problems, view.get("external_id"), 255, "/view/external_id")
    return problems


def _check_message_args(args: dict[str, Any]) -> None:
    """Raise what Slack answers for a chat.* message body it will not take."""
    text = args.get("text")
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        raise _SlackError("msg_too_long")
    blocks = args.get("blocks")
    if isinstance(blocks, str):
        raise _SlackError("invalid_blocks_format")
    if blocks is not None:
        problems = block_problems(blocks, MAX_MESSAGE_BLOCKS)
        if problems:
            raise _SlackError("invalid_blocks", problems)
    if not text and not blocks and not args.get("attachments"):
        raise _SlackError("no_text")
    metadata = args.get("metadata")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and isinstance(metadata.get("event_payload"), dict)
    ):
        raise _SlackError("invalid_metadata_format")


def _refused_message(body: dict[str, Any]) -> str | None:
    """Why Slack refuses a message posted to a response_url (None when it takes it)."""
    try:
        _check_message_args({**body, "text": body.get("text") or "x"})
    except _SlackError as exc:
        return exc.error
    return None


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true")


def _ts_value(ts: Any, default: Decimal) -> Decimal:
    try:
        return Decimal(str(ts)) if ts not in (None, "") else default
    except InvalidOperation:
        return default


def _int_arg(args: dict[str, Any], name: str, default: int) -> int:
    try:
        return int(args.get(name) or default)
    except (TypeError, ValueError):
        raise _SlackError("invalid_arguments") from None


def _user_list(users: Any) -> list[str]:
    if isinstance(users, list):
        return [str(u).strip() for u in users if str(u).strip()]
    if isinstance(users, str):
        return [u.strip() for u in users.split(",") if u.strip()]
    return []


# --- the fake -----------------------------------------------------------------------------


class FakeSlack:
    """Slack's Web API on 127.0.0.1, in a daemon thread; `url` is the WebClient base_url.

    Set `users[user_id] = {...}` to shape `users.info` answers (merged over a plausible default
    profile); with `users_strict = True` unknown ids answer `user_not_found`.

    `bot_channels` are the channels the bot is a member of (`join`/`leave` change them); None,
    the default, makes it a member of every channel not added with `add_conversation`.
    """

    def __init__(
        self, *, clock: Clock | None = None, bot_channels: list[str] | None = None
    ) -> None:
        self.users: dict[str, dict[str, Any]] = {}
        self.users_strict = False
        # Seconds to wait after a call is recorded and before answering it: the window in
        # which a client can die after Slack took a message but before it heard back, and
        # the latency of a slow day at Slack (each call is still acted on when it arrives).
        self.response_delay = 0.0
        self._open = threading.Event()
        self._open.set()
        self._held: Callable[[str, dict[str, Any]], bool] | None = None  # None: every call
        self._clock: Clock = clock or SystemClock()
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self._next_index = 0
        self._last_ts_us = 0
        self._messages: dict[str, list[dict[str, Any]]] = {}
        self._ephemeral: list[dict[str, Any]] = []
        self._views: dict[str, dict[str, Any]] = {}
        self._home_views: dict[str, str] = {}
        self._view_seq = 0
        self._hash_seq = 0
        self._one_off: list[_Failure] = []
        self._rates: _RateLimits | None = None
        self._outage: _Failure | None = None
        self._method_errors: dict[str, str] = {}
        self._channel_errors: dict[str, str] = {}
        self._file_seq = 0
        self._uploads: dict[str, dict[str, Any]] = {}  # upload key -> file being uploaded
        self._hosted: dict[str, tuple[dict[str, Any], bytes]] = {}  # file id -> (file, bytes)
        self._files: dict[str, list[dict[str, Any]]] = {}  # channel -> files shared there
        self._downloads: list[str] = []
        self._bot_channels = set(bot_channels) if bot_channels is not None else None
        self._conversations: dict[str, tuple[str, bool]] = {}  # id -> (kind, bot is a member)
        self._names: dict[str, str] = {}  # id -> the conversation's name, as people see it
        self._response_urls: dict[str, dict[str, Any]] = {}  # key -> who, where, when, uses
        self._responses: list[dict[str, Any]] = []
        self._handlers = self._method_handlers()
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.origin = f"http://{host!s}:{port}"
        self.url = f"{self.origin}/api/"
        self._closed = False
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-slack-{port}",
            daemon=True,
        )
        self._thread.start()

    def _method_handlers(self) -> dict[str, _MethodHandler]:
        """The Web API methods this stand-in answers, by name."""
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
        }

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Stop serving (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeSlack:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- what was called -----------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        """Every recorded call, oldest first (a copy)."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """The recorded calls to one Web API method, oldest first."""
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def clear(self) -> None:
        """Forget recorded calls (messages, views and failure rules are kept)."""
        with self._cond:
            self._calls.clear()

    def wait_for(
        self,
        what: str | Callable[[Call], bool],
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Block until `count` recorded calls match `what` (a method name or a predicate).

        Returns the matching calls; raises AssertionError listing what was called on timeout.
        """
        match: Callable[[Call], bool] = (
            (lambda call: call.method == what) if isinstance(what, str) else what
        )
        described = repr(what) if isinstance(what, str) else getattr(what, "__name__", repr(what))
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self._calls if match(c)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = ", ".join(_describe(c) for c in self._calls) or "none"
                    raise AssertionError(
                        f"timed out after {timeout}s waiting for {count} call(s) matching "
                        f"{described}; {len(found)} matched. Calls recorded: {seen}"
                    )
                self._cond.wait(remaining)

    # --- what Slack holds ------------------------------------------------------------------
    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Messages in a channel (a user id means the bot's DM with them), in post order."""
        with self._cond:
            return copy.deepcopy(self._messages.get(dm_channel_id(channel), []))

    def channels(self) -> list[str]:
        """Channel ids that hold at least one message."""
        with self._cond:
            return [c for c, messages in self._messages.items() if messages]

    def ephemeral_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages posted (each with `channel` and `user`), optionally in one channel."""
        with self._cond:
            return copy.deepcopy(
                [m for m in self._ephemeral if channel is None or m["channel"] == channel]
            )

    def view(self, view_id: str) -> dict[str, Any] | None:
        """A view opened, pushed, updated or published, by id."""
        with self._cond:
            view = self._views.get(view_id)
            return copy.deepcopy(view) if view is not None else None

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for a user."""
        with self._cond:
            view_id = self._home_views.get(user_id)
            return self.view(view_id) if view_id is not None else None

    def files(self, channel: str) -> list[dict[str, Any]]:
        """Files shared into a channel (a user id means the bot's DM with them), oldest first:
        each `{id, name, title, content}` with `content` the uploaded bytes."""
        with self._cond:
            return copy.deepcopy(self._files.get(dm_channel_id(channel), []))

    def downloads(self) -> list[str]:
        """Ids of the files served to an authorised download, in order."""
        with self._cond:
            return list(self._downloads)

    def add_file(
        self, name: str, content: bytes, mimetype: str = "text/csv", *, user: str = "U0HEAD001"
    ) -> dict[str, Any]:
        """Host a file a person uploaded; returns the file object as Slack puts it in a
        view_submission's `file_input` state (its download URLs are served by this fake)."""
        with self._cond:
            file = self._new_file(name, name, content, mimetype, user)
            return copy.deepcopy(file)

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str = "U0HEAD001",
        ts: str | None = None,
        thread_ts: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Put a message from a person into a channel, as if they had posted it; returns it."""
        with self._cond:
            if ts is None:
                ts = self._next_ts()
            else:
                self._last_ts_us = max(self._last_ts_us, int(Decimal(ts) * 1_000_000))
            message: dict[str, Any] = {
                "type": "message",
                "user": user,
                "text": text,
                "ts": ts,
                "team": TEAM_ID,
                **extra,
            }
            channel = dm_channel_id(channel)
            if thread_ts is not None:
                message["thread_ts"] = thread_ts
                self._note_reply(channel, thread_ts, message)
            self._messages.setdefault(channel, []).append(message)
            return copy.deepcopy(message)

    def edit_message(self, channel: str, ts: str, text: str) -> dict[str, Any]:
        """Change the text of a person's message, as if they had edited it; returns it."""
        with self._cond:
            message = self._find(dm_channel_id(channel), ts)
            if message is None:
                raise KeyError(f"no message {ts} in {channel}")
            message["text"] = text
            message["edited"] = {"user": message.get("user"), "ts": self._next_ts()}
            return copy.deepcopy(message)

    # --- conversations the bot is in, and response_urls ------------------------------------
    def join(self, *channels: str) -> None:
        """Make the bot a member of these channels."""
        with self._cond:
            if self._bot_channels is not None:
                self._bot_channels |= set(channels)
            for channel in channels:
                if channel in self._conversations:
                    self._conversations[channel] = (self._conversations[channel][0], True)

    def leave(self, channel: str) -> None:
        """The bot is no longer a member of `channel`."""
        with self._cond:
            if self._bot_channels is not None:
                self._bot_channels.discard(channel)
            kind = self._conversations.get(channel, (_kind_of(channel), False))[0]
            self._conversations[channel] = (kind, False)

    def add_conversation(
        self, channel: str, kind: str, *, bot_member: bool = False, name: str | None = None
    ) -> str:
        """Declare a conversation: `public`, `private`, `im` (a DM between two people) or
        `mpim`; by default one the bot is not in, named after its id. Returns its id."""
        if kind not in ("public", "private", "im", "mpim"):
            raise ValueError(f"unknown conversation kind {kind!r}")
        with self._cond:
            self._conversations[channel] = (kind, bot_member)
            if name is not None:
                self._names[channel] = name
        return channel

    def is_bot_member(self, channel: str) -> bool:
        """Whether the bot may post in `channel` (a user id means its DM with them)."""
        with self._cond:
            if channel[:1] in ("U", "W"):
                return True
            if channel in self._conversations:
                return self._conversations[channel][1]
            if channel[:1] == "D":  # the fake's ids for the bot's own DMs
                return True
            return self._bot_channels is None or channel in self._bot_channels

    def new_response_url(self, kind: str = "commands", *, user: str, channel: str | None) -> str:
        """A response_url for a command or click by `user` in `channel`, served by this fake."""
        key = f"{kind}/{TEAM_ID}/{uuid.uuid4().int % 10**10:010d}/{uuid.uuid4().hex[:24]}"
        with self._cond:
            self._response_urls[key] = {
                "user": user,
                "channel": channel,
                "issued": self._clock.now(),
                "uses": 0,
            }
        return f"{self.origin}/hooks/{key}"

    def responses(self, user: str | None = None) -> list[dict[str, Any]]:
        """What was posted to response_urls and accepted, oldest first: the JSON body with the
        `user` and `channel` the URL was issued for."""
        with self._cond:
            return copy.deepcopy([r for r in self._responses if user in (None, r["user"])])

    def replies_to(self, user: str) -> list[str]:
        """The text of each reply shown to `user` alone where they acted: through a
        response_url or as an ephemeral (oldest first within each kind)."""
        texts = [r.get("text") or "" for r in self.responses(user)]
        return texts + [m["text"] for m in self.ephemeral_messages() if m["user"] == user]

    def seen_by(self, user: str) -> list[str]:
        """`replies_to(user)`, then the text of each message in their DM with the bot."""
        return self.replies_to(user) + [m.get("text") or "" for m in self.messages(user)]

    # --- failure injection -------------------------------------------------------------------
    def fail_next(
        self,
        method: str | None = None,
        status: int = 429,
        retry_after: int | None = 1,
        error: str | None = None,
        times: int = 1,
        text: str | None = None,
        acted_on: bool = False,
    ) -> None:
        """Fail the next `times` calls (to `method`, or to anything) with HTTP `status`.

        429 carries `Retry-After`; the body is `{"ok": false, "error": ...}` (by default
        `ratelimited`, `internal_error` or `service_unavailable`) or `text` as plain text.
        `method="response_url"` fails posts to response_urls instead. With `acted_on`, Slack
        carries the call out and only its answer is the failure (Slack's docs: after a 5xx or
        `internal_error` the operation may have succeeded).
        """
        error = error or _default_error(status)
        with self._cond:
            self._one_off.append(
                _Failure(method, status, error, retry_after, text, times, acted_on)
            )

    def fail_permanently(self, method: str, error: str) -> None:
        """Answer every call to `method` with `{"ok": false, "error": error}` until cleared."""
        with self._cond:
            self._method_errors[method] = error

    def fail_channel(self, channel: str, error: str = "channel_not_found") -> None:
        """Answer every call aimed at `channel` (or a user's DM) with `error` until cleared."""
        with self._cond:
            self._channel_errors[channel] = error

    def outage(self, status: int = 503, text: str | None = None) -> None:
        """Fail every call with HTTP `status` until `end_outage()`."""
        with self._cond:
            self._outage = _Failure(None, status, _default_error(status), 30, text, None)

    def end_outage(self) -> None:
        """End an outage started with `outage()`."""
        with self._cond:
            self._outage = None

    def clear_failures(self) -> None:
        """Drop every injected failure: pending, permanent, per channel and any outage."""
        with self._cond:
            self._one_off.clear()
            self._method_errors.clear()
            self._channel_errors.clear()
            self._outage = None

    def limit_rates(
        self,
        per_second: dict[str, float] | None = None,
        *,
        per_channel: float | None = None,
        burst_seconds: float = 1.0,
        channel_burst: float = 3.0,
    ) -> None:
        """Answer 429 with `Retry-After`, as Slack does, to calls coming faster than
        `per_second[method]` (default: Slack's published tiers, `SLACK_TIERS`; a method not
        listed is not limited) or posts into one channel faster than `per_channel` a second.
        Each limit is a token bucket holding `burst_seconds` worth of calls (a channel's,
        `channel_burst` posts). A refused call is recorded (status 429) but not acted on."""
        limits = dict(SLACK_TIERS if per_second is None else per_second)
        with self._cond:
            self._rates = _RateLimits(limits, per_channel, burst_seconds, channel_burst)

    def unlimit_rates(self) -> None:
        """Stop enforcing rate limits."""
        with self._cond:
            self._rates = None

    def _over_the_limit(self, method: str, args: dict[str, Any]) -> _Failure | None:
        if self._rates is None:
            return None
        channel = args.get("channel") if method == "chat.postMessage" else None
        wait = self._rates.take(
            method, dm_channel_id(channel) if isinstance(channel, str) else None
        )
        if wait is None:
            return None
        return _Failure(method, 429, "ratelimited", max(1, math.ceil(wait)), None, 1)

    # --- answering ---------------------------------------------------------------------------
    def hold(self, only: Callable[[str, dict[str, Any]], bool] | None = None) -> None:
        """Stop answering: calls (those `only(method, args)` picks, else all) wait, unrecorded,
        until `release()`, as in a Slack stall."""
        self._held = only
        self._open.clear()

    def release(self) -> None:
        """Answer again, including the calls that were waiting."""
        self._open.set()

    def _handle(
        self, method: str, args: dict[str, Any] | None, token: str | None
    ) -> tuple[int, bytes, dict[str, str]]:
        """Answer one HTTP request and record it."""
        if self._held is None or self._held(method, args or {}):
            self._open.wait(timeout=120)
        answer = self._record_and_answer(method, args, token)
        if self.response_delay:
            time.sleep(self.response_delay)
        return answer

    def _record_and_answer(
        self, method: str, args: dict[str, Any] | None, token: str | None
    ) -> tuple[int, bytes, dict[str, str]]:
        received_at = time.monotonic()
        with self._cond:
            failure = self._take_failure(method) or self._over_the_limit(method, args or {})
            if failure is not None:
                if failure.acted_on and args is not None:
                    self._answer(method, args, token)
                status, response, body, headers = failure.answer()
            else:
                status = 200
                headers = {"Content-Type": "application/json; charset=utf-8"}
                if args is None:
                    response = {"ok": False, "error": "invalid_json"}
                else:
                    response = self._answer(method, args, token)
                body = json.dumps(response).encode("utf-8")
            self._record_call(method, args or {}, response, status, token, at=received_at)
            return status, body, headers

    def _take_failure(self, method: str) -> _Failure | None:
        if self._outage is not None:
            return self._outage
        for failure in self._one_off:
            if failure.matches(method):
                assert failure.times is not None
                failure.times -= 1
                if failure.times <= 0:
                    self._one_off.remove(failure)
                return failure
        return None

    def _answer(self, method: str, args: dict[str, Any], token: str | None) -> dict[str, Any]:
        handler = self._handlers.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xoxb-") or len(token) <= 5 or any(c.isspace() for c in token):
            return {"ok": False, "error": "invalid_auth"}
        if method in self._method_errors:
            return {"ok": False, "error": self._method_errors[method]}
        channel_error = self._channel_failure(method, args) or self._membership_failure(
            method, args
        )
        if channel_error is not None:
            return {"ok": False, "error": channel_error}
        try:
            return {"ok": True, **handler(args)}
        except _SlackError as exc:
            return exc.body()

    def _channel_failure(self, method: str, args: dict[str, Any]) -> str | None:
        if not self._channel_errors:
            return None
        aimed_at: set[str] = set()
        for key in ("channel", "channel_id"):
            channel = args.get(key)
            if isinstance(channel, str) and channel:
                aimed_at |= {channel, dm_channel_id(channel)}
        if method == "conversations.open":
            for user in _user_list(args.get("users")):
                aimed_at |= {user, dm_channel_id(user)}
        for target, error in self._channel_errors.items():
            if target in aimed_at or dm_channel_id(target) in aimed_at:
                return error
        return None

    def _membership_failure(self, method: str, args: dict[str, Any]) -> str | None:
        """Slack's answer to a post into a conversation the bot is not in, if it is one."""
        channel = args.get("channel")
        if method not in _MEMBERS_ONLY or not isinstance(channel, str) or not channel:
            return None
        if self.is_bot_member(channel):
            return None
        kind = self._conversations.get(channel, (_kind_of(channel), False))[0]
        return "not_in_channel" if kind == "public" else "channel_not_found"

    def _receive_response(self, key: str, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
        """A POST to a response_url: shown to its user, within Slack's 30 minutes and 5 uses."""
        json_type = {"Content-Type": "application/json; charset=utf-8"}
        with self._cond:
            issued = self._response_urls.get(key)
            try:
                body = json.loads(raw.decode("utf-8") or "{}")
            except ValueError:
                body = None
            to = {"user": issued["user"], "channel": issued["channel"]} if issued else {}
            failure = self._take_failure("response_url")  # fail_next("response_url"), outages
            if failure is not None:
                status, answer, payload, headers = failure.answer()
                self._record_call("response_url", {**(body or {}), **to}, answer, status)
                return status, payload, headers
            if issued is None:
                status, answer = 404, {"ok": False, "error": "no_service"}
            elif not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
                status, answer = 400, {"ok": False, "error": "no_text"}
            elif refused := _refused_message(body):
                status, answer = 400, {"ok": False, "error": refused}
            elif (
                self._clock.now() - issued["issued"]
            ).total_seconds() > RESPONSE_URL_LIFETIME_SECONDS:
                status, answer = 404, {"ok": False, "error": "expired_url"}
            elif issued["uses"] >= RESPONSE_URL_USES:
                status, answer = 404, {"ok": False, "error": "used_url"}
            else:
                issued["uses"] += 1
                status, answer = 200, {"ok": True}
                self._responses.append(
                    {**copy.deepcopy(body), "user": issued["user"], "channel": issued["channel"]}
                )
            self._record_call("response_url", {**(body or {}), **to}, answer, status)
            return status, json.dumps(answer).encode(), json_type

    def _record_call(
        self,
        method: str,
        args: dict[str, Any],
        response: dict[str, Any],
        status: int,
        token: str | None = None,
        at: float | None = None,
    ) -> None:
        """Keep one answered call (under the lock) and wake anyone waiting for it."""
        self._calls.append(
            Call(
                method=method,
                args=copy.deepcopy(args),
                token=token,
                response=response,
                status=status,
                index=self._next_index,
                at=time.monotonic() if at is None else at,
            )
        )
        self._next_index += 1
        self._cond.notify_all()

    def _next_ts(self) -> str:
        now = self._clock.now().timestamp()
        micros = max(int(now * 1_000_000), self._last_ts_us + 100)
        self._last_ts_us = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _find(self, channel: str, ts: Any) -> dict[str, Any] | None:
        for message in self._messages.get(channel, []):
            if message["ts"] == ts:
                return message
        return None

    def _note_reply(self, channel: str, thread_ts: str, reply: dict[str, Any]) -> None:
        parent = self._find(channel, thread_ts)
        if parent is None or parent is reply:
            return
        parent["thread_ts"] = parent["ts"]
        parent["reply_count"] = parent.get("reply_count", 0) + 1
        users = parent.setdefault("reply_users", [])
        if reply.get("user") not in users:
            users.append(reply.get("user"))
        parent["reply_users_count"] = len(users)
        parent["latest_reply"] = reply["ts"]

    @staticmethod
    def _channel_arg(args: dict[str, Any], *, users_allowed: bool) -> str:
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel:
            raise _SlackError("channel_not_found")
        if channel[:1] in ("U", "W"):
            if not users_allowed:
                raise _SlackError("channel_not_found")
            return dm_channel_id(channel)
        return channel

    # --- auth and chat ---------------------------------------------------------------------
    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": TEAM_URL,
            "team": TEAM_NAME,
            "user": "school-support-bot",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_arg(args, users_allowed=True)
        _check_message_args(args)
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "team": TEAM_ID,
            "ts": ts,
            "text": str(args.get("text") or ""),
        }
        for key in ("blocks", "attachments", "metadata"):
            if args.get(key):
                message[key] = copy.deepcopy(args[key])
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
            if _truthy(args.get("reply_broadcast")):
                message["subtype"] = "thread_broadcast"
            self._note_reply(channel, message["thread_ts"], message)
        self._messages.setdefault(channel, []).append(message)
        return {"channel": channel, "ts": ts, "message": copy.deepcopy(message)}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_arg(args, users_allowed=False)
        message = self._find(channel, args.get("ts"))
        if message is None:
            raise _SlackError("message_not_found")
        _check_message_args(args)
        for key in ("text", "blocks", "attachments", "metadata"):
            if key in args:
                if args[key] in (None, [], ""):
                    message.pop(key, None)
                else:
                    message[key] = copy.deepcopy(args[key])
        message.setdefault("text", "")
        message["edited"] = {"user": BOT_USER_ID, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": message["ts"],
            "text": message["text"],
            "message": copy.deepcopy(message),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_arg(args, users_allowed=True)
        user = args.get("user")
        if not isinstance(user, str) or not user:
            raise _SlackError("user_not_in_channel")
        _check_message_args(args)
        ts = self._next_ts()
        message = {"channel": channel, "user": user, "ts": ts, "text": str(args.get("text") or "")}
        for key in ("blocks", "attachments", "thread_ts"):
            if args.get(key):
                message[key] = copy.deepcopy(args[key])
        self._ephemeral.append(message)
        return {"message_ts": ts}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_arg(args, users_allowed=False)
        message = self._find(channel, args.get("ts"))
        if message is None:
            raise _SlackError("message_not_found")
        self._messages[channel].remove(message)
        return {"channel": channel, "ts": message["ts"]}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_arg(args, users_allowed=False)
        ts = args.get("message_ts")
        if not isinstance(ts, str) or not ts:
            raise _SlackError("message_not_found")
        permalink = f"{TEAM_URL}archives/{channel}/p{ts.replace('.', '')}"
        message = self._find(channel, ts)
        if message is not None and message.get("thread_ts") not in (None, ts):
            permalink += f"?thread_ts={message['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    # --- views -------------------------------------------------------------------------------
    def _new_view(self, view: dict[str, Any], view_id: str | None = None) -> dict[str, Any]:
        if view_id is None:
            self._view_seq += 1
            view_id = f"V{self._view_seq:010d}"
        external_id = view.get("external_id") or ""
        if external_id and any(
            v["external_id"] == external_id and v["id"] != view_id for v in self._views.values()
        ):
            raise _SlackError("duplicate_external_id")
        previous = self._views.get(view_id, {})
        self._hash_seq += 1
        stored: dict[str, Any] = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view["type"],
            "blocks": copy.deepcopy(view["blocks"]),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(self._clock.now().timestamp())}.{self._hash_seq:08x}",
            "title": copy.deepcopy(view.get("title")),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": previous.get("previous_view_id"),
            "root_view_id": previous.get("root_view_id", view_id),
            "app_id": APP_ID,
            "external_id": external_id,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self._views[view_id] = stored
        return copy.deepcopy(stored)

    @staticmethod
    def _view_arg(args: dict[str, Any], allowed_types: tuple[str, ...]) -> dict[str, Any]:
        view = args.get("view")
        if view is None:
            raise _SlackError("invalid_arguments", ["missing required field: view"])
        problems = view_problems(view, allowed_types)
        if problems:
            raise _SlackError("invalid_arguments", problems)
        return view

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("trigger_id"):
            raise _SlackError("invalid_arguments", ["missing required field: trigger_id"])
        view = self._view_arg(args, ("modal",))
        return {"view": self._new_view(view)}

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._views_open(args)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if not view_id and not external_id:
            raise _SlackError("invalid_arguments", ["must provide either view_id or external_id"])
        existing = self._views.get(view_id) if view_id else None
        if existing is None and external_id:
            existing = next(
                (v for v in self._views.values() if v["external_id"] == external_id), None
            )
        if existing is None:
            raise _SlackError("not_found")
        if args.get("hash") and args["hash"] != existing["hash"]:
            raise _SlackError("hash_conflict")
        view = self._view_arg(args, (existing["type"],))
        if not view.get("external_id") and existing["external_id"]:
            view = {**view, "external_id": existing["external_id"]}
        return {"view": self._new_view(view, existing["id"])}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise _SlackError("invalid_arguments", ["missing required field: user_id"])
        view = self._view_arg(args, ("home",))
        existing_id = self._home_views.get(user_id)
        if existing_id and args.get("hash") and args["hash"] != self._views[existing_id]["hash"]:
            raise _SlackError("hash_conflict")
        stored = self._new_view(view, existing_id)
        self._home_views[user_id] = stored["id"]
        return {"view": stored}

    # --- conversations -------------------------------------------------------------------------
    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if isinstance(channel, str) and channel:
            return {"no_op": True, "already_open": True, "channel": {"id": channel}}
        users = _user_list(args.get("users"))
        if not users:
            raise _SlackError("users_list_not_supplied")
        if len(users) == 1:
            channel_id = dm_channel_id(users[0])
        else:
            channel_id = "G" + "".join(u[1:] for u in sorted(users))[:20]
        return {"no_op": True, "already_open": True, "channel": {"id": channel_id}}

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel:
            raise _SlackError("channel_not_found")
        kind = self._conversations.get(channel, (_kind_of(channel), False))[0]
        member = self.is_bot_member(channel)
        if kind != "public" and not member:
            raise _SlackError("channel_not_found")  # groups:read, im:read: only the bot's own
        if kind == "im":  # Slack's DM object has no name and no `is_private`
            return {"channel": {"id": channel, "is_im": True, "user": "U" + channel[1:]}}
        name = self._names.get(channel) or (
            f"mpdm-{channel.lower()}-1" if kind == "mpim" else channel.lower()
        )
        return {
            "channel": {
                "id": channel,
                "name": name,
                "name_normalized": name,
                "is_channel": kind in ("public", "private") and not channel.startswith("G"),
                "is_group": kind == "private" and channel.startswith("G"),
                "is_im": False,
                "is_mpim": kind == "mpim",
                "is_private": kind != "public",
                "is_archived": False,
                "is_member": member,
                "context_team_id": TEAM_ID,
            }
        }

    @staticmethod
    def _shown(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
        shown = copy.deepcopy(message)
        if not with_metadata:
            shown.pop("metadata", None)
        return shown

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_arg(args, users_allowed=False)
        oldest = _ts_value(args.get("oldest"), Decimal(0))
        latest = _ts_value(args.get("latest"), Decimal("Infinity"))
        inclusive = _truthy(args.get("inclusive"))
        limit = _int_arg(args, "limit", 100)
        with_metadata = _truthy(args.get("include_all_metadata"))
        found = []
        for message in reversed(self._messages.get(channel, [])):
            is_reply = message.get("thread_ts") not in (None, message["ts"])
            if is_reply and message.get("subtype") != "thread_broadcast":
                continue
            ts = Decimal(message["ts"])
            if (oldest <= ts <= latest) if inclusive else (oldest < ts < latest):
                found.append(self._shown(message, with_metadata))
        return {
            "messages": found[:limit],
            "has_more": len(found) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_arg(args, users_allowed=False)
        message = self._find(channel, args.get("ts"))
        if message is None:
            # A thread the fake knows only by its replies: its parent was posted by a person
            # in a test that never told the fake (Slack would hold it).
            if not any(
                m.get("thread_ts") == args.get("ts") for m in self._messages.get(channel, [])
            ):
                raise _SlackError("thread_not_found")
            message = {"ts": args.get("ts")}
        root = message.get("thread_ts", message["ts"])
        with_metadata = _truthy(args.get("include_all_metadata"))
        thread = [
            self._shown(m, with_metadata)
            for m in self._messages.get(channel, [])
            if m["ts"] == root or m.get("thread_ts") == root
        ]
        thread.sort(key=lambda m: (m["ts"] != root, Decimal(m["ts"])))
        limit = _int_arg(args, "limit", 1000)
        return {
            "messages": thread[:limit],
            "has_more": len(thread) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    # --- files -------------------------------------------------------------------------------
    def _new_file_id(self) -> str:
        self._file_seq += 1
        return f"F{self._file_seq:010d}"

    def _new_file(
        self,
        name: str,
        title: str,
        content: bytes,
        mimetype: str,
        user: str,
        file_id: str | None = None,
    ) -> dict[str, Any]:
        """Host `content` as a private file and return its file object (call under the lock)."""
        file_id = file_id or self._new_file_id()
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else "binary"
        private, quoted = f"{self.origin}/files-pri/{TEAM_ID}-{file_id}", quote(name)
        now = int(self._clock.now().timestamp())
        file: dict[str, Any] = {
            "id": file_id,
            "created": now,
            "timestamp": now,
            "name": name,
            "title": title,
            "mimetype": mimetype,
            "filetype": extension,
            "pretty_type": extension.upper(),
            "user": user,
            "user_team": TEAM_ID,
            "editable": False,
            "size": len(content),
            "mode": "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": False,
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": f"{private}/{quoted}",
            "url_private_download": f"{private}/download/{quoted}",
            "permalink": f"{TEAM_URL}files/{user}/{file_id}/{quoted}",
            "permalink_public": f"https://slack-files.com/{TEAM_ID}-{file_id}-0000000000",
            "file_access": "visible",
        }
        self._hosted[file_id] = (file, bytes(content))
        return file

    def _files_get_upload_url_external(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = args.get("filename")
        if not isinstance(filename, str) or not filename:
            raise _SlackError("invalid_arguments", ["missing required field: filename"])
        if args.get("length") in (None, ""):
            raise _SlackError("invalid_arguments", ["missing required field: length"])
        length = _int_arg(args, "length", 0)
        file_id = self._new_file_id()
        key = uuid.uuid4().hex  # like Slack's, the upload URL itself is the credential
        self._uploads[key] = {"id": file_id, "name": filename, "length": length, "content": None}
        return {"upload_url": f"{self.origin}/upload/v1/{key}", "file_id": file_id}

    def _receive_upload(self, key: str, content: bytes) -> tuple[int, bytes, dict[str, str]]:
        """The upload URL's answer: Slack's plain-text `OK - <bytes>`, or 404 for a bad key."""
        plain_text = {"Content-Type": "text/plain; charset=utf-8"}
        with self._cond:
            upload = self._uploads.get(key)
            if upload is None:
                return 404, b"Not Found", plain_text
            upload["content"] = content
            return 200, f"OK - {len(content)}".encode(), plain_text

    def _files_complete_upload_external(self, args: dict[str, Any]) -> dict[str, Any]:
        entries = args.get("files")
        if isinstance(entries, str):
            try:
                entries = json.loads(entries)
            except ValueError:
                raise _SlackError("invalid_arguments", ["files must be a JSON array"]) from None
        if not isinstance(entries, list) or not entries:
            raise _SlackError("invalid_arguments", ["missing required field: files"])
        channels: list[str] = []
        if args.get("channel_id"):
            channels.append(self._channel_arg({"channel": args["channel_id"]}, users_allowed=False))
        for channel in _user_list(args.get("channels")):
            channels.append(self._channel_arg({"channel": channel}, users_allowed=True))
        ready: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        for entry in entries:
            wanted = entry.get("id") if isinstance(entry, dict) else None
            key, upload = next(
                ((k, u) for k, u in self._uploads.items() if u["id"] == wanted), ("", None)
            )
            if upload is None or upload["content"] is None:
                raise _SlackError("file_not_found")
            ready.append((key, entry, upload))
        shared: list[dict[str, Any]] = []
        for key, entry, upload in ready:
            del self._uploads[key]
            name, content = upload["name"], upload["content"]
            mimetype = mimetypes.guess_type(name)[0] or "application/octet-stream"
            title = entry.get("title") or name
            file = self._new_file(name, title, content, mimetype, BOT_USER_ID, upload["id"])
            file["channels"] = [c for c in channels if c[:1] == "C"]
            file["groups"] = [c for c in channels if c[:1] == "G"]
            file["ims"] = [c for c in channels if c[:1] == "D"]
            for channel in channels:
                record = {"id": file["id"], "name": name, "title": title, "content": content}
                self._files.setdefault(channel, []).append(record)
            shared.append(file)
        for channel in channels:
            message: dict[str, Any] = {
                "type": "message",
                "user": BOT_USER_ID,
                "bot_id": BOT_ID,
                "team": TEAM_ID,
                "ts": self._next_ts(),
                "text": str(args.get("initial_comment") or ""),
                "files": copy.deepcopy(shared),
                "upload": True,
            }
            self._messages.setdefault(channel, []).append(message)
        return {"files": copy.deepcopy(shared)}

    def _serve_file(self, path: str, token: str | None) -> tuple[int, bytes, dict[str, str]]:
        """A GET of a file's `url_private` or `url_private_download`, for the bot token only."""
        json_type = {"Content-Type": "application/json; charset=utf-8"}
        if not token or not token.startswith("xoxb-") or len(token) <= 5:
            error = "not_authed" if not token else "invalid_auth"
            return 401, json.dumps({"ok": False, "error": error}).encode(), json_type
        parts = path.strip("/").split("/")  # files-pri / TEAM-FILE / [download /] name
        file_id = parts[1].removeprefix(f"{TEAM_ID}-") if len(parts) >= 3 else ""
        with self._cond:
            hosted = self._hosted.get(file_id)
            if hosted is None or unquote(parts[-1]) != hosted[0]["name"]:
                return 404, json.dumps({"ok": False, "error": "file_not_found"}).encode(), json_type
            file, content = hosted
            self._downloads.append(file_id)
        headers = {"Content-Type": file["mimetype"]}
        if parts[2] == "download":
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(file['name'])}"
        return 200, content, headers

    # --- users -------------------------------------------------------------------------------
    def _user_profile(self, user_id: str) -> dict[str, Any]:
        configured = copy.deepcopy(self.users.get(user_id, {}))
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": user_id.lower(),
            "deleted": False,
            "real_name": f"Test User {user_id}",
            "tz": "Europe/London",
            "tz_label": "Greenwich Mean Time",
            "tz_offset": 0,
            "is_admin": False,
            "is_bot": False,
            "updated": 1_700_000_000,
        }
        profile_overrides = configured.pop("profile", {})
        user.update(configured)
        real_name = user["real_name"]
        first, _, last = real_name.partition(" ")
        user["profile"] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": real_name,
            "display_name_normalized": real_name,
            "first_name": first,
            "last_name": last,
            "title": "",
            "email": f"{user_id.lower()}@example.org",
            "team": TEAM_ID,
            **profile_overrides,
        }
        return user

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user_id = args.get("user")
        if not isinstance(user_id, str) or not user_id:
            raise _SlackError("user_not_found")
        if self.users_strict and user_id not in self.users:
            raise _SlackError("user_not_found")
        return {"user": self._user_profile(user_id)}

    def _users_lookup_by_email(self, args: dict[str, Any]) -> dict[str, Any]:
        email = str(args.get("email") or "").lower()
        for user_id in self.users:
            user = self._user_profile(user_id)
            if str(user["profile"].get("email", "")).lower() == email:
                return {"user": user}
        raise _SlackError("users_not_found")


def _describe(call: Call) -> str:
    if call.status != 200:
        return f"{call.method} (HTTP {call.status})"
    if not call.ok:
        return f"{call.method} ({call.error})"
    return call.method


# --- HTTP plumbing ------------------------------------------------------------------------


def _bearer_token(header: str | None) -> str | None:
    if header and header.lower().startswith("bearer "):
        return header[len("bearer ") :].strip() or None
    return None


def _parse_args(query: str, raw: bytes, content_type: str) -> dict[str, Any] | None:
    """The call's arguments from the query string and a JSON or form body; None if garbled."""
    args: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    text = raw.decode("utf-8", errors="replace")
    content_type = content_type.lower()
    if text.strip():
        is_form = "application/x-www-form-urlencoded" in content_type
        if not is_form and ("json" in content_type or text.lstrip().startswith("{")):
            try:
                body = json.loads(text)
            except ValueError:
                return None
            if not isinstance(body, dict):
                return None
            args.update(body)
        else:
            args.update({k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()})
    for key in _JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            # A garbled value stays a string; the method then answers as Slack would.
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default 5 would stall simultaneous clients a second

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (killed mid-call, as crash tests do) is not an error."""
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""

    def _serve(self) -> None:
        url = urlsplit(self.path)
        fake = self.server.fake
        if url.path.startswith("/upload/v1/") and self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            key = url.path[len("/upload/v1/") :]
            self._send(*fake._receive_upload(key, self.rfile.read(length) if length > 0 else b""))
            return
        if url.path.startswith("/hooks/") and self.command == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length > 0 else b""
            self._send(*fake._receive_response(url.path[len("/hooks/") :], raw))
            return
        if url.path.startswith("/files-pri/") and self.command == "GET":
            token = _bearer_token(self.headers.get("Authorization"))
            self._send(*fake._serve_file(url.path, token))
            return
        if not url.path.startswith("/api/"):
            self._send(404, b"Not Found", {"Content-Type": "text/plain; charset=utf-8"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        args = _parse_args(url.query, raw, self.headers.get("Content-Type") or "")
        token = _bearer_token(self.headers.get("Authorization"))
        if args is not None:
            body_token = args.pop("token", None)
            token = token or (body_token if isinstance(body_token, str) else None)
        status, body, headers = self.server.fake._handle(url.path[len("/api/") :], args, token)
        self._send(status, body, headers)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
