"""Supply and demand, for coordinators deciding where to designate and train more supporters.

Figures over a period (an English school term, or any dates), computed from the data already
held: time from request to acceptance in working days (median and 90th percentile, by area of
need and by region), requests that found nobody, supporters at or near capacity, and demand
against free places for each area of need × region, with the largest gaps in one sentence
each. Counts and ids only: no request text and no names.

Terms: autumn is 1 September to 31 December, spring 1 January to Easter Sunday, summer Easter
Monday to 31 August, so every day belongs to exactly one term.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from dateutil.easter import easter
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, func, select

from bot.core.clock import date_words
from bot.core.school_calendar import SchoolCalendar
from bot.members.service import loads
from bot.reach.people import user_id_of
from storage.models import (
    CANCELLED,
    EXPIRED,
    SUPPORTER_ROLES,
    ExpertiseTag,
    Person,
    PersonExpertise,
    PersonRole,
    RequestTag,
    School,
    SupportRequest,
)

LONG_WAIT_WORKING_DAYS = 10
NO_REGION = "Region not set"
TERMS = ("autumn", "spring", "summer")
GAPS_NAMED = 3


class InsightError(ValueError):
    """A period the user asked for that makes no sense (a bad term or dates the wrong way)."""


# --- periods -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """Local dates `first` to `last` inclusive, with a label for titles ("Autumn term 2026")."""

    first: date
    last: date
    label: str

    def bounds(self, calendar: SchoolCalendar) -> tuple[datetime, datetime]:
        """The period as UTC instants: local midnight starting `first` to that after `last`."""
        return (
            calendar.at_local(self.first, time(0)),
            calendar.at_local(self.last + timedelta(days=1), time(0)),
        )


def term(name: str, year: int) -> Period:
    """The named term ("autumn", "spring", "summer") of calendar year `year`."""
    sunday = easter(year)
    first, last = {
        "autumn": (date(year, 9, 1), date(year, 12, 31)),
        "spring": (date(year, 1, 1), sunday),
        "summer": (sunday + timedelta(days=1), date(year, 8, 31)),
    }[name]
    return Period(first, last, f"{name.capitalize()} term {year}")


def term_of(day: date) -> Period:
    """The term containing `day`."""
    if day.month >= 9:
        return term("autumn", day.year)
    return term("spring" if day <= easter(day.year) else "summer", day.year)


def parse_term(raw: str) -> Period:
    """Parse "autumn-2026", "autumn 2026" or "2026-autumn"; raises InsightError."""
    text = raw.strip().lower()
    match = re.fullmatch(r"(autumn|spring|summer)[\s_-]*(\d{4})", text) or re.fullmatch(
        r"(\d{4})[\s_-]*(autumn|spring|summer)", text
    )
    if not match:
        raise InsightError(f"--term must be a term and year like autumn-2026, not {raw!r}")
    name, year = sorted(match.groups(), key=lambda part: part.isdigit())
    return term(name, int(year))


def period_between(first: date, last: date) -> Period:
    """Any dates, inclusive; raises InsightError if `last` is before `first`."""
    if last < first:
        raise InsightError(f"--to ({date_words(last)}) is before --from ({date_words(first)})")
    return Period(first, last, f"{date_words(first)} to {date_words(last)}")


# --- what the report holds -----------------------------------------------------------------------
@dataclass(frozen=True)
class WaitStats:
    """Time from request to acceptance for one group, in working days."""

    key: str
    accepted: int
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class Cell:
    """One area of need × region: requests in the period against free places now."""

    tag: str
    label: str
    region: str
    demand: int  # requests made (not cancelled)
    accepted: int
    unmet: int  # not accepted (still waiting, or nobody accepted)
    long_waits: int  # waited, or have been waiting, over LONG_WAIT_WORKING_DAYS
    supply: int  # free places among available supporters with this expertise here


@dataclass(frozen=True)
class WeekCount:
    """New and accepted requests in the week starting `week_start` (a Monday)."""

    week_start: date
    new: int
    accepted: int


@dataclass
class Insight:
    """Every figure of a supply-and-demand report."""

    period: Period
    as_of: datetime
    requests: int = 0
    accepted: int = 0
    overall: WaitStats = field(default_factory=lambda: WaitStats("all", 0, None, None))
    by_tag: list[WaitStats] = field(default_factory=list)
    by_region: list[WaitStats] = field(default_factory=list)
    found_nobody: list[int] = field(default_factory=list)
    at_capacity: list[str] = field(default_factory=list)  # Slack user ids
    near_capacity: list[str] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    weekly: list[WeekCount] = field(default_factory=list)

    @property
    def gaps(self) -> list[Cell]:
        """Where support is shortest, worst first: long waits or unmet demand, few places."""
        short = [c for c in self.cells if c.long_waits or (c.unmet and c.supply == 0)]
        return sorted(short, key=lambda c: (-c.long_waits, -c.unmet, c.supply, c.label, c.region))


def gap_sentence(cell: Cell) -> str:
    """One sentence naming a gap, e.g. "No SEND supporter with capacity in the North East: 4
    requests waited over 10 working days"."""
    region = _region_phrase(cell.region)
    if cell.long_waits:
        what = f"{_requests(cell.long_waits)} waited over {LONG_WAIT_WORKING_DAYS} working days"
    else:
        what = f"{_requests(cell.unmet)} still without a supporter"
    if cell.supply == 0:
        return f"No {cell.label} supporter with capacity {region}: {what}."
    places = "1 place" if cell.supply == 1 else f"{cell.supply} places"
    return f"{cell.label} {region}: {what}, with only {places} free."


def short_label(label: str) -> str:
    """A tag's label as charts and sentences show it: its abbreviation when it has one
    ("Special educational needs and disabilities (SEND)" → "SEND")."""
    match = re.search(r"\(([^()]{1,12})\)\s*$", label)
    return match[1] if match else label


def _region_phrase(region: str) -> str:
    if region == NO_REGION:
        return "where the region is not set"
    the = "the " if region.startswith(("North", "South", "East ", "West")) else ""
    return f"in {the}{region}"


def _requests(count: int) -> str:
    return "1 request" if count == 1 else f"{count} requests"


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile: the smallest value with at least `fraction` of the values
    at or below it (so the 90th of ten values is the ninth smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def wait_stats(key: str, days: list[float]) -> WaitStats:
    """Median and 90th percentile of `days`."""
    median = statistics.median(days) if days else None
    return WaitStats(key, len(days), median, percentile(days, 0.9))


# --- computing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Request:
    id: int
    status: str
    region: str
    tags: tuple[str, ...]
    created_at: datetime
    accepted_at: datetime | None
    escalated_at: datetime | None


def build_insight(
    session: Session,
    calendar: SchoolCalendar,
    period: Period,
    *,
    now: datetime,
    weekly: bool = True,
) -> Insight:
    """Compute every figure for `period` as of `now` (reads only); the weekly counts, which
    only the charts and exports show, unless `weekly` is False."""
    start, end = period.bounds(calendar)
    requests = _requests_made(session, start, end)
    labels = {
        slug: short_label(label)
        for slug, label in session.exec(select(ExpertiseTag.slug, ExpertiseTag.label)).all()
    }
    insight = Insight(period=period, as_of=now)
    counted = [r for r in requests if r.status != CANCELLED]
    insight.requests = len(counted)
    days = {r.id: _working_days(calendar, r.created_at, r.accepted_at) for r in counted}
    accepted = [r for r in counted if r.accepted_at is not None]
    insight.accepted = len(accepted)
    insight.overall = wait_stats("all", [days[r.id] for r in accepted])
    insight.by_tag = _grouped(accepted, days, lambda r: [labels.get(t, t) for t in r.tags])
    insight.by_region = _grouped(accepted, days, lambda r: [r.region])
    insight.found_nobody = sorted(
        r.id for r in counted if r.accepted_at is None and (r.status == EXPIRED or r.escalated_at)
    )
    free, insight.at_capacity, insight.near_capacity = _capacity(session, calendar, now)
    waited = {
        r.id: days[r.id]
        if r.accepted_at is not None
        else _working_days(calendar, r.created_at, now)
        for r in counted
    }
    insight.cells = _cells(session, counted, waited, free, labels)
    if weekly:
        insight.weekly = _weekly(session, calendar, period, counted, start, min(end, now))
    return insight


def _requests_made(session: Session, start: datetime, end: datetime) -> list[_Request]:
    rows = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() for up to 4 columns
            col(SupportRequest.id),
            col(SupportRequest.status),
            col(School.region),
            col(SupportRequest.created_at),
            col(SupportRequest.accepted_at),
            col(SupportRequest.escalated_at),
        )
        .join(School, col(School.id) == col(SupportRequest.school_id), isouter=True)
        .where(SupportRequest.created_at >= start, SupportRequest.created_at < end)
        .order_by(col(SupportRequest.id))
    ).all()
    tags: dict[int, list[str]] = defaultdict(list)
    for request_id, slug in session.exec(
        select(RequestTag.request_id, RequestTag.tag_slug)
        .join(SupportRequest, col(SupportRequest.id) == col(RequestTag.request_id))
        .where(SupportRequest.created_at >= start, SupportRequest.created_at < end)
        .order_by(RequestTag.tag_slug)
    ):
        tags[request_id].append(slug)
    return [
        _Request(rid, status, region or NO_REGION, tuple(tags[rid]), created, accepted, escalated)
        for rid, status, region, created, accepted, escalated in rows
    ]


def _working_days(calendar: SchoolCalendar, start: datetime, end: datetime | None) -> float:
    if end is None:
        return 0.0
    opening, closing = calendar.working_hours
    day_hours = (datetime.combine(date.min, closing) - datetime.combine(date.min, opening)) / (
        timedelta(hours=1)
    )
    return max(0.0, calendar.working_hours_between(start, end) / day_hours)


def _grouped(
    accepted: list[_Request], days: dict[int, float], keys: Callable[[_Request], list[str]]
) -> list[WaitStats]:
    groups: dict[str, list[float]] = defaultdict(list)
    for request in accepted:
        for key in keys(request):
            groups[key].append(days[request.id])
    return sorted((wait_stats(k, v) for k, v in groups.items()), key=lambda s: s.key.lower())


class _Supporter(NamedTuple):
    """What the capacity figures need of a person: ids, places and availability, region."""

    id: int
    slack_user_id: str | None
    teams_user_id: str | None
    capacity: int
    available: bool
    away_until: date | None
    available_from: date | None  # offered nothing before this local date
    region: str | None


def _capacity(
    session: Session, calendar: SchoolCalendar, now: datetime
) -> tuple[dict[int, tuple[int, str, frozenset[str]]], list[str], list[str]]:
    """Free places per available supporter (with region and expertise); who is at capacity
    (no place left) and near it (one place left of two or more), as Slack user ids."""
    today = calendar.local(now).date()
    supporter_ids = set(
        session.exec(
            select(col(PersonRole.person_id)).where(col(PersonRole.role).in_(SUPPORTER_ROLES))
        )
    )
    active = loads(session)  # deployments led, and those joined as a colleague
    expertise: dict[int, set[str]] = defaultdict(set)
    for person_id, slug in session.exec(
        select(PersonExpertise.person_id, PersonExpertise.tag_slug)
    ):
        expertise[person_id].add(slug)
    free: dict[int, tuple[int, str, frozenset[str]]] = {}
    at, near = [], []
    for person in _people_with_regions(session):
        if person.id not in supporter_ids:
            continue
        used = int(active.get(person.id, 0))
        if used and used >= person.capacity:
            at.append(user_id_of(person))
        elif used and person.capacity >= 2 and used == person.capacity - 1:
            near.append(user_id_of(person))
        away = (
            not person.available
            or (person.away_until is not None and person.away_until >= today)
            or (person.available_from is not None and person.available_from > today)
        )
        if not away and used < person.capacity:
            free[person.id] = (
                person.capacity - used,
                person.region or NO_REGION,
                frozenset(expertise[person.id]),
            )
    return free, at, near


def _people_with_regions(session: Session) -> list[_Supporter]:
    """Everyone not erased, as plain rows (not objects: a region's directory is thousands),
    in user id order."""
    rows = session.execute(
        sql_select(
            col(Person.id),
            col(Person.slack_user_id),
            col(Person.teams_user_id),
            col(Person.capacity),
            col(Person.available),
            col(Person.away_until),
            col(Person.available_from),
            col(School.region),
        )
        .join(School, col(School.id) == col(Person.school_id), isouter=True)
        .where(col(Person.erased_at).is_(None))
        .order_by(func.coalesce(Person.slack_user_id, Person.teams_user_id))
    )
    return [_Supporter(*row) for row in rows]


def _cells(
    session: Session,
    requests: list[_Request],
    waited: dict[int, float],
    free: dict[int, tuple[int, str, frozenset[str]]],
    labels: dict[str, str],
) -> list[Cell]:
    demand: dict[tuple[str, str], list[_Request]] = defaultdict(list)
    for request in requests:
        for tag in request.tags:
            demand[(tag, request.region)].append(request)
    supply: dict[tuple[str, str], int] = defaultdict(int)
    for places, region, tags in free.values():
        for tag in tags:
            supply[(tag, region)] += places
    asked_for = {tag for request in requests for tag in request.tags}
    cells = []
    for tag, region in sorted(set(demand) | {k for k in supply if k[0] in asked_for}):
        made = demand.get((tag, region), [])
        cells.append(
            Cell(
                tag=tag,
                label=labels.get(tag, tag),
                region=region,
                demand=len(made),
                accepted=sum(1 for r in made if r.accepted_at is not None),
                unmet=sum(1 for r in made if r.accepted_at is None),
                long_waits=sum(1 for r in made if waited[r.id] > LONG_WAIT_WORKING_DAYS),
                supply=supply.get((tag, region), 0),
            )
        )
    return cells


def _weekly(
    session: Session,
    calendar: SchoolCalendar,
    period: Period,
    made: list[_Request],
    start: datetime,
    end: datetime,
) -> list[WeekCount]:
    """New and accepted requests per week (Monday to Sunday, local) across the period."""
    first = period.first - timedelta(days=period.first.weekday())
    last_day = min(period.last, calendar.local(end).date()) if end > start else period.first
    weeks = {first + timedelta(days=7 * i): [0, 0] for i in range((last_day - first).days // 7 + 1)}

    def week_of(instant: datetime) -> date:
        local = calendar.local(instant).date()
        return local - timedelta(days=local.weekday())

    for request in made:
        if (week := week_of(request.created_at)) in weeks:
            weeks[week][0] += 1
    accepted_in_period = session.exec(
        select(SupportRequest.accepted_at).where(
            col(SupportRequest.accepted_at) >= start,
            col(SupportRequest.accepted_at) < end,
        )
    )
    for accepted_at in accepted_in_period:
        if accepted_at is not None and (week := week_of(accepted_at)) in weeks:
            weeks[week][1] += 1
    return [WeekCount(week, new, accepted) for week, (new, accepted) in sorted(weeks.items())]


# --- plain forms: JSON and CSV -------------------------------------------------------------------
def insight_as_dict(insight: Insight) -> dict[str, object]:
    """The figures as plain JSON-ready data (days rounded to two decimals)."""

    def stats(s: WaitStats) -> dict[str, object]:
        return {
            "group": s.key,
            "accepted": s.accepted,
            "median_working_days": _round(s.median_days),
            "p90_working_days": _round(s.p90_days),
        }

    return {
        "period": {
            "label": insight.period.label,
            "from": insight.period.first.isoformat(),
            "to": insight.period.last.isoformat(),
        },
        "as_of": insight.as_of.isoformat(),
        "requests": insight.requests,
        "accepted": insight.accepted,
        "time_to_accept": stats(insight.overall),
        "time_to_accept_by_tag": [stats(s) for s in insight.by_tag],
        "time_to_accept_by_region": [stats(s) for s in insight.by_region],
        "found_nobody": {"count": len(insight.found_nobody), "request_ids": insight.found_nobody},
        "capacity": {
            "at_capacity": len(insight.at_capacity),
            "near_capacity": len(insight.near_capacity),
            "at_capacity_ids": insight.at_capacity,
            "near_capacity_ids": insight.near_capacity,
        },
        "demand_and_supply": [vars(c) for c in insight.cells],
        "weekly": [
            {"week_start": w.week_start.isoformat(), "new": w.new, "accepted": w.accepted}
            for w in insight.weekly
        ],
        "gaps": [gap_sentence(c) for c in insight.gaps[:GAPS_NAMED]],
        "long_wait_working_days": LONG_WAIT_WORKING_DAYS,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def insight_tables(insight: Insight) -> dict[str, list[list[object]]]:
    """The figures as CSV tables (file name → rows, header first)."""
    stat_header = ["group", "accepted", "median_working_days", "p90_working_days"]

    def rows(stats: list[WaitStats]) -> list[list[object]]:
        return [list[object](stat_header)] + [
            [s.key, s.accepted, _round(s.median_days), _round(s.p90_days)] for s in stats
        ]

    cell_header = ["tag", "label", "region", "demand", "accepted", "unmet", "long_waits", "supply"]
    return {
        "time-to-accept-by-tag.csv": rows([insight.overall, *insight.by_tag]),
        "time-to-accept-by-region.csv": rows([insight.overall, *insight.by_region]),
        "demand-and-supply.csv": [cell_header]
        + [[getattr(c, name) for name in cell_header] for c in insight.cells],
        "weekly.csv": [["week_start", "new", "accepted"]]
        + [[w.week_start.isoformat(), w.new, w.accepted] for w in insight.weekly],
        "found-nobody.csv": [["request_id"]] + [[i] for i in insight.found_nobody],
        "capacity.csv": [["slack_user_id", "state"]]
        + [[u, "at capacity"] for u in insight.at_capacity]
        + [[u, "near capacity"] for u in insight.near_capacity],
    }


# --- headline figures: the digest and the coordinator's Home -------------------------------------
@dataclass(frozen=True)
class Headline:
    """The few figures a coordinator glances at, for the term so far."""

    period_label: str
    requests: int
    accepted: int
    median_days: float | None
    p90_days: float | None
    found_nobody: int
    at_capacity: int
    near_capacity: int
    gaps: tuple[str, ...]


def headline_of(insight: Insight) -> Headline:
    """The headline figures of a report, with its three largest gaps in one sentence each."""
    return Headline(
        period_label=insight.period.label,
        requests=insight.requests,
        accepted=insight.accepted,
        median_days=insight.overall.median_days,
        p90_days=insight.overall.p90_days,
        found_nobody=len(insight.found_nobody),
        at_capacity=len(insight.at_capacity),
        near_capacity=len(insight.near_capacity),
        gaps=tuple(gap_sentence(c) for c in insight.gaps[:GAPS_NAMED]),
    )


def term_insight(session: Session, calendar: SchoolCalendar, now: datetime) -> Insight:
    """The figures for the term containing `now`, up to `now`."""
    return build_insight(session, calendar, term_of(calendar.local(now).date()), now=now)


def term_headline(session: Session, calendar: SchoolCalendar, now: datetime) -> Headline:
    """The headline of `term_insight`, without reading the weekly counts it does not show."""
    period = term_of(calendar.local(now).date())
    return headline_of(build_insight(session, calendar, period, now=now, weekly=False))


def days_text(days: float) -> str:
    """Working days for people: "2.5 working days", "1 working day"."""
    shown = f"{days:.1f}".removesuffix(".0")
    return f"{shown} working day" + ("" if shown == "1" else "s")


def headline_lines(headline: Headline) -> list[str]:
    """The headline as two short lines of plain text: counts only, no names."""
    first = f"{_count(headline.requests, 'request')}, {headline.accepted} accepted"
    if headline.median_days is not None and headline.p90_days is not None:
        first += (
            f"; median time to acceptance {days_text(headline.median_days)} "
            f"(90th percentile {days_text(headline.p90_days)})"
        )
    return [
        first + ".",
        f"{_count(headline.found_nobody, 'request')} found nobody; supporters at capacity: "
        f"{headline.at_capacity}, with one place left: {headline.near_capacity}.",
    ]


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")
