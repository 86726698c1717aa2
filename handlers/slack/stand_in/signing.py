"""Build the exact requests Slack sends to the bot, signed with Slack's v0 scheme, and send them.

Bodies are bytes as they go over the wire: slash commands and interactions form-encoded
(interactions as `payload=<json>`), Events API callbacks as JSON. `sign` adds the
`X-Slack-Request-Timestamp` and `X-Slack-Signature` headers Bolt verifies; `SlackSender` posts
them to a running server with urllib and hands back status, body and headers. Given a fake
Slack's `new_response_url`, the sender gives commands and clicks response_urls that fake serves.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from bot.core.clock import SystemClock
from handlers.slack.stand_in.fake_slack import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    dm_channel_id,
)

_SLACK_TIME = SystemClock()  # Slack stamps and signs requests with the real time

VERIFICATION_TOKEN = "verification-token-unused"  # deprecated by Slack; still sent in bodies
DEFAULT_USER = "U0HEAD001"
DEFAULT_CHANNEL = "C0SUPPORT"
DEFAULT_CHANNEL_NAME = "school-support"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
_USER_AGENT = "Slackbot 1.0 (+https://api.slack.com/robots)"
SLACK_HOOKS = "https://hooks.slack.com/"
# Interaction payload type -> the kind of response_url Slack gives it.
_RESPONSE_URL_KINDS = {"block_actions": "actions", "message_action": "app"}

ResponseUrlMinter = Callable[..., str]  # (kind, *, user, channel) -> a response_url
_sequence = itertools.count(1)

StateValue = Mapping[str, Any] | str | list[str] | None


# --- ids as Slack shapes them ---------------------------------------------------------------


def new_trigger_id() -> str:
    """A fresh trigger id shaped like Slack's (`digits.digits.hex`)."""
    n = next(_sequence)
    return f"{1_000_000_000 + n}.{700_000_000 + n}.{uuid.uuid4().hex}"


def new_event_id() -> str:
    """A fresh Events API event id (`Ev…`)."""
    return "Ev" + uuid.uuid4().hex[:10].upper()


def _response_url(kind: str, team_id: str) -> str:
    return f"{SLACK_HOOKS}{kind}/{team_id}/{next(_sequence):010d}/{uuid.uuid4().hex[:24]}"


def _now_ts() -> str:
    return f"{_SLACK_TIME.now().timestamp():.6f}"


def _user(user_id: str, team_id: str) -> dict[str, str]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str) -> dict[str, str]:
    return {"id": team_id, "domain": TEAM_DOMAIN}


def _channel(channel_id: str, name: str | None = None) -> dict[str, str]:
    default = "directmessage" if channel_id.startswith("D") else DEFAULT_CHANNEL_NAME
    return {"id": channel_id, "name": name or default}


# --- signing --------------------------------------------------------------------------------


def sign(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers for `body`: `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}`."""
    ts = str(int(_SLACK_TIME.now().timestamp()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


# --- slash commands and interactions --------------------------------------------------------


def slash_command_body(
    command: str = "/support",
    text: str = "",
    *,
    user_id: str = DEFAULT_USER,
    user_name: str | None = None,
    channel_id: str = DEFAULT_CHANNEL,
    channel_name: str | None = None,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    response_url: str | None = None,
) -> bytes:
    """A slash command request body, form-encoded with Slack's fields in Slack's order."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name or _channel(channel_id)["name"],
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url or _response_url("commands", team_id),
        "trigger_id": trigger_id or new_trigger_id(),
    }
    return urlencode(fields).encode()


_TYPED_LINK = re.compile(r"\bhttps?://[^\s<>]+")
_TYPED_NAME = re.compile(r"(?<![\w@#])([@#])([\w.-]*\w)")


def escaped_as_slack_sends(
    typed: str,
    people: Mapping[str, str] | None = None,
    channels: Mapping[str, str] | None = None,
) -> str:
    """Command text as Slack sends it with `should_escape: true`: `&`, `<`, `>` as entities,
    links as `<url>`, and each `@name` of `people` / `#name` of `channels` (name -> id) as
    `<@ID|name>` / `<#ID|name>` (the ones picked from Slack's autocomplete)."""
    text = typed.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _TYPED_LINK.sub(lambda m: f"<{m.group()}>", text)
    known = {"@": people or {}, "#": channels or {}}

    def mention(match: re.Match[str]) -> str:
        sign, name = match.groups()
        found = known[sign].get(name)
        return f"<{sign}{found}|{name}>" if found else match.group()

    return _TYPED_NAME.sub(mention, text)


def interaction_body(payload: Mapping[str, Any]) -> bytes:
    """An interactivity request body: form-encoded `payload=<json>`."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))}).encode()


def _find_element(blocks: Any, action_id: str) -> tuple[str | None, dict[str, Any] | None]:
    """The block id and element carrying `action_id` in a list of blocks, if present."""
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, dict):
            continue
        candidates = list(block.get("elements") or [])
        for key in ("accessory", "element"):
            if block.get(key) is not None:
                candidates.append(block[key])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return None, None


def _option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def block_actions_payload(
    user_id: str,
    action_id: str,
    value: str,
    *,
    channel_id: str | None = None,
    message_ts: str | None = None,
    message: Mapping[str, Any] | None = None,
    container: Mapping[str, Any] | None = None,
    view: Mapping[str, Any] | None = None,
    block_id: str | None = None,
    action_type: str = "button",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A `block_actions` payload: a click on `action_id` in a message, or in `view` (a modal).

    For a message, `channel_id` defaults to the user's DM with the bot and `message` to a bot
    message with that ts; the block id and button text are taken from the message's blocks when
    they hold the action. Select menus (`action_type="static_select"`) send `selected_option`.
    """
    source = view if view is not None else message
    action = _action(source, action_id, value, action_type=action_type, block_id=block_id)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": None,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["container"] = dict(container or {"type": "view", "view_id": view["id"]})
        payload["view"] = dict(view)
    else:
        channel = channel_id or dm_channel_id(user_id)
        ts = message_ts or (message or {}).get("ts") or _now_ts()
        shown = dict(message) if message is not None else _bot_message(ts, team_id)
        payload["container"] = dict(
            container
            or {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False}
        )
        payload["channel"] = _channel(channel)
        payload["message"] = shown
        payload["response_url"] = _response_url("actions", team_id)
    payload["state"] = {"values": {}}
    payload["actions"] = [action]
    return payload


def block_suggestion_payload(
    user_id: str,
    action_id: str,
    value: str,
    *,
    view: Mapping[str, Any],
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A `block_suggestion` payload: `value` typed into the `external_select` `action_id` of
    `view` (a modal as Slack shows it), asking for the menu's options. Its block id comes
    from the view; the view's state holds nothing chosen yet."""
    block_id, _ = _find_element(view.get("blocks"), action_id)
    view_id = str(view.get("id") or f"V{uuid.uuid4().hex[:10].upper()}")
    return {
        "type": "block_suggestion",
        "user": _user(user_id, team_id),
        "container": {"type": "view", "view_id": view_id},
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "action_id": action_id,
        "block_id": block_id or uuid.uuid4().hex[:5],
        "value": value,
        "team": _team(team_id),
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {
            "state": {"values": {}},
            **dict(view),
            "id": view_id,
            "team_id": team_id,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
        },
    }


def _action(
    source: Mapping[str, Any] | None,
    action_id: str,
    value: str,
    *,
    action_type: str,
    block_id: str | None,
) -> dict[str, Any]:
    """One entry of `actions`: the element's block id and button text come from `source`."""
    found_block_id, element = _find_element((source or {}).get("blocks"), action_id)
    action: dict[str, Any] = {
        "type": action_type,
        "action_id": action_id,
        "block_id": block_id or found_block_id or uuid.uuid4().hex[:5],
        "action_ts": _now_ts(),
    }
    if action_type == "button":
        text = (element or {}).get("text") or {"type": "plain_text", "text": value, "emoji": True}
        action |= {"text": text, "value": value}
    elif action_type.startswith("multi_"):
        action["selected_options"] = [_option(value)]
    elif action_type in ("users_select", "conversations_select", "datepicker"):
        key = {"users_select": "selected_user", "conversations_select": "selected_conversation"}
        action[key.get(action_type, "selected_date")] = value
    else:
        action["selected_option"] = _option(value)
    return action


def _bot_message(ts: str, team_id: str) -> dict[str, Any]:
    return {
        "type": "message",
        "user": BOT_USER_ID,
        "bot_id": BOT_ID,
        "app_id": APP_ID,
        "team": team_id,
        "ts": ts,
        "text": "",
        "blocks": [],
    }


def state_entry(value: StateValue, element_type: str | None = None) -> dict[str, Any]:
    """One `view.state.values[block][action]` entry; shorthands for the common elements.

    A string is a `plain_text_input` value (or, with `element_type`, that element's selection:
    `static_select`/`radio_buttons` option, `datepicker` date, `users_select` user); a list of
    strings is a `multi_static_select` (or `checkboxes`); a mapping is passed through as given.
    """
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list):
        kind = element_type or "multi_static_select"
        return {"type": kind, "selected_options": [_option(v) for v in value]}
    kind = element_type or "plain_text_input"
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        return {"type": kind, "value": value}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "conversations_select":
        return {"type": kind, "selected_conversation": value}
    return {"type": kind, "selected_option": _option(value) if value is not None else None}


def view_submission_payload(
    user_id: str,
    callback_id: str,
    values: Mapping[str, Mapping[str, StateValue]],
    private_metadata: str = "",
    *,
    view_id: str | None = None,
    hash: str | None = None,
    title: str = "Ask for support",
    external_id: str = "",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A `view_submission` payload for a modal with `values` ({block_id: {action_id: entry}}).

    Each entry is a full state dict or a shorthand understood by `state_entry`.
    """
    state = {
        block_id: {action_id: state_entry(v) for action_id, v in actions.items()}
        for block_id, actions in values.items()
    }
    blocks = [
        {
            "type": "input",
            "block_id": block_id,
            "label": {"type": "plain_text", "text": block_id, "emoji": True},
            "element": {"type": entry["type"], "action_id": action_id},
        }
        for block_id, actions in state.items()
        for action_id, entry in actions.items()
    ]
    the_view_id = view_id or f"V{uuid.uuid4().hex[:10].upper()}"
    view = _modal(the_view_id, team_id, blocks, state, private_metadata, callback_id, title)
    view |= {
        "hash": hash or f"{int(_SLACK_TIME.now().timestamp())}.{uuid.uuid4().hex[:8]}",
        "external_id": external_id,
    }
    return {
        "type": "view_submission",
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": view,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def _modal(
    the_view_id: str,
    team_id: str,
    blocks: list[dict[str, Any]],
    state: dict[str, Any],
    private_metadata: str,
    callback_id: str,
    title: str,
) -> dict[str, Any]:
    """A submitted modal view as Slack describes it (its `hash` and `external_id` aside)."""
    return {
        "id": the_view_id,
        "team_id": team_id,
        "type": "modal",
        "blocks": blocks,
        "private_metadata": private_metadata,
        "callback_id": callback_id,
        "state": {"values": state},
        "hash": "",
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "clear_on_close": False,
        "notify_on_close": False,
        "close": {"type": "plain_text", "text": "Cancel", "emoji": True},
        "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
        "previous_view_id": None,
        "root_view_id": the_view_id,
        "app_id": APP_ID,
        "external_id": "",
        "app_installed_team_id": team_id,
        "bot_id": BOT_ID,
    }


def message_action_payload(
    user_id: str,
    callback_id: str,
    message: Mapping[str, Any],
    channel_id: str,
    *,
    channel_name: str | None = None,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A `message_action` payload: the message shortcut `callback_id` used on `message`
    (`channel_name`: the channel's own name, as Slack sends it for a private channel too)."""
    return {
        "type": "message_action",
        "token": VERIFICATION_TOKEN,
        "action_ts": _now_ts(),
        "team": _team(team_id),
        "user": _user(user_id, team_id),
        "channel": _channel(channel_id, channel_name),
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": callback_id,
        "trigger_id": trigger_id or new_trigger_id(),
        "response_url": _response_url("app", team_id),
        "message_ts": message.get("ts"),
        "message": dict(message),
    }


# --- Events API -------------------------------------------------------------------------------


def message_event(
    user: str, text: str, channel: str, ts: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A `message` event as Slack delivers it (pass `thread_ts=`, `subtype=`… in `extra`)."""
    ts = ts or _now_ts()
    channel_type = {"D": "im", "G": "group"}.get(channel[:1], "channel")
    event: dict[str, Any] = {
        "type": "message",
        "client_msg_id": str(uuid.uuid4()),
        "text": text,
        "user": user,
        "ts": ts,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": uuid.uuid4().hex[:5],
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ],
        "team": TEAM_ID,
        "channel": channel,
        "event_ts": ts,
        "channel_type": channel_type,
    }
    event.update(extra)
    return event


def tombstone_event(original: Mapping[str, Any], ts: str | None = None) -> dict[str, Any]:
    """The `message_changed` event Slack sends when `original`, a thread parent with replies,
    is deleted: the post stays as a tombstone ("This message was deleted.") over its thread."""
    ts = ts or _now_ts()
    previous = {k: v for k, v in original.items() if k not in ("channel", "channel_type")}
    thread = {"thread_ts": original["ts"], "reply_count": 1}
    return {
        "type": "message",
        "subtype": "message_changed",
        "hidden": True,
        "message": {
            "type": "message",
            "subtype": "tombstone",
            "text": "This message was deleted.",
            "user": "USLACKBOT",
            "hidden": True,
            "ts": original["ts"],
            **thread,
        },
        "previous_message": {**previous, **thread},
        "channel": original["channel"],
        "ts": ts,
        "event_ts": ts,
        "channel_type": original["channel_type"],
    }


def event_callback_body(
    event: Mapping[str, Any], event_id: str | None = None, team_id: str = TEAM_ID
) -> bytes:
    """An Events API `event_callback` body (JSON), as sent for `event`."""
    body = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "context_team_id": team_id,
        "context_enterprise_id": None,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or new_event_id(),
        "event_time": int(_SLACK_TIME.now().timestamp()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-{uuid.uuid4().hex}",
    }
    return json.dumps(body, separators=(",", ":")).encode()


def url_verification_body(challenge: str) -> bytes:
    """The `url_verification` handshake body Slack sends when the Request URL is set."""
    body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
    return json.dumps(body, separators=(",", ":")).encode()


# --- sending ------------------------------------------------------------------------------


class SlackSender:
    """Posts signed requests to the bot's Slack endpoint (`base_url` is the full URL)."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        timeout: float = 10.0,
        response_urls: ResponseUrlMinter | None = None,
    ) -> None:
        self.base_url = base_url
        self.signing_secret = signing_secret
        self.timeout = timeout
        self.response_urls = response_urls

    def post(
        self,
        body: bytes,
        content_type: str,
        headers: Mapping[str, str] | None = None,
        timestamp: int | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        """Sign and POST `body`; returns (status, body, headers with lower-case names).

        `headers` are applied last, so a test can send a forged signature; `retry_num` adds
        Slack's `X-Slack-Retry-Num` and `X-Slack-Retry-Reason` (default `http_timeout`).
        """
        all_headers = {"Content-Type": content_type, "User-Agent": _USER_AGENT}
        all_headers |= sign(body, self.signing_secret, timestamp)
        if retry_num is not None:
            all_headers["X-Slack-Retry-Num"] = str(retry_num)
            all_headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        all_headers |= dict(headers or {})
        request = urllib.request.Request(
            self.base_url, data=body, headers=all_headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read(), _lower(response.headers.items())
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read(), _lower(exc.headers.items())

    def command(
        self, command: str = "/support", text: str = "", **fields: Any
    ) -> tuple[int, bytes, dict[str, str]]:
        """Send a slash command (`fields` as for `slash_command_body`)."""
        if self.response_urls is not None and not fields.get("response_url"):
            fields["response_url"] = self.response_urls(
                "commands",
                user=fields.get("user_id", DEFAULT_USER),
                channel=fields.get("channel_id", DEFAULT_CHANNEL),
            )
        return self.post(slash_command_body(command, text, **fields), FORM)

    def interact(self, payload: Mapping[str, Any]) -> tuple[int, bytes, dict[str, str]]:
        """Send an interaction payload (block action, view submission, shortcut)."""
        return self.post(interaction_body(self.with_response_url(payload)), FORM)

    def with_response_url(self, payload: Mapping[str, Any]) -> Mapping[str, Any]:
        """The payload with its stand-in hooks.slack.com response_url swapped for a served one."""
        url = payload.get("response_url")
        if self.response_urls is None or not str(url or "").startswith(SLACK_HOOKS):
            return payload
        user = payload.get("user")
        channel = payload.get("channel")
        return {
            **payload,
            "response_url": self.response_urls(
                _RESPONSE_URL_KINDS.get(str(payload.get("type")), "actions"),
                user=user.get("id") if isinstance(user, Mapping) else None,
                channel=channel.get("id") if isinstance(channel, Mapping) else None,
            ),
        }

    def event(
        self,
        event: Mapping[str, Any],
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        """Send an Events API callback for `event` (a retry if `retry_num` is given)."""
        body = event_callback_body(event, event_id=event_id)
        return self.post(body, JSON, retry_num=retry_num, retry_reason=retry_reason)

    def url_verification(self, challenge: str) -> tuple[int, bytes, dict[str, str]]:
        """Send the `url_verification` handshake."""
        return self.post(url_verification_body(challenge), JSON)


def _lower(items: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in items}
