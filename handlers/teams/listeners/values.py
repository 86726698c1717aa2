"""What a Teams card sends with a button: its `value` (what it acts on) and the values of the
card's inputs, read into what the core takes. A malformed value is `NotFound` (an old or
forged card); a malformed input is `InvalidInput`, answered in words, changing nothing."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.core.errors import InvalidInput, NotFound

ID = re.compile(r"[0-9]{1,9}")


def id_of(raw: str) -> int | None:
    """An id from card data ("12"), or None if it is not one. Not `str.isdigit()`: that
    accepts "²", which `int()` refuses; and at most 9 digits, which every database holds."""
    return int(raw) if ID.fullmatch(raw) else None


def target(value: str, what: str = "support") -> tuple[int, str]:
    """The id a button points at (`"12"` or `"12:rest"`) and what follows it."""
    head, _, rest = value.partition(":")
    found = id_of(head)
    if found is None:
        raise NotFound(
            f"That button doesn't point at {'an' if what[0] in 'aeiou' else 'a'} {what} I know."
        )
    return found, rest


def text_of(data: dict[str, Any], name: str) -> str:
    """A text input's value, trimmed ("" when it was left empty)."""
    return str(data.get(name) or "").strip()


def date_of(data: dict[str, Any], name: str) -> date | None:
    """An `Input.Date` value (`YYYY-MM-DD`), or None when none was chosen."""
    raw = text_of(data, name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise InvalidInput({name: "Please choose a date from the calendar."}) from None


def days_of(data: dict[str, Any], name: str = "days") -> float | None:
    """A number of days ("1.5"), or None when left empty."""
    raw = text_of(data, name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput({name: "Please give a number of days, such as 1 or 0.5."}) from None


def choices_of(data: dict[str, Any], name: str) -> list[str]:
    """A multi-select `Input.ChoiceSet`'s values (Teams sends them comma-separated)."""
    return [part.strip() for part in text_of(data, name).split(",") if part.strip()]
