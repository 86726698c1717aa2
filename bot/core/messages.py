"""Platform-neutral messages: what the bot says, to be rendered by a chat platform's adapter.

A service owes a message as a *view*: a frozen dataclass registered here under a stable name
(`@message_view("routing.offer_invitation")`), holding what to say and which actions to offer,
never Block Kit or any other platform's markup. The outbox stores it as JSON
(`encode_view`), and the adapter (`handlers.slack.blocks.render`) turns it back into the
dataclass (`decode_view`) and renders it at delivery. A general-purpose `Card` covers messages
with no view of their own. Text in views uses the bot's light markup (`*bold*`, `<@user>`
mentions), with user-written text escaped (`bot.core.text.escape`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from typing import Any, TypeVar, Union

_VIEWS: dict[str, type[Any]] = {}
_NAMES: dict[type[Any], str] = {}

ViewClass = TypeVar("ViewClass", bound=type[Any])


class UnknownView(ValueError):
    """An outbox row names a view no module registered (renamed, or from a newer version)."""


def message_view(name: str) -> typing.Callable[[ViewClass], ViewClass]:
    """Register a frozen dataclass as a message view under `name` (stable: it is stored)."""

    def register(cls: ViewClass) -> ViewClass:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__} must be a dataclass to be a message view")
        _VIEWS[name] = cls
        _NAMES[cls] = name
        return cls

    return register


def registered_views() -> dict[str, type[Any]]:
    """Every message view by name: what an adapter must be able to render."""
    return dict(_VIEWS)


def view_name(view: object) -> str:
    """The registered name of `view`'s class."""
    return _NAMES[type(view)]


@dataclasses.dataclass(frozen=True)
class Confirm:
    """Are-you-sure words for a destructive action."""

    title: str
    text: str
    yes: str
    no: str = "Go back"


@dataclasses.dataclass(frozen=True)
class Action:
    """A button: its id (what the click means), label, value (all a click needs), style."""

    id: str
    label: str
    value: str
    style: str | None = None  # "primary" | "danger" | None
    confirm: Confirm | None = None


@message_view("core.card")
@dataclasses.dataclass(frozen=True)
class Card:
    """A message with no view of its own: paragraphs of text, then a row of actions."""

    paragraphs: tuple[str, ...]
    actions: tuple[Action, ...] = ()


def encode_view(view: object) -> dict[str, Any]:
    """`view` as JSON-ready data: `{"name": ..., "data": {...}}`."""
    return {"name": view_name(view), "data": _encode(view)}


def decode_view(stored: dict[str, Any]) -> Any:
    """The view `encode_view` stored, rebuilt as its dataclass."""
    cls = _VIEWS.get(str(stored.get("name")))
    if cls is None:
        raise UnknownView(f"no message view is registered as {stored.get('name')!r}")
    return _decode(cls, stored.get("data"))


def _encode(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _encode(item) for key, item in value.items()}
    return value


def _decode(kind: Any, value: Any) -> Any:
    """`value` (decoded JSON) as an instance of the type annotation `kind`."""
    origin = typing.get_origin(kind)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        options = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return _decode(options[0], value)
    if origin in (tuple, list):
        args = typing.get_args(kind)
        item = args[0] if args else Any
        items = [_decode(item, v) for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _, item = typing.get_args(kind)
        return {key: _decode(item, v) for key, v in value.items()}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        names = [f.name for f in dataclasses.fields(kind) if f.name in value]
        return kind(**{name: _decode(hints[name], value[name]) for name in names})
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value
