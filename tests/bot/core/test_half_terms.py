"""Half terms from the school calendar: between the breaks of a holidays file, else the
typical English dates; INSET days and bank holidays never split one."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.core.school_calendar import (
    EXAMPLE_HOLIDAYS_FILE,
    SchoolCalendar,
    nominal_half_term,
    read_holidays_file,
)

LONDON = ZoneInfo("Europe/London")
EXAMPLE = SchoolCalendar(LONDON, closures=read_holidays_file(EXAMPLE_HOLIDAYS_FILE).closures)


@pytest.mark.parametrize(
    ("day", "first", "last", "label"),
    [
        (date(2026, 9, 10), date(2026, 9, 1), date(2026, 10, 25), "Autumn 1 2026"),
        (date(2026, 12, 8), date(2026, 10, 31), date(2026, 12, 20), "Autumn 2 2026"),
        (date(2027, 1, 5), date(2027, 1, 2), date(2027, 2, 14), "Spring 1 2027"),
        (date(2027, 3, 26), date(2027, 2, 20), date(2027, 3, 28), "Spring 2 2027"),
        (date(2027, 4, 20), date(2027, 4, 10), date(2027, 5, 30), "Summer 1 2027"),
        (date(2027, 7, 21), date(2027, 6, 5), date(2027, 7, 21), "Summer 2 2027"),
        # A day inside a break belongs with the half term after it.
        (date(2026, 10, 28), date(2026, 10, 31), date(2026, 12, 20), "Autumn 2 2026"),
    ],
)
def test_half_terms_run_between_the_breaks_of_the_holidays_file(
    day: date, first: date, last: date, label: str
) -> None:
    half = EXAMPLE.half_term_of(day)
    assert (half.first_day, half.last_day, half.label) == (first, last, label)
    assert half.covers(day) or not EXAMPLE.is_working_day(day)


def test_inset_days_do_not_split_a_half_term() -> None:
    # 4 January 2027 is a one-day INSET closure inside Spring 1.
    assert EXAMPLE.half_term_of(date(2027, 1, 5)) == EXAMPLE.half_term_of(date(2027, 2, 1))


@pytest.mark.parametrize(
    ("day", "label"),
    [
        (date(2026, 10, 31), "Autumn 1 2026"),
        (date(2026, 11, 1), "Autumn 2 2026"),
        (date(2027, 2, 21), "Spring 1 2027"),
        (date(2027, 2, 22), "Spring 2 2027"),
        (date(2027, 3, 28), "Spring 2 2027"),  # Easter Sunday 2027
        (date(2027, 3, 29), "Summer 1 2027"),  # Easter Monday
        (date(2027, 6, 1), "Summer 2 2027"),
        (date(2027, 8, 31), "Summer 2 2027"),
    ],
)
def test_without_a_holidays_file_the_typical_dates_stand_in(day: date, label: str) -> None:
    assert SchoolCalendar(LONDON).half_term_of(day).label == label
    assert nominal_half_term(day).covers(day)
