"""Small helpers shared by listeners: reading payloads and telling the person something."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.core import audit
from bot.core.errors import NotAllowed, UserFacingError
from bot.entry.runtime import Runtime
from bot.outbox.owing import owe_ephemeral, owe_post, owe_reply
from storage.db import transaction

log = logging.getLogger(__name__)

BUSY = "Sorry, I'm very busy right now and couldn't save that. Please try again in a minute."


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def user_id_of(body: dict[str, Any]) -> str:
    """The Slack user id of whoever sent this payload ("" if it names nobody)."""
    user = body.get("user")
    if isinstance(user, dict):
        return _text(user.get("id"))
    return _text(body.get("user_id")) or _text(user)


def user_name_of(body: dict[str, Any]) -> str:
    """A display name from the payload (Slack's username), or the user id."""
    user = _object(body.get("user"))
    name = _text(user.get("name")) or _text(user.get("username"))
    return name or _text(body.get("user_name")) or user_id_of(body)


def channel_id_of(body: dict[str, Any]) -> str | None:
    """The channel a payload came from, if any."""
    channel = body.get("channel")
    if isinstance(channel, dict):
        return _text(channel.get("id")) or None
    found = _text(body.get("channel_id")) or _text(_object(body.get("container")).get("channel_id"))
    return found or None


def first_action(body: dict[str, Any]) -> dict[str, Any]:
    """The first action of a block_actions payload ({} if there is none)."""
    actions = body.get("actions")
    return _object(actions[0]) if isinstance(actions, list) and actions else {}


def response_url_of(body: dict[str, Any]) -> str | None:
    """The `response_url` of a slash command or a click on a message, if Slack sent one."""
    url = body.get("response_url")
    if not url:  # a modal that asked for them sends `response_urls`
        urls = body.get("response_urls")
        first = urls[0] if isinstance(urls, list) and urls else {}
        url = first.get("response_url") if isinstance(first, dict) else None
    return url if isinstance(url, str) and url.startswith(("https://", "http://")) else None


def action_value(body: dict[str, Any]) -> str:
    """The `value` of the first action in a block_actions payload ("" if it has none)."""
    action = first_action(body)
    return _text(action.get("value")) or _text(_object(action.get("selected_option")).get("value"))


def int_value(raw: str) -> int | None:
    """An id from a button value, or None if it is not one."""
    # Not str.isdigit(): it accepts "¹" and other digits int() refuses.
    return int(raw) if re.fullmatch(r"[0-9]{1,11}", raw) else None


def _state_value(element: dict[str, Any]) -> Any:
    """What one input holds, by element type; a malformed part reads as empty."""
    kind = element.get("type")
    if kind == "plain_text_input":
        return _text(element.get("value"))
    if kind in ("static_select", "radio_buttons", "external_select"):
        return _text(_object(element.get("selected_option")).get("value")) or None
    if kind in ("multi_static_select", "checkboxes", "multi_external_select"):
        options = element.get("selected_options")
        options = options if isinstance(options, list) else []
        return [v for o in options if isinstance(v := _object(o).get("value"), str)]
    if kind == "datepicker":
        try:
            return date.fromisoformat(_text(element.get("selected_date")))
        except ValueError:
            return None
    if kind == "users_select":
        return _text(element.get("selected_user")) or None
    if kind == "multi_users_select":
        users = element.get("selected_users")
        return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []
    return element.get("value")


def view_values(body: dict[str, Any]) -> dict[str, Any]:
    """The submitted view's values, flattened to {block_id: value}."""
    state = _object(_object(_object(body.get("view")).get("state")).get("values"))
    flat: dict[str, Any] = {}
    for block_id, elements in state.items():
        for element in _object(elements).values():
            if isinstance(element, dict):
                flat[block_id] = _state_value(element)
    return flat


def view_metadata(body: dict[str, Any]) -> dict[str, Any]:
    """The JSON private_metadata of a submitted view ({} if absent or garbled)."""
    raw = _text(_object(body.get("view")).get("private_metadata"))
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def tell(
    runtime: Runtime,
    body: dict[str, Any],
    text: str,
    *,
    session: Session | None = None,
    refused: NotAllowed | None = None,
) -> None:
    """Tell the person who acted something only they see, wherever they acted.

    Through the `response_url` of their command or click (which works in any conversation),
    else ephemeral in their channel, else in their DM with the bot; the outbox falls back to
    the DM whenever the first choice can't be delivered. Owed through the outbox like every
    other message, then delivered straight away.
    """
    user = user_id_of(body)
    channel = channel_id_of(body)
    response_url = response_url_of(body)
    now = runtime.clock.now()

    def owe(s: Session) -> None:
        if refused is not None:
            record_refusal(s, refused, actor=user, now=now)
        if response_url:
            owe_reply(s, now=now, user=user, channel=channel, response_url=response_url, text=text)
        elif channel:
            owe_ephemeral(s, now=now, channel=channel, user=user, text=text)
        else:
            owe_post(s, now=now, channel=user, text=text)

    if session is not None:
        owe(session)
        return
    with transaction(runtime.sessions) as s:
        owe(s)
    runtime.deliverer.kick()


def record_refusal(session: Session, refused: NotAllowed, *, actor: str, now: datetime) -> None:
    """Audit a refusal (in its own transaction: the refused one was rolled back)."""
    audit.record(
        session,
        at=now,
        actor=actor,
        action=f"{refused.action or 'action'}.refused",
        subject_type=refused.subject_type or "unknown",
        subject_id=refused.subject_id,
    )


@contextmanager
def friendly_errors(
    runtime: Runtime, body: dict[str, Any], ack: Callable[[], Any] | None = None
) -> Iterator[None]:
    """Turn a UserFacingError into a reply only the person sees; nothing was changed.

    With `ack`, the refusal is acknowledged once the message to the person is owed.
    """
    try:
        yield
    except UserFacingError as exc:
        log.info("told user %s: %s", user_id_of(body), type(exc).__name__)
        refused = exc if isinstance(exc, NotAllowed) else None
        _tell_then_ack(runtime, body, exc.message, ack, refused=refused)
    except OperationalError:
        log.exception("database busy or unavailable")
        _tell_then_ack(runtime, body, BUSY, ack)


def _tell_then_ack(
    runtime: Runtime,
    body: dict[str, Any],
    text: str,
    ack: Callable[[], Any] | None,
    *,
    refused: NotAllowed | None = None,
) -> None:
    with transaction(runtime.sessions) as session:
        tell(runtime, body, text, session=session, refused=refused)
    if ack is not None:
        ack()
    runtime.deliverer.kick()


def in_transaction(runtime: Runtime, work: Callable[[Session], Any]) -> Any:
    """Run `work` in one transaction, then deliver whatever it owed."""
    with transaction(runtime.sessions) as session:
        result = work(session)
    runtime.deliverer.kick()
    return result


def commit_then_ack(
    runtime: Runtime, ack: Callable[[], Any], work: Callable[[Session], Any]
) -> Any:
    """Run `work` in one transaction and only then acknowledge (a 200 is a promise that the
    click is saved), then deliver whatever it owed."""
    with transaction(runtime.sessions) as session:
        result = work(session)
    ack()
    runtime.deliverer.kick()
    return result
