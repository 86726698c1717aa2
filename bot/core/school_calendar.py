"""The school calendar: working days, local wall times and working hours, pure and clock-free.

Weekends and England's bank holidays (from the `holidays` package) are never working days;
closures (holidays, half-terms, INSET days) come from the YAML file described in
docs/holidays.md. Every function takes the instants it needs and returns UTC datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import yaml
from dateutil.easter import easter

EXAMPLE_HOLIDAYS_FILE = Path(__file__).parents[1] / "data" / "holidays-england-2026-27.yml"

_ONE_DAY = timedelta(days=1)
_HOUR = timedelta(hours=1)
# How late a once-a-minute scheduled run may come and still count as in working time.
LATE_RUN_ALLOWANCE = timedelta(minutes=5)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_FILE_KEYS = ("name", "closures")
_CLOSURE_KEYS = ("name", "from", "to", "on")


class CalendarError(ValueError):
    """A holidays file (or calendar setting) is wrong; `problems` holds one line per mistake."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Closure:
    """A named run of days, first to last inclusive, when schools are shut."""

    name: str
    first_day: date
    last_day: date

    def covers(self, d: date) -> bool:
        """True when `d` falls within this closure."""
        return self.first_day <= d <= self.last_day


@dataclass(frozen=True)
class HolidaysFile:
    """What a holidays file holds: an optional title and its closures, in file order."""

    name: str | None
    closures: list[Closure]


@dataclass(frozen=True)
class HalfTerm:
    """A half term: the days from one break to the next, first to last inclusive."""

    first_day: date
    last_day: date
    label: str  # e.g. "Autumn 2 2026"

    def covers(self, d: date) -> bool:
        """True when `d` falls within this half term."""
        return self.first_day <= d <= self.last_day


# Without a holidays file, half terms run between typical English break dates.
_NOMINAL_STARTS = ((1, 1, "Spring 1"), (2, 22, "Spring 2"), (6, 1, "Summer 2"), (9, 1, "Autumn 1"))
_NOMINAL_STARTS_AUTUMN_2 = (11, 1, "Autumn 2")
# A closure of at least this many weekdays is a break between half terms (not an INSET day).
BREAK_WEEKDAYS = 3
_HALF_TERM_REACH = timedelta(days=140)


class SchoolCalendar:
    """Working days and working hours in one time zone, given closures and bank holidays."""

    def __init__(
        self,
        tz: ZoneInfo,
        *,
        closures: Iterable[Closure] = (),
        working_hours: tuple[time, time] = (time(8), time(17)),
        name: str | None = None,
    ) -> None:
        opening, closing = working_hours
        if opening.tzinfo is not None or closing.tzinfo is not None:
            raise CalendarError(["working hours must be local wall times without a time zone"])
        if opening >= closing:
            raise CalendarError(
                [f"working hours must open before they close, not {opening:%H:%M}-{closing:%H:%M}"]
            )
        self.tz = tz
        self.closures: tuple[Closure, ...] = tuple(closures)
        self.working_hours = (opening, closing)
        self.name = name
        self._bank_holidays: dict[int, dict[date, str]] = {}
        # Per year: open seconds of its first n days, at index n (`_running_open_seconds`).
        self._open_seconds: dict[int, list[float]] = {}
        self._spans: dict[date, tuple[datetime, datetime]] = {}  # a day's opening and closing
        # The same for working days only (None for the rest): the span `_open_within` needs.
        self._working_spans: dict[date, tuple[datetime, datetime] | None] = {}

    def __repr__(self) -> str:
        opening, closing = self.working_hours
        return (
            f"SchoolCalendar({self.tz.key!r}, {len(self.closures)} closures, "
            f"{opening:%H:%M}-{closing:%H:%M}, name={self.name!r})"
        )

    # Days

    def bank_holiday_on(self, d: date) -> str | None:
        """The name of England's bank holiday on `d` (e.g. "Boxing Day (observed)"), or None."""
        year = self._bank_holidays.get(d.year)
        if year is None:
            import holidays  # only when a date is first asked about: a tenth of a second saved

            found = holidays.country_holidays("GB", subdiv="ENG", years=d.year)
            year = self._bank_holidays[d.year] = {day: str(name) for day, name in found.items()}
        return year.get(d)

    def closure_on(self, d: date) -> str | None:
        """Why schools are shut on `d`, for messages: the closure's name, else the bank holiday's.

        None on ordinary days and on plain weekends.
        """
        for closure in self.closures:
            if closure.covers(d):
                return closure.name
        return self.bank_holiday_on(d)

    def is_working_day(self, d: date) -> bool:
        """True for a weekday that is neither a bank holiday nor inside a closure."""
        return d.weekday() < 5 and self.closure_on(d) is None

    def next_working_day(self, d: date, *, include_today: bool = True) -> date:
        """The first working day on or after `d` (strictly after it when `include_today=False`)."""
        day = d if include_today else d + _ONE_DAY
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def half_term_of(self, d: date) -> HalfTerm:
        """The half term containing `d`: from the end of the last break (a closure of at least
        three weekdays: a half-term or holiday) to the start of the next. Without such breaks
        near `d`, the typical English dates stand in (see `nominal_half_term`)."""
        breaks = [c for c in self.closures if _weekdays(c) >= BREAK_WEEKDAYS]
        before = [
            c.last_day for c in breaks if c.last_day < d and d - c.last_day < _HALF_TERM_REACH
        ]
        after = [
            c.first_day for c in breaks if c.first_day > d and c.first_day - d < _HALF_TERM_REACH
        ]
        inside = [c for c in breaks if c.covers(d)]
        if inside:  # a day in a break counts with the half term after it
            return self.half_term_of(max(c.last_day for c in inside) + _ONE_DAY)
        nominal = nominal_half_term(d)
        first = max(before) + _ONE_DAY if before else nominal.first_day
        last = min(after) - _ONE_DAY if after else nominal.last_day
        return HalfTerm(first, last, nominal_half_term(self.next_working_day(first)).label)

    # Instants

    def at_local(self, d: date, t: time) -> datetime:
        """The UTC instant when local clocks show `t` on `d`.

        A time skipped when the clocks go forward (01:30 on the last Sunday of March in London)
        moves on by the gap (to 02:30 BST); a time that happens twice when they go back takes
        the first occurrence. Both follow from `fold=0`.
        """
        if t.tzinfo is not None:
            raise ValueError(f"the time must be a local wall time without a time zone, not {t!r}")
        local = datetime.combine(d, t.replace(fold=0), tzinfo=self.tz)
        return local.astimezone(UTC)

    def local(self, instant: datetime) -> datetime:
        """`instant` as local wall time in this calendar's time zone."""
        return _aware(instant, "instant").astimezone(self.tz)

    def next_working_instant(self, after: datetime, at: time) -> datetime:
        """The first working day's local `at` that is strictly after `after`."""
        after = _aware(after, "after")
        day = self.next_working_day(self.local(after).date())
        while (candidate := self.at_local(day, at)) <= after:
            day = self.next_working_day(day, include_today=False)
        return candidate

    def is_working_time(self, instant: datetime) -> bool:
        """True on a working day from opening to closing time, both included."""
        instant = _aware(instant, "instant")
        day = self.local(instant).date()
        if not self.is_working_day(day):
            return False
        opens, closes = self._open_span(day)
        return opens <= instant <= closes

    def next_working_time_at(self, after: datetime, at: time) -> datetime:
        """Local `at` on the first working day it comes strictly after `after`; the next
        opening instead when `at` is outside working hours."""
        candidate = self.next_working_instant(after, at)
        if self.is_working_time(candidate):
            return candidate
        return self.add_working_hours(candidate, 0)

    def postponed_until(self, now: datetime, at: time) -> datetime | None:
        """When non-urgent work found due at `now` (after downtime) should go instead: None in
        working time, or a few minutes past closing (a scheduled run coming a little late);
        else `next_working_time_at(now, at)`."""
        if self.is_working_time(now) or self.is_working_time(now - LATE_RUN_ALLOWANCE):
            return None
        return self.next_working_time_at(now, at)

    def schedule_on_working_day(self, d: date, at: time) -> datetime:
        """Local `at` on `d`, or on the next working day when `d` is not one."""
        return self.at_local(self.next_working_day(d), at)

    # Working hours

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant `hours` of working time after `start`, counting only open hours.

        A start outside working hours counts from the next opening; a deadline that uses up a
        day exactly ends at that day's closing time rather than the next morning.
        """
        start = _aware(start, "start")
        if hours < 0:
            raise ValueError(f"hours must not be negative, not {hours}")
        remaining = timedelta(hours=hours)
        day = self.local(start).date()
        while True:
            if self.is_working_day(day):
                opens, closes = self._open_span(day)
                begin = max(start, opens)
                if begin < closes:
                    if remaining <= closes - begin:
                        return begin + remaining
                    remaining -= closes - begin
            day += _ONE_DAY

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Hours of working time from `a` to `b`; negative when `b` is before `a`."""
        a, b = _aware(a, "a"), _aware(b, "b")
        if b < a:
            return -self.working_hours_between(b, a)
        first, last = a.astimezone(self.tz).date(), b.astimezone(self.tz).date()
        if first == last:
            return self._open_within(first, a, b) / _HOUR
        edges = self._open_within(first, a, b) + self._open_within(last, a, b)
        # The days between are open whole: their hours come from per-year running totals.
        between = self._open_seconds_from(first + _ONE_DAY, last)
        return edges / _HOUR + between / 3600

    def _open_within(self, d: date, a: datetime, b: datetime) -> timedelta:
        """The open time of day `d` that falls between instants `a` and `b`."""
        if d in self._working_spans:
            span = self._working_spans[d]
        else:
            span = self._working_spans[d] = self._open_span(d) if self.is_working_day(d) else None
        if span is None:
            return timedelta()
        opens, closes = span
        return max(timedelta(), min(b, closes) - max(a, opens))

    def _open_seconds_from(self, first: date, stop: date) -> float:
        """Seconds of open time on the working days from `first` up to, not including, `stop`."""
        total = 0.0
        while first < stop:
            running = self._running_open_seconds(first.year)
            new_year = date(first.year, 1, 1).toordinal()  # the year's days count from here
            until = min(stop, date(first.year + 1, 1, 1))
            total += running[until.toordinal() - new_year] - running[first.toordinal() - new_year]
            first = until
        return total

    def _running_open_seconds(self, year: int) -> list[float]:
        """Open seconds of the year's first n days, at index n (computed once a year)."""
        running = self._open_seconds.get(year)
        if running is None:
            running = [0.0]
            day = date(year, 1, 1)
            while day.year == year:
                opens, closes = self._open_span(day)
                open_today = (closes - opens).total_seconds() if self.is_working_day(day) else 0
                running.append(running[-1] + open_today)
                day += _ONE_DAY
            self._open_seconds[year] = running
        return running

    def _open_span(self, d: date) -> tuple[datetime, datetime]:
        span = self._spans.get(d)
        if span is None:
            opening, closing = self.working_hours
            span = self._spans[d] = (self.at_local(d, opening), self.at_local(d, closing))
        return span


def nominal_half_term(d: date) -> HalfTerm:
    """The typical English half term containing `d`: Autumn 1 from 1 September, Autumn 2
    from 1 November, Spring 1 from 1 January, Spring 2 from 22 February, Summer 1 from Easter
    Monday, Summer 2 from 1 June (each to the day before the next)."""
    year = d.year
    starts = [(date(year, m, day), name) for m, day, name in _NOMINAL_STARTS]
    m, day, name = _NOMINAL_STARTS_AUTUMN_2
    starts += [(date(year, m, day), name), (easter(year) + _ONE_DAY, "Summer 1")]
    starts.append((date(year + 1, 1, 1), "Spring 1"))
    starts.sort()
    for (first, label), (following, _) in pairwise(starts):
        if first <= d < following:
            return HalfTerm(first, following - _ONE_DAY, f"{label} {year}")
    raise AssertionError("unreachable: the starts cover the whole year")


def _weekdays(closure: Closure) -> int:
    days = (closure.last_day - closure.first_day).days + 1
    return sum(1 for n in range(days) if (closure.first_day + timedelta(days=n)).weekday() < 5)


class CalendarSettings(Protocol):
    """What the calendar reads from `bot.core.settings.Settings` (which checks the holidays
    file with this module when it is read, so this one does not import it)."""

    @property
    def tz(self) -> ZoneInfo: ...

    @property
    def working_hours(self) -> tuple[time, time]: ...

    @property
    def holidays_file(self) -> str | None: ...


def load_calendar(settings: CalendarSettings) -> SchoolCalendar:
    """Build the calendar from settings: time zone, working hours and `HOLIDAYS_FILE` if set."""
    loaded = read_holidays_file(settings.holidays_file) if settings.holidays_file else None
    return SchoolCalendar(
        settings.tz,
        closures=loaded.closures if loaded else (),
        working_hours=settings.working_hours,
        name=loaded.name if loaded else None,
    )


def read_holidays_file(path: str | Path, *, source: str | None = None) -> HolidaysFile:
    """Read and check a holidays file; raises `CalendarError` naming every bad entry, each
    problem starting with `source` (default: the path)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        where = source or f"holidays file {str(path)!r}"
        raise CalendarError([f"{where} cannot be read: {exc}"]) from exc
    return parse_holidays(text, source=source or str(path))


def parse_holidays(text: str, *, source: str = "holidays file") -> HolidaysFile:
    """Parse the YAML text of a holidays file; `source` names it in error messages."""
    try:
        data = yaml.load(text, Loader=_HolidaysLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CalendarError([f"{source} is not valid YAML{where}: {problem}"]) from exc

    if data is None:
        raise CalendarError([f"{source} is empty; it needs a 'closures:' list"])
    if not isinstance(data, dict):
        raise CalendarError([f"{source} must be a mapping with a 'closures:' list at the top"])

    problems: list[str] = []
    unknown = [str(key) for key in data if key not in _FILE_KEYS]
    if unknown:
        problems.append(
            f"{source}: unknown top-level key(s) {', '.join(map(repr, unknown))}; "
            f"expected {' and '.join(map(repr, _FILE_KEYS))}"
        )
    name = data.get("name")
    if name is not None and not (isinstance(name, str) and name.strip()):
        problems.append(f"{source}: 'name' must be some text, not {name!r}")
    entries = data.get("closures")
    closures: list[Closure] = []
    if entries is None:
        problems.append(f"{source}: 'closures:' is missing (a list of closures, may be empty)")
    elif not isinstance(entries, list):
        problems.append(f"{source}: 'closures:' must be a list of entries, each starting with '-'")
    else:
        for number, entry in enumerate(entries, start=1):
            closure = _parse_closure(entry, f"{source}: closure {number}", problems)
            if closure:
                closures.append(closure)
    if problems:
        raise CalendarError(problems)
    return HolidaysFile(name=name.strip() if isinstance(name, str) else None, closures=closures)


def _parse_closure(entry: Any, label: str, problems: list[str]) -> Closure | None:
    """Check one `closures:` entry, adding any problems; returns it when it is sound."""
    if not isinstance(entry, dict):
        problems.append(
            f"{label} must look like {{name: ..., from: YYYY-MM-DD, to: YYYY-MM-DD}} "
            f"or {{name: ..., on: YYYY-MM-DD}}, not {entry!r}"
        )
        return None
    name = entry.get("name")
    if isinstance(name, str) and name.strip():
        label = f"{label} ({name.strip()!r})"
    count = len(problems)
    if not (isinstance(name, str) and name.strip()):
        problems.append(f"{label} has no name (add 'name: ...', e.g. 'name: Autumn half-term')")
    unknown = [str(key) for key in entry if key not in _CLOSURE_KEYS]
    if unknown:
        problems.append(
            f"{label} has unknown key(s) {', '.join(map(repr, unknown))}; "
            "use 'name' with 'from' and 'to', or 'name' with 'on'"
        )

    first = last = None
    if "on" in entry:
        if "from" in entry or "to" in entry:
            problems.append(f"{label} has 'on' and 'from'/'to'; use 'on' for one day, else both")
        else:
            first = last = _parse_date(entry["on"], "on", label, problems)
    elif "from" in entry or "to" in entry:
        for key in ("from", "to"):
            if key not in entry:
                problems.append(f"{label} has no '{key}' date (ranges need both 'from' and 'to')")
        if "from" in entry:
            first = _parse_date(entry["from"], "from", label, problems)
        if "to" in entry:
            last = _parse_date(entry["to"], "to", label, problems)
        if first and last and last < first:
            problems.append(f"{label}: 'to' ({last}) is before 'from' ({first})")
    else:
        problems.append(f"{label} has no dates (give 'from' and 'to', or 'on' for a single day)")

    if len(problems) > count or first is None or last is None:
        return None
    return Closure(name=str(name).strip(), first_day=first, last_day=last)


def _parse_date(raw: Any, key: str, label: str, problems: list[str]) -> date | None:
    """Parse a YYYY-MM-DD date, adding a problem naming the entry and key when it is not one."""
    text = str(raw).strip() if raw is not None else ""
    if not _ISO_DATE.fullmatch(text):
        problems.append(f"{label}: '{key}' must be a date written YYYY-MM-DD, not {raw!r}")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append(f"{label}: '{key}' is not a real date: {text}")
        return None


def _aware(value: datetime, name: str) -> datetime:
    """`value` in UTC; naive datetimes are refused rather than guessed at."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not naive {value!r}")
    return value.astimezone(UTC)


class _HolidaysLoader(yaml.SafeLoader):
    """PyYAML's safe loader, less two YAML 1.1 surprises for this format.

    Dates stay text, so they are checked here with friendly messages, and only true/false are
    booleans: YAML 1.1 reads a bare `on:` key as the boolean True.
    """


_HolidaysLoader.yaml_implicit_resolvers = {
    first: [
        (tag, pattern)
        for tag, pattern in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_HolidaysLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
