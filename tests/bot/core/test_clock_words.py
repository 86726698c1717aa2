"""The core's ways of writing a date and time for people: local to Europe/London whether
GMT or BST (right on the days the clocks change), days without a leading zero, 24-hour
times; never UTC and never an ISO date."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from bot.core.audit_trail import AuditLine
from bot.core.clock import date_words, day_month, when, when_in_year
from bot.directory.views import export_comment
from tests.support.dates_shown import INSTANTS, Shown

LONDON = ZoneInfo("Europe/London")
ZONES = {
    "GMT": "GMT",
    "BST, the day after UTC's": "BST",
    "clocks go forward, just before": "GMT",
    "clocks go forward, just after": "BST",
    "clocks go forward in 2027, on the hour": "BST",
    "clocks go back, the BST 01:30": "BST",
    "clocks go back, the GMT 01:30": "GMT",
    "clocks go back, the day after UTC's": "BST",
}
CASES = [pytest.param(shown, ZONES[name], id=name) for name, shown in INSTANTS.items()]


def day_and_time(shown: Shown) -> tuple[str, str]:
    """The day and the time `shown.when` names: ("Tuesday 9 June", "00:30")."""
    day, time = shown.when.split(", ")
    return day, time


def test_every_instant_has_its_zone() -> None:
    assert set(ZONES) == set(INSTANTS)


@pytest.mark.parametrize(("shown", "zone"), CASES)
def test_when_and_the_day_are_local(shown: Shown, zone: str) -> None:
    day, time = day_and_time(shown)
    assert when(shown.at, LONDON) == shown.when
    assert day_month(shown.at, LONDON) == shown.day_month
    assert when_in_year(shown.at, LONDON) == f"{day} {shown.at.year}, {time}"


@pytest.mark.parametrize(("shown", "zone"), CASES)
def test_an_audit_line_says_the_local_time_and_its_zone(shown: Shown, zone: str) -> None:
    line = AuditLine(1, shown.at, "UHEAD1", "request.captured", "request", "1", {}, "captured")
    _, time = day_and_time(shown)
    day_and_month = shown.short.split(" ", 1)[1]  # "9 Jun"
    assert line.local_time(LONDON) == f"{day_and_month} {shown.at.year}, {time} {zone}"


@pytest.mark.parametrize(("shown", "zone"), CASES)
def test_a_directory_export_says_when_it_was_made_locally(shown: Shown, zone: str) -> None:
    _, time = day_and_time(shown)
    said = export_comment(3, shown.at, LONDON)
    assert said.startswith(f"The directory as of {shown.day_month} {shown.at.year}, {time}: ")


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2027, 1, 4), "4 January 2027"),
        (date(2026, 3, 29), "29 March 2026"),
        (date(2026, 10, 25), "25 October 2026"),
    ],
)
def test_a_date_is_written_without_a_leading_zero(day: date, words: str) -> None:
    assert date_words(day) == words
