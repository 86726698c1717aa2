"""The shape of what Slack sends, checked once, after the signature and before Bolt routes it.

Bolt and the listeners read payloads by position (`body["actions"][0]`, `view["state"]
["values"]`, `event.get(...)`): a signed body with a field of the wrong type (a list where an
object belongs, `null`, a number) would crash them. `payload_problem` says what is
structurally wrong, naming only fields and types (never values), or None when the payload
has the shape Slack documents. Values are the listeners' business; shapes are checked here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Mapping[str, Any]], str | None]

_COMMAND_TEXT = ("text", "channel_id", "channel_name", "team_id", "user_name", "response_url")
_EVENT_TEXT = ("text", "ts", "thread_ts", "subtype", "bot_id", "event_ts", "channel_type", "tab")
_ACTION_USERS = ("selected_user", "selected_conversation", "selected_channel", "initial_user")
# A user, channel or team id as Slack writes them (U0123ABCD, W…, C…, D…, G…): the bot owes
# messages to these, and an id no sender recognises would be owed for ever.
_SLACK_ID = re.compile(r"[A-Z0-9]{2,40}")


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _require_text(body: Mapping[str, Any], key: str, where: str) -> str | None:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        return f"{where}{key}: {_kind(value)}, not text"
    return None


def _require_id(body: Mapping[str, Any], key: str, where: str) -> str | None:
    return _require_text(body, key, where) or _optional_id(body, key, where)


def _optional_id(body: Mapping[str, Any], key: str, where: str) -> str | None:
    """A problem if `key` is present and is not an id as Slack writes them."""
    value = body.get(key)
    if value is None or (isinstance(value, str) and _SLACK_ID.fullmatch(value)):
        return None
    return f"{where}{key}: {_kind(value)}, not a Slack id"


def _optional(body: Mapping[str, Any], keys: tuple[str, ...], types: Any, where: str) -> str | None:
    """A problem if any of `keys` is present with a type other than `types` (or null)."""
    for key in keys:
        value = body.get(key)
        if value is not None and not isinstance(value, types):
            return f"{where}{key}: {_kind(value)}"
    return None


def _first(*problems: Callable[[], str | None]) -> str | None:
    for problem in problems:
        found = problem()
        if found:
            return found
    return None


def _command(body: Mapping[str, Any]) -> str | None:
    return _first(
        lambda: _require_text(body, "command", ""),
        lambda: _require_id(body, "user_id", ""),
        lambda: _require_text(body, "trigger_id", ""),
        lambda: _optional(body, _COMMAND_TEXT, str, ""),
        lambda: _optional_id(body, "channel_id", ""),
    )


def _user_object(body: Mapping[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, Mapping):
        return f"user: {_kind(user)}, not an object"
    return _require_id(user, "id", "user.")


def _channel_object(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        return f"{where}: {_kind(value)}, not an object"
    return _optional_id(value, "id", f"{where}.")


def _state(state: Any, where: str) -> str | None:
    """`state.values` is {block_id: {action_id: {"type": …, …}}}, each level an object."""
    if state is None:
        return None
    if not isinstance(state, Mapping):
        return f"{where}: {_kind(state)}, not an object"
    values = state.get("values")
    if values is None:
        return None
    if not isinstance(values, Mapping):
        return f"{where}.values: {_kind(values)}, not an object"
    for block in values.values():
        if not isinstance(block, Mapping):
            return f"{where}.values.*: {_kind(block)}, not an object"
        for element in block.values():
            problem = _element(element, f"{where}.values.*.*")
            if problem:
                return problem
    return None


def _element(element: Any, where: str) -> str | None:
    """One input's state or one clicked action: an object whose selections are well formed."""
    if not isinstance(element, Mapping):
        return f"{where}: {_kind(element)}, not an object"
    return _first(
        lambda: _optional(element, ("type", "value", "selected_date"), str, f"{where}."),
        lambda: _optional(element, _ACTION_USERS, str, f"{where}."),
        lambda: _option(element.get("selected_option"), f"{where}.selected_option"),
        lambda: _list_of(element, "selected_options", Mapping, where),
        lambda: _list_of(element, "selected_users", str, where),
        lambda: _list_of(element, "files", Mapping, where),
    )


def _option(option: Any, where: str) -> str | None:
    if option is None:
        return None
    if not isinstance(option, Mapping):
        return f"{where}: {_kind(option)}, not an object"
    return _optional(option, ("value",), str, f"{where}.")


def _list_of(body: Mapping[str, Any], key: str, types: Any, where: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, types) for item in value):
        return f"{where}.{key}: {_kind(value)}, not a list of the right kind"
    if types is Mapping and key == "selected_options":
        for option in value:
            problem = _option(option, f"{where}.{key}.*")
            if problem:
                return problem
    return None


def _view(view: Any, *, required: bool) -> str | None:
    if view is None and not required:
        return None
    if not isinstance(view, Mapping):
        return f"view: {_kind(view)}, not an object"
    return _first(
        lambda: _require_text(view, "type", "view."),
        lambda: _optional(view, ("id", "callback_id", "private_metadata", "hash"), str, "view."),
        lambda: _state(view.get("state"), "view.state"),
    )


def _interaction(body: Mapping[str, Any]) -> str | None:
    """What every interactive payload shares: who, where, and the objects around the click."""
    return _first(
        lambda: _user_object(body),
        lambda: _channel_object(body.get("channel"), "channel"),
        lambda: _optional(body, ("container", "message", "team"), Mapping, ""),
        lambda: _optional(body, ("trigger_id", "callback_id", "response_url"), str, ""),
        lambda: _state(body.get("state"), "state"),
        lambda: _message_like(body.get("message") or {}, "message."),
    )


def _block_actions(body: Mapping[str, Any]) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return f"actions: {_kind(actions)}, not a list of actions"
    for action in actions:
        problem = _element(action, "actions.*") or _require_text(action, "action_id", "actions.*.")
        if problem:
            return problem
    return _first(
        lambda: _interaction(body),
        lambda: _require_text(body, "trigger_id", ""),
        lambda: _view(body.get("view"), required=False),
    )


def _block_suggestion(body: Mapping[str, Any]) -> str | None:
    """A menu asking for its options as someone types: which menu, and what was typed."""
    return _first(
        lambda: _interaction(body),
        lambda: _require_text(body, "action_id", ""),
        lambda: _optional(body, ("value", "block_id"), str, ""),
        lambda: _view(body.get("view"), required=False),
    )


def _view_payload(body: Mapping[str, Any]) -> str | None:
    return _interaction(body) or _view(body.get("view"), required=True)


def _shortcut(body: Mapping[str, Any]) -> str | None:
    return _first(
        lambda: _interaction(body),
        lambda: _require_text(body, "callback_id", ""),
        lambda: _require_text(body, "trigger_id", ""),
    )


def _message_action(body: Mapping[str, Any]) -> str | None:
    message = body.get("message")
    return _first(
        lambda: _shortcut(body),
        lambda: None if isinstance(message, Mapping) else f"message: {_kind(message)}",
        lambda: _channel_object(body.get("channel"), "channel"),
    )


def _message_like(event: Mapping[str, Any], where: str) -> str | None:
    """An event, or the message inside `message_changed`/`message_deleted`."""
    return _first(
        lambda: _optional(event, _EVENT_TEXT, str, where),
        lambda: _optional(event, ("user",), (str, Mapping), where),
        lambda: _optional(event, ("channel",), (str, Mapping), where),
        lambda: (
            None if isinstance(event.get("user"), Mapping) else _optional_id(event, "user", where)
        ),
        lambda: (
            None
            if isinstance(event.get("channel"), Mapping)
            else _optional_id(event, "channel", where)
        ),
        lambda: _optional(event, ("edited", "view"), Mapping, where),
        lambda: _optional(event, ("blocks", "files", "attachments"), list, where),
    )


def _event_callback(body: Mapping[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(event, Mapping):
        return f"event: {_kind(event)}, not an object"
    return _first(
        lambda: _require_text(event, "type", "event."),
        lambda: _optional(body, ("event_id", "team_id", "api_app_id"), str, ""),
        lambda: _list_of(body, "authorizations", Mapping, "body"),
        lambda: _message_like(event, "event."),
        lambda: _nested_messages(event),
    )


def _nested_messages(event: Mapping[str, Any]) -> str | None:
    for key in ("message", "previous_message"):
        nested = event.get(key)
        if nested is None:
            continue
        if not isinstance(nested, Mapping):
            return f"event.{key}: {_kind(nested)}, not an object"
        problem = _message_like(nested, f"event.{key}.")
        if problem:
            return problem
    return None


_CHECKS: dict[str, Check] = {
    "block_actions": _block_actions,
    "view_submission": _view_payload,
    "block_suggestion": _block_suggestion,
    "view_closed": _view_payload,
    "shortcut": _shortcut,
    "message_action": _message_action,
    "event_callback": _event_callback,
    "url_verification": lambda body: _require_text(body, "challenge", ""),
}

KNOWN_KINDS = frozenset(_CHECKS)


def _read_by_bolt_whatever_the_kind(body: Mapping[str, Any]) -> str | None:
    """Fields Bolt's own middleware reads from every payload, whatever its `type` (team,
    user and channel ids, `ignoring_self_events`): each must have a shape Slack sends."""
    authorizations = body.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, Mapping) for a in authorizations)
    ):
        return f"authorizations: {_kind(authorizations)}, not a list of objects"
    return _first(
        lambda: _optional(
            body, ("event", "view", "message", "previous_message", "item"), Mapping, ""
        ),
        lambda: _optional(body, ("assistant_thread", "container"), Mapping, ""),
        lambda: _optional(body, ("team", "enterprise", "user", "channel"), (str, Mapping), ""),
    )


def payload_problem(body: Any) -> str | None:
    """What is structurally wrong with a verified Slack payload, or None if nothing is.

    Slash commands are recognised as Bolt does (a `command` field); everything else by its
    `type`. Types this bot does not handle pass, for Bolt to answer as unhandled.
    """
    if not isinstance(body, Mapping):
        return f"body: {_kind(body)}, not an object"
    if "command" in body:
        return _command(body)
    problem = _read_by_bolt_whatever_the_kind(body)
    if problem:
        return problem
    kind = body.get("type")
    if kind is None:
        return None
    if not isinstance(kind, str):
        return f"type: {_kind(kind)}, not text"
    check = _CHECKS.get(kind)
    return check(body) if check else None
