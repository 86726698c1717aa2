"""Instants at GMT, at BST and around each change of the clocks, with how people in England
write them: for the tests that every date and time shown to a user is local and British."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import NamedTuple


class Shown(NamedTuple):
    """An instant and how people in England write it."""

    at: datetime
    when: str  # the day and the time
    short: str  # the short day
    day_month: str
    not_local: str | None  # the UTC wall time, where it differs: never shown


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


INSTANTS = {
    "GMT": Shown(
        utc(2026, 12, 1, 9, 30), "Tuesday 1 December, 09:30", "Tue 1 Dec", "1 December", None
    ),
    "BST, the day after UTC's": Shown(
        utc(2026, 6, 8, 23, 30), "Tuesday 9 June, 00:30", "Tue 9 Jun", "9 June", "23:30"
    ),
    "clocks go forward, just before": Shown(
        utc(2026, 3, 29, 0, 30), "Sunday 29 March, 00:30", "Sun 29 Mar", "29 March", None
    ),
    "clocks go forward, just after": Shown(
        utc(2026, 3, 29, 1, 30), "Sunday 29 March, 02:30", "Sun 29 Mar", "29 March", "01:30"
    ),
    "clocks go forward in 2027, on the hour": Shown(
        utc(2027, 3, 28, 1, 0), "Sunday 28 March, 02:00", "Sun 28 Mar", "28 March", "01:00"
    ),
    "clocks go back, the BST 01:30": Shown(
        utc(2026, 10, 25, 0, 30), "Sunday 25 October, 01:30", "Sun 25 Oct", "25 October", "00:30"
    ),
    "clocks go back, the GMT 01:30": Shown(
        utc(2026, 10, 25, 1, 30), "Sunday 25 October, 01:30", "Sun 25 Oct", "25 October", None
    ),
    "clocks go back, the day after UTC's": Shown(
        utc(2026, 10, 24, 23, 30), "Sunday 25 October, 00:30", "Sun 25 Oct", "25 October", "23:30"
    ),
}  # fmt: skip
