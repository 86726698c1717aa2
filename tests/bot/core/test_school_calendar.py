"""School calendar: working days, bank holidays, closures, clock changes and working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.school_calendar import (
    EXAMPLE_HOLIDAYS_FILE,
    CalendarError,
    Closure,
    SchoolCalendar,
    load_calendar,
    parse_holidays,
    read_holidays_file,
)
from bot.core.settings import Settings

LONDON = ZoneInfo("Europe/London")
CHECKIN = time(9, 30)


def london(*args: int) -> datetime:
    """An aware datetime for a London wall time."""
    return datetime(*args, tzinfo=LONDON)


@pytest.fixture
def plain() -> SchoolCalendar:
    """Weekends and bank holidays only, 08:00-17:00."""
    return SchoolCalendar(LONDON)


@pytest.fixture
def example() -> SchoolCalendar:
    """The shipped example term dates for 2026-27."""
    return load_calendar(Settings(holidays_file=str(EXAMPLE_HOLIDAYS_FILE)))


# Working days


def test_weekends_are_not_working_days(plain: SchoolCalendar) -> None:
    assert plain.is_working_day(date(2026, 11, 27))  # Friday
    assert not plain.is_working_day(date(2026, 11, 28))
    assert not plain.is_working_day(date(2026, 11, 29))
    assert plain.closure_on(date(2026, 11, 28)) is None
    assert plain.next_working_day(date(2026, 11, 28)) == date(2026, 11, 30)
    assert plain.next_working_day(date(2026, 11, 27)) == date(2026, 11, 27)
    assert plain.next_working_day(date(2026, 11, 27), include_today=False) == date(2026, 11, 30)


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2026, 12, 25), "Christmas Day"),
        (date(2026, 12, 28), "Boxing Day (observed)"),
        (date(2027, 3, 26), "Good Friday"),
        (date(2027, 3, 29), "Easter Monday"),
        (date(2027, 5, 3), "May Day"),
        (date(2027, 8, 30), "Late Summer Bank Holiday"),
    ],
)
def test_england_bank_holidays_are_not_working_days(
    plain: SchoolCalendar, day: date, name: str
) -> None:
    assert day.weekday() < 5
    assert not plain.is_working_day(day)
    assert plain.closure_on(day) == name


def test_next_working_day_skips_christmas_bank_holidays_and_weekend(plain: SchoolCalendar) -> None:
    assert plain.is_working_day(date(2026, 12, 24))
    assert plain.next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)
    assert plain.next_working_day(date(2026, 12, 24), include_today=False) == date(2026, 12, 29)


def test_a_closure_from_a_file_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yml"
    path.write_text(
        "name: Test trust\n"
        "closures:\n"
        "  - {name: Trust training week, from: 2026-11-23, to: 2026-11-27}\n"
        "  - {name: INSET day, on: 2026-12-01}\n"
    )
    calendar = load_calendar(Settings(holidays_file=str(path)))
    assert calendar.name == "Test trust"
    assert not calendar.is_working_day(date(2026, 11, 23))
    assert not calendar.is_working_day(date(2026, 11, 27))
    assert calendar.closure_on(date(2026, 11, 25)) == "Trust training week"
    assert calendar.is_working_day(date(2026, 11, 30))
    assert calendar.closure_on(date(2026, 12, 1)) == "INSET day"
    assert calendar.next_working_day(date(2026, 11, 23)) == date(2026, 11, 30)
    assert calendar.next_working_day(date(2026, 11, 30), include_today=False) == date(2026, 12, 2)


def test_the_shipped_example_loads_and_its_christmas_holiday_is_not_working(
    example: SchoolCalendar,
) -> None:
    assert example.name and "example" in example.name.lower()
    assert example.is_working_day(date(2026, 12, 18))
    for day in (date(2026, 12, 21), date(2026, 12, 23), date(2026, 12, 31)):
        assert not example.is_working_day(day)
        assert example.closure_on(day) == "Christmas holiday"
    # The file's name wins over the bank holiday's when both apply.
    assert example.closure_on(date(2026, 12, 25)) == "Christmas holiday"
    assert example.closure_on(date(2027, 1, 4)) == "INSET day"
    assert example.next_working_day(date(2026, 12, 19)) == date(2027, 1, 5)
    assert example.closure_on(date(2026, 10, 28)) == "Autumn half-term"
    assert example.closure_on(date(2027, 8, 2)) == "Summer holiday 2027"
    assert example.is_working_day(date(2027, 7, 21))


def test_load_calendar_uses_time_zone_and_working_hours_and_no_file() -> None:
    calendar = load_calendar(
        Settings(timezone="Europe/London", working_hours=(time(9), time(15, 30)))
    )
    assert calendar.closures == ()
    assert calendar.tz == LONDON
    assert calendar.working_hours == (time(9), time(15, 30))
    assert calendar.is_working_day(date(2026, 12, 21))


def test_working_hours_must_open_before_they_close() -> None:
    with pytest.raises(CalendarError, match="open before they close"):
        SchoolCalendar(LONDON, working_hours=(time(17), time(8)))


# Local times and the clock changes


@pytest.mark.parametrize(
    ("before", "after", "offset_before", "offset_after"),
    [
        (date(2026, 3, 27), date(2026, 3, 30), 0, 1),  # clocks forward Sunday 29 March 2026
        (date(2026, 10, 23), date(2026, 10, 26), 1, 0),  # clocks back Sunday 25 October 2026
        (date(2027, 3, 25), date(2027, 3, 30), 0, 1),  # forward 28 March 2027 (Easter Sunday)
        (date(2027, 10, 29), date(2027, 11, 1), 1, 0),  # clocks back Sunday 31 October 2027
    ],
)
def test_a_0930_schedule_stays_0930_local_across_the_clock_change(
    plain: SchoolCalendar, before: date, after: date, offset_before: int, offset_after: int
) -> None:
    first = plain.schedule_on_working_day(before, CHECKIN)
    second = plain.next_working_instant(first, CHECKIN)
    assert second.date() == after
    for instant, offset in ((first, offset_before), (second, offset_after)):
        assert instant.tzinfo is UTC
        local = instant.astimezone(LONDON)
        assert local.time() == CHECKIN
        assert local.utcoffset() == timedelta(hours=offset)
        assert instant.time() == time(9 - offset, 30)


def test_at_local_gives_exact_utc_instants_either_side_of_the_change(
    plain: SchoolCalendar,
) -> None:
    assert plain.at_local(date(2026, 3, 27), CHECKIN) == datetime(2026, 3, 27, 9, 30, tzinfo=UTC)
    assert plain.at_local(date(2026, 3, 30), CHECKIN) == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)
    assert plain.at_local(date(2026, 10, 23), CHECKIN) == datetime(2026, 10, 23, 8, 30, tzinfo=UTC)
    assert plain.at_local(date(2026, 10, 26), CHECKIN) == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)


def test_at_local_handles_skipped_and_repeated_times(plain: SchoolCalendar) -> None:
    # 01:30 does not happen on 29 March 2026: it moves on by the gap, to 02:30 BST.
    skipped = plain.at_local(date(2026, 3, 29), time(1, 30))
    assert skipped == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert skipped.astimezone(LONDON).time() == time(2, 30)
    # 01:30 happens twice on 25 October 2026: the first time, still in BST.
    repeated = plain.at_local(date(2026, 10, 25), time(1, 30))
    assert repeated == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert repeated.astimezone(LONDON).utcoffset() == timedelta(hours=1)


def test_schedule_on_working_day_moves_forward_past_closures(example: SchoolCalendar) -> None:
    assert example.schedule_on_working_day(date(2026, 10, 24), CHECKIN) == datetime(
        2026, 11, 2, 9, 30, tzinfo=UTC
    )
    assert example.schedule_on_working_day(date(2026, 11, 24), CHECKIN) == datetime(
        2026, 11, 24, 9, 30, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("now", "until"),
    [
        (london(2026, 11, 24, 9, 0), None),  # a Tuesday morning: working time
        (london(2026, 11, 24, 17, 0), None),  # closing time itself
        (london(2026, 11, 24, 17, 4), None),  # a run a few minutes late
        (london(2026, 11, 24, 7, 0), london(2026, 11, 24, 9, 30)),  # before opening
        (london(2026, 11, 24, 20, 0), london(2026, 11, 25, 9, 30)),  # the evening
        (london(2026, 11, 28, 10, 0), london(2026, 11, 30, 9, 30)),  # a Saturday
        (london(2026, 12, 28, 10, 0), london(2026, 12, 29, 9, 30)),  # Boxing Day (observed)
    ],
)
def test_work_found_due_outside_working_time_waits_for_the_next_working_morning(
    plain: SchoolCalendar, now: datetime, until: datetime | None
) -> None:
    assert plain.postponed_until(now, CHECKIN) == until


def test_school_holidays_postpone_to_the_first_school_day(example: SchoolCalendar) -> None:
    # Christmas holiday, then INSET on Monday 4 January: Tuesday 5 January.
    assert example.postponed_until(london(2026, 12, 23, 10, 0), CHECKIN) == london(
        2027, 1, 5, 9, 30
    )


def test_a_time_outside_working_hours_postpones_to_the_next_opening(
    plain: SchoolCalendar,
) -> None:
    # CHECKIN_TIME 07:00 with hours from 08:00: never postponed again and again.
    until = plain.postponed_until(london(2026, 11, 28, 10, 0), time(7, 0))
    assert until == london(2026, 11, 30, 8, 0)
    assert plain.postponed_until(until, time(7, 0)) is None


def test_next_working_instant_is_strictly_after(example: SchoolCalendar) -> None:
    tuesday = date(2026, 11, 24)
    assert example.next_working_instant(london(2026, 11, 24, 9, 0), CHECKIN) == example.at_local(
        tuesday, CHECKIN
    )
    assert example.next_working_instant(london(2026, 11, 24, 9, 30), CHECKIN) == example.at_local(
        date(2026, 11, 25), CHECKIN
    )
    assert example.next_working_instant(london(2026, 12, 18, 10, 0), CHECKIN) == example.at_local(
        date(2027, 1, 5), CHECKIN
    )


def test_naive_datetimes_are_refused(plain: SchoolCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        plain.next_working_instant(datetime(2026, 11, 24, 9), CHECKIN)
    with pytest.raises(ValueError, match="timezone-aware"):
        plain.add_working_hours(datetime(2026, 11, 24, 9), 1)


# Working hours


def test_48_working_hours_from_friday_afternoon(plain: SchoolCalendar) -> None:
    # 1h on Friday, then 9h a day Monday to Friday (46h), then 2h the next Monday.
    friday = london(2026, 11, 27, 16, 0)
    assert plain.add_working_hours(friday, 48) == london(2026, 12, 7, 10, 0)
    assert plain.add_working_hours(friday, 3) == london(2026, 11, 30, 10, 0)
    assert plain.working_hours_between(friday, london(2026, 12, 7, 10, 0)) == pytest.approx(48)


def test_add_working_hours_skips_bank_holidays(
    plain: SchoolCalendar, example: SchoolCalendar
) -> None:
    christmas_eve = london(2026, 12, 24, 16, 0)
    assert plain.add_working_hours(christmas_eve, 2) == london(2026, 12, 29, 9, 0)
    # In the example the Christmas holiday has begun, then 4 January is an INSET day.
    assert example.add_working_hours(london(2026, 12, 18, 16, 0), 2) == london(2027, 1, 5, 9, 0)
    assert example.add_working_hours(christmas_eve, 2) == london(2027, 1, 5, 10, 0)
    # Easter 2027: Thursday, then Good Friday and Easter Monday off.
    assert plain.add_working_hours(london(2027, 3, 25, 16, 30), 1) == london(2027, 3, 30, 8, 30)


def test_add_working_hours_skips_the_october_half_term(example: SchoolCalendar) -> None:
    friday = london(2026, 10, 23, 16, 0)  # BST
    deadline = example.add_working_hours(friday, 2)
    assert deadline == london(2026, 11, 2, 9, 0)  # GMT, after half-term and the clock change
    assert deadline == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert example.working_hours_between(friday, deadline) == pytest.approx(2)


def test_add_working_hours_from_outside_hours_counts_from_the_next_opening(
    plain: SchoolCalendar,
) -> None:
    assert plain.add_working_hours(london(2026, 11, 24, 6, 0), 1) == london(2026, 11, 24, 9, 0)
    assert plain.add_working_hours(london(2026, 11, 24, 20, 0), 1) == london(2026, 11, 25, 9, 0)
    assert plain.add_working_hours(london(2026, 11, 28, 12, 0), 1) == london(2026, 11, 30, 9, 0)
    assert plain.add_working_hours(london(2026, 11, 28, 12, 0), 0) == london(2026, 11, 30, 8, 0)


def test_add_working_hours_exactly_at_closing_time(plain: SchoolCalendar) -> None:
    assert plain.add_working_hours(london(2026, 11, 24, 17, 0), 1) == london(2026, 11, 25, 9, 0)
    assert plain.add_working_hours(london(2026, 11, 27, 17, 0), 1) == london(2026, 11, 30, 9, 0)
    # Closing time counts as outside hours, so even zero hours start from the next opening.
    assert plain.add_working_hours(london(2026, 11, 24, 17, 0), 0) == london(2026, 11, 25, 8, 0)
    # Using up the day exactly ends at closing, not the next morning.
    assert plain.add_working_hours(london(2026, 11, 24, 16, 0), 1) == london(2026, 11, 24, 17, 0)
    assert plain.add_working_hours(london(2026, 11, 24, 8, 0), 9) == london(2026, 11, 24, 17, 0)
    assert plain.add_working_hours(london(2026, 11, 24, 8, 0), 9.5) == london(2026, 11, 25, 8, 30)


def test_add_working_hours_returns_utc_and_refuses_negative_hours(plain: SchoolCalendar) -> None:
    assert plain.add_working_hours(london(2026, 11, 24, 10, 0), 1).tzinfo is UTC
    with pytest.raises(ValueError, match="negative"):
        plain.add_working_hours(london(2026, 11, 24, 10, 0), -1)


def test_working_hours_between(plain: SchoolCalendar) -> None:
    monday = london(2026, 11, 23, 12, 0)
    assert plain.working_hours_between(monday, london(2026, 11, 23, 12, 45)) == pytest.approx(0.75)
    assert plain.working_hours_between(monday, london(2026, 11, 30, 12, 0)) == pytest.approx(45)
    assert plain.working_hours_between(london(2026, 11, 28), london(2026, 11, 29)) == 0
    assert plain.working_hours_between(london(2026, 11, 30, 12, 0), monday) == pytest.approx(-45)
    assert plain.working_hours_between(london(2026, 11, 23, 18), london(2026, 11, 24, 7)) == 0


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=60 * 200),
)
def test_working_hours_between_undoes_add_working_hours(start: datetime, minutes: int) -> None:
    calendar = SchoolCalendar(
        LONDON, closures=[Closure("Half-term", date(2026, 10, 26), date(2026, 10, 30))]
    )
    end = calendar.add_working_hours(start, minutes / 60)
    assert end >= start
    assert calendar.is_working_day(end.astimezone(LONDON).date())
    assert time(8) <= end.astimezone(LONDON).time() <= time(17)
    assert calendar.working_hours_between(start, end) == pytest.approx(minutes / 60, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 400),
)
def test_working_hours_between_long_spans_across_years_and_clock_changes(
    start: datetime, minutes: int
) -> None:
    """Spans of up to a year and more, with working hours that the clock changes shorten or
    lengthen (from 00:30): the running totals agree with walking day by day."""
    calendar = SchoolCalendar(
        LONDON,
        closures=[Closure("Half-term", date(2026, 10, 26), date(2026, 10, 30))],
        working_hours=(time(0, 30), time(23, 30)),
    )
    end = calendar.add_working_hours(start, minutes / 60)
    assert calendar.working_hours_between(start, end) == pytest.approx(minutes / 60, abs=1e-6)


# Holidays files


def test_good_files_parse_in_flow_and_block_style() -> None:
    loaded = parse_holidays(
        "closures:\n"
        "  - name: Easter holiday\n"
        "    from: 2027-03-29\n"
        "    to: '2027-04-09'\n"
        "  - {name: INSET day, on: 2027-04-12}\n"
        "  - {name: Overlapping, from: 2027-04-01, to: 2027-04-02}\n"
    )
    assert loaded.name is None
    assert loaded.closures == [
        Closure("Easter holiday", date(2027, 3, 29), date(2027, 4, 9)),
        Closure("INSET day", date(2027, 4, 12), date(2027, 4, 12)),
        Closure("Overlapping", date(2027, 4, 1), date(2027, 4, 2)),
    ]
    assert parse_holidays("closures: []").closures == []


def test_the_shipped_example_reads_cleanly() -> None:
    loaded = read_holidays_file(EXAMPLE_HOLIDAYS_FILE)
    names = [closure.name for closure in loaded.closures]
    for expected in ("Autumn half-term", "Christmas holiday", "Easter holiday", "INSET day"):
        assert expected in names
    assert min(c.first_day for c in loaded.closures) == date(2026, 7, 22)
    assert max(c.last_day for c in loaded.closures) == date(2027, 8, 31)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "closures:\n  - {name: Christmas holiday, from: 2026-12-21, to: 2026-12-01}\n",
            "closure 1 ('Christmas holiday'): 'to' (2026-12-01) is before 'from' (2026-12-21)",
        ),
        ("closures:\n  - {name: Half-term}\n", "closure 1 ('Half-term') has no dates"),
        (
            "closures:\n  - {name: Half-term, from: 2026-10-26}\n",
            "closure 1 ('Half-term') has no 'to' date",
        ),
        (
            "closures:\n  - {name: INSET day, on: 04/01/2027}\n",
            "closure 1 ('INSET day'): 'on' must be a date written YYYY-MM-DD, not '04/01/2027'",
        ),
        (
            "closures:\n  - {name: Half-term, from: 2027-02-15, to: 2027-02-30}\n",
            "closure 1 ('Half-term'): 'to' is not a real date: 2027-02-30",
        ),
        (
            "closures:\n  - {name: Half-term, from: 26 October, to: 2026-10-30}\n",
            "'from' must be a date written YYYY-MM-DD, not '26 October'",
        ),
        ("closures:\n  - {from: 2026-10-26, to: 2026-10-30}\n", "closure 1 has no name"),
        (
            "closures:\n  - {name: Half-term, form: 2026-10-26, to: 2026-10-30}\n",
            "closure 1 ('Half-term') has unknown key(s) 'form'",
        ),
        (
            "closures:\n  - {name: INSET day, on: 2027-01-04, from: 2027-01-04}\n",
            "closure 1 ('INSET day') has 'on' and 'from'/'to'",
        ),
        ("closures:\n  - Christmas\n", "closure 1 must look like"),
        ("closures: [{name: x, on: 2027-01-04}\n", "is not valid YAML at line"),
        ("", "is empty"),
        ("name: Our trust\n", "'closures:' is missing"),
        ("closures: {name: x}\n", "'closures:' must be a list"),
        ("- {name: x, on: 2027-01-04}\n", "must be a mapping"),
        ("name: x\nclosure: []\n", "unknown top-level key(s) 'closure'"),
    ],
)
def test_bad_holidays_files_give_clear_errors(text: str, expected: str) -> None:
    with pytest.raises(CalendarError) as caught:
        parse_holidays(text, source="test.yml")
    assert isinstance(caught.value, ValueError)
    assert expected in str(caught.value)
    assert str(caught.value).startswith("test.yml")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yml"
    path.write_text(
        "closures:\n"
        "  - {name: Fine, on: 2026-11-02}\n"
        "  - {name: Backwards, from: 2026-12-21, to: 2026-12-01}\n"
        "  - {on: 2027-13-01}\n"
    )
    with pytest.raises(CalendarError) as caught:
        read_holidays_file(path)
    problems = caught.value.problems
    assert len(problems) == 3
    assert problems[0].startswith(f"{path}: closure 2 ('Backwards')")
    assert "closure 3 has no name" in problems[1]
    assert "closure 3: 'on' is not a real date: 2027-13-01" in problems[2]


def test_a_missing_file_gives_a_calendar_error(tmp_path: Path) -> None:
    with pytest.raises(CalendarError, match="cannot be read"):
        read_holidays_file(tmp_path / "nope.yml")
    with pytest.raises(CalendarError, match="cannot be read"):
        load_calendar(Settings(holidays_file=str(tmp_path / "nope.yml")))
