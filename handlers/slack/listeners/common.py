"""Small helpers shared by listeners: reading payloads and telling the person something."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.core.errors import NotAllowed, UserFacingError
from bot.inbound.service import Claim
from bot.outbox.flows import owe_answer, record_refusal
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.sender import tell_now

log = logging.getLogger(__name__)

BUSY = "Sorry, I'm very busy right now and couldn't save that. Please try again in a minute."
# Keys in a request's Bolt context, set by `handlers.slack.app`. Only this process sets them;
# no HTTP request can.
INBOUND_CLAIM = "school_support_inbound_claim"  # the saved event's `Claim`, once claimed
REPLAY = "school_support_replay"  # a threading.Event, set when a replayed event is done


def inbound_claim(context: Mapping[str, Any] | None) -> Claim | None:
    """This process's claim on the saved event or form being handled, if it was saved."""
    claim = (context or {}).get(INBOUND_CLAIM)
    return claim if isinstance(claim, Claim) else None


def is_replay(context: Mapping[str, Any] | None) -> bool:
    """Whether this is a saved event or form replayed by the due work: nobody is waiting for
    its acknowledgement, so what it would have said must be sent as a message."""
    return (context or {}).get(REPLAY) is not None


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


def submission_id(body: dict[str, Any]) -> str | None:
    """What tells one submission of a form from any other: Slack's trigger id for it."""
    return _text(body.get("trigger_id")) or None


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
    return int(raw) if re.fullmatch(r"[0-9]{1,9}", raw) else None  # fits a 32-bit column


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


def tell_straight_away(
    ctx: SlackContext, user: str, channel: str | None, response_url: Any, text: str
) -> None:
    """Tell one person `text` now, not through the outbox: for when something failed (the
    database may be what did). A failure to tell them is logged; the first failure matters."""
    try:
        tell_now(
            ctx.client,
            user=user,
            text=text,
            channel=channel,
            response_url=response_url
            if isinstance(response_url, str) and response_url.startswith("http")
            else None,
        )
    except Exception as exc:
        log.warning("could not tell user %s about the error: %s", user, type(exc).__name__)


@contextmanager
def told_if_it_fails(ctx: SlackContext, body: dict[str, Any], text: str) -> Iterator[None]:
    """Work after the ack: if it fails, log it (ids only) and tell the person `text`, which
    says what was already saved and what to do, instead of the generic apology."""
    try:
        yield
    except Exception as exc:
        log.error(
            "after acknowledging user %s: %s", user_id_of(body), type(exc).__name__, exc_info=exc
        )
        tell_straight_away(
            ctx, user_id_of(body), channel_id_of(body), body.get("response_url"), text
        )


def tell(
    ctx: SlackContext,
    body: dict[str, Any],
    text: str,
    *,
    session: Session | None = None,
    refused: NotAllowed | None = None,
) -> None:
    """Tell the person who acted something only they see, wherever they acted.

    Owed through the outbox (`bot.outbox.flows.owe_answer`) like every other message: in
    `session` with the change itself if given, else in a unit of work of its own.
    """

    def owe(s: Session) -> None:
        owe_answer(
            s,
            now=ctx.clock.now(),
            user=user_id_of(body),
            text=text,
            channel=channel_id_of(body),
            response_url=response_url_of(body),
            refused=refused,
        )

    if session is not None:
        owe(session)
    else:
        unit_of_work(ctx, owe)


def audit_refusal(ctx: SlackContext, refused: NotAllowed, body: dict[str, Any]) -> None:
    """Audit a refusal in a unit of work of its own (the refused one was rolled back), for a
    form that says it in place rather than by message."""
    unit_of_work(
        ctx,
        lambda session: record_refusal(
            session, refused, actor=user_id_of(body), now=ctx.clock.now()
        ),
    )


@contextmanager
def friendly_errors(
    ctx: SlackContext, body: dict[str, Any], ack: Callable[[], Any] | None = None
) -> Iterator[None]:
    """Turn a UserFacingError into a reply only the person sees; nothing was changed.

    With `ack`, the refusal is acknowledged once the message to the person is owed.
    """
    try:
        yield
    except UserFacingError as exc:
        log.info("told user %s: %s", user_id_of(body), type(exc).__name__)
        refused = exc if isinstance(exc, NotAllowed) else None
        _tell_then_ack(ctx, body, exc.message, ack, refused=refused)
    except OperationalError:
        log.exception("database busy or unavailable")
        _tell_then_ack(ctx, body, BUSY, ack)


def _tell_then_ack(
    ctx: SlackContext,
    body: dict[str, Any],
    text: str,
    ack: Callable[[], Any] | None,
    *,
    refused: NotAllowed | None = None,
) -> None:
    unit_of_work(
        ctx, lambda session: tell(ctx, body, text, session=session, refused=refused), then_ack=ack
    )
