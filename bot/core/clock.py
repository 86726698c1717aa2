"""The one clock: everything asks it for the time, so tests and `--now` can set it."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    """Anything that can say what time it is (timezone-aware, UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until told to move; for tests, the demo and `--now`."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self._at = at.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._at

    def set(self, at: datetime) -> None:
        """Move the clock to `at`."""
        with self._lock:
            self._at = at.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move the clock forward by `delta` (or `timedelta(**kwargs)`) and return the new time."""
        with self._lock:
            self._at += delta if delta is not None else timedelta(**kwargs)
            return self._at


def as_utc(value: datetime) -> datetime:
    """Treat a naive datetime read back from the database as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The bot's time zone unless TIMEZONE says otherwise (settings.tz), for callers given none.
LONDON = ZoneInfo("Europe/London")


def when(instant: datetime, tz: ZoneInfo) -> str:
    """A local date and time the way people say it: "Wednesday 25 November, 17:00"."""
    local = instant.astimezone(tz)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"


def day_month(instant: datetime, tz: ZoneInfo) -> str:
    """A local date as people write it: "2 November"."""
    local = instant.astimezone(tz)
    return f"{local.day} {local:%B}"


def short_day(instant: datetime, tz: ZoneInfo) -> str:
    """A local date in few characters, as lists show it: "Tue 8 Dec"."""
    local = instant.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b}"


def when_in_year(instant: datetime, tz: ZoneInfo) -> str:
    """A local date, with its year, and time: "Monday 5 October 2026, 08:00"."""
    local = instant.astimezone(tz)
    return f"{local:%A} {date_words(local)}, {local:%H:%M}"


def date_words(d: date) -> str:
    """A date as people write it, with its year: "4 January 2027" (no leading zero)."""
    return f"{d.day} {d:%B %Y}"
