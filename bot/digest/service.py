"""The weekly digest: one summary for coordinators and a short personal one for each head and
supporter with something active, sent at most once per week.

Weeks run Monday to Sunday in TIMEZONE. Week W's digest falls due at DIGEST_CRON during W
and covers the time since the previous week's digest time, or since that digest went if it
was sent early by hand, so consecutive digests cover every moment once, across the clock
changes too (that week is 167 or 169 hours). The state sections (waiting, active, capacity,
demand) are as of when it is built. "At most once" is the `DigestRun` row, keyed by the
week's Monday and inserted in the transaction that owes every digest message: a second
process's insert fails and it sends nothing.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.checkins.service import NEEDS_ATTENTION, cadence_of
from bot.core import audit
from bot.core.clock import when_in_year
from bot.core.settings import parse_digest_cron
from bot.digest.growing import growing_leaders
from bot.digest.in_view import (
    WAITING_STATUSES,
    AttentionRow,
    DeploymentRow,
    PersonRow,
    RequestRow,
    attention_in,
    deployments_in_view,
    everyone,
    requests_by_id,
    requests_in_view,
    tags_of_requests,
)
from bot.digest.views import (
    AttentionItem,
    CapacityItem,
    CoordinatorDigest,
    CoordinatorDigestMessage,
    DemandItem,
    DeploymentItem,
    DigestWeek,
    PersonalDigest,
    PersonalDigestMessage,
    RequestItem,
    TeamPlace,
    WeeklyDigest,
    coordinator_digest_text,
    personal_digest_text,
)
from bot.insight.service import Headline, term_headline, term_insight
from bot.members.service import colleague_loads, current_places
from bot.outbox.notify import coordinator_targets, notify_coordinators
from bot.outbox.owing import OwedFile, owe_files, owe_post
from bot.reach.people import address_of, user_id_of
from bot.visits.records import visit_digest, visits_by_person
from storage.db import SessionFactory, read_only, transaction
from storage.models import (
    EXPIRED,
    OFFERED,
    SUPPORTER_ROLES,
    DeploymentStatus,
    DigestRun,
    Offer,
    OfferStatus,
    PersonExpertise,
    PersonRole,
    School,
)

if TYPE_CHECKING:
    from bot.core.context import ServiceContext

_ONE_DAY = timedelta(days=1)  # open classrooms: the period's last local day
log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
IMPACT_EXCERPT = 200


# --- weeks ---------------------------------------------------------------------------------------
def week_start_of(day: date) -> date:
    """The Monday of the week (Monday to Sunday) containing `day`."""
    return day - timedelta(days=day.weekday())


def digest_week(
    ctx: ServiceContext, week_start: date, *, previous_sent_at: datetime | None = None
) -> DigestWeek:
    """The digest week starting on `week_start` (any day of it will do), as of `ctx.now`.

    Its period runs from the previous week's digest time (or when that digest went, if it was
    sent early by hand) to this week's, or to now if that hasn't come: consecutive periods
    meet exactly, across the clock changes too.
    """
    monday = week_start_of(week_start)
    due = _due_at(ctx, monday)
    end = min(due, ctx.now)
    start = _due_at(ctx, monday - timedelta(days=7))
    if previous_sent_at is not None:
        start = min(start, previous_sent_at)
    if start > end:  # a week still to come, previewed: the seven days up to now
        start = end - timedelta(days=7)
    return DigestWeek(week_start=monday, due_at=due, start=start, end=end, as_of=ctx.now)


def _due_at(ctx: ServiceContext, monday: date) -> datetime:
    """When the week starting on `monday` falls due: DIGEST_CRON, local time, in UTC."""
    weekday, at = parse_digest_cron(ctx.settings.digest_cron)
    return ctx.calendar.at_local(monday + timedelta(days=WEEKDAYS.index(weekday)), at)


def digest_week_after_last(session: Session, ctx: ServiceContext, week_start: date) -> DigestWeek:
    """`digest_week`, starting where the previous week's digest ended if it went early."""
    monday = week_start_of(week_start)
    previous = session.get(DigestRun, monday - timedelta(days=7))
    return digest_week(ctx, monday, previous_sent_at=previous.created_at if previous else None)


def current_week_start(ctx: ServiceContext) -> date:
    """The Monday of this week, in TIMEZONE."""
    return week_start_of(ctx.calendar.local(ctx.now).date())


# --- what a digest says --------------------------------------------------------------------------
# --- gathering -----------------------------------------------------------------------------------
def build_digest(session: Session, ctx: ServiceContext, week: DigestWeek) -> WeeklyDigest:
    """Read everything the week's digests say from the database (nothing is changed)."""
    deployments = deployments_in_view(session, week.start, week.end)
    requests = requests_in_view(session, week.start, week.end)
    missing = sorted({d.request_id for d in deployments} - set(requests))
    if missing:
        requests.update(requests_by_id(session, missing))
    tags = tags_of_requests(session, list(requests))
    offers = _open_offers(session)
    lookups = _Lookups(
        people=everyone(session),
        schools=dict(session.exec(select(School.id, School.name)).all()),
        needs={i: tuple(label for _, label in pairs) for i, pairs in tags.items()},
        requests=requests,
        offers_open=Counter(request_id for request_id, _ in offers),
        checkin_every_days=ctx.settings.checkin_every_days,
    )
    items = [lookups.deployment_item(d) for d in deployments]
    active = sorted(
        (i for i in items if i.status == DeploymentStatus.ACTIVE),
        key=lambda i: (i.supporter_name.lower(), i.started_at),
    )
    supply = _Supply(
        supporters=_supporters(session, lookups.people), used=_places_used(session, active)
    )
    coordinator = _coordinator_digest(session, ctx, week, lookups, items, active, supply, tags)
    offered = Counter(supporter_id for _, supporter_id in offers)
    personal = _personal(lookups.people, requests, active, lookups.request_item, offered)
    _add_team_and_visits(session, ctx, week, lookups, active, personal)
    return WeeklyDigest(coordinator, personal)


@dataclass(frozen=True)
class _Lookups:
    """What the digest read once, to describe requests and deployments from."""

    people: dict[int | None, PersonRow]
    schools: dict[int | None, str]
    needs: dict[int, tuple[str, ...]]  # each request's areas of need, by label
    requests: dict[int, RequestRow]
    offers_open: Counter[int]
    checkin_every_days: int

    def name(self, person_id: int | None) -> str:
        person = self.people.get(person_id)
        return "someone" if person is None or person.erased_at is not None else person.name

    def request_item(self, r: RequestRow) -> RequestItem:
        return RequestItem(
            request_id=r.id,
            school=self.schools.get(r.school_id) if r.school_id else None,
            needs=self.needs.get(r.id, ()),
            status=r.status,
            created_at=r.created_at,
            waiting_since=r.escalated_at if _escalated(r) else r.offered_at,
            offers_open=self.offers_open[r.id],
            requester_id=r.requester_id,
            escalated=_escalated(r),
        )

    def deployment_item(self, d: DeploymentRow) -> DeploymentItem:
        request = self.requests.get(d.request_id)
        return DeploymentItem(
            deployment_id=d.id,
            request_id=d.request_id,
            school=self.schools.get(request.school_id) if request and request.school_id else None,
            needs=self.needs.get(d.request_id, ()),
            supporter_id=d.supporter_id,
            supporter_name=self.name(d.supporter_id),
            head_id=request.requester_id if request else 0,
            head_name=self.name(request.requester_id) if request else "someone",
            status=d.status,
            started_at=d.started_at,
            ended_at=d.ended_at,
            last_outcome=d.last_outcome,
            next_checkin=d.next_due if not d.checkins_paused else None,
            cadence_days=cadence_of(d, self.checkin_every_days),
            paused=d.checkins_paused,
            impact=d.impact_note,
        )


@dataclass(frozen=True)
class _Supply:
    """Supporters (not erased) and the places each uses: deployments led and joined."""

    supporters: list[PersonRow]
    used: dict[int, int]


def _open_offers(session: Session) -> list[tuple[int, int]]:
    """(request, supporter) of every open offer."""
    return [
        (request_id, supporter_id)
        for request_id, supporter_id in session.exec(
            select(Offer.request_id, Offer.supporter_id).where(Offer.status == OfferStatus.OPEN)
        )
    ]


def _places_used(session: Session, active: list[DeploymentItem]) -> dict[int, int]:
    """Places each person uses: active deployments led, and those joined as a colleague."""
    counts: dict[int, int] = defaultdict(int, colleague_loads(session))  # team places count
    for item in active:
        counts[item.supporter_id] += 1
    return counts


def _coordinator_digest(
    session: Session,
    ctx: ServiceContext,
    week: DigestWeek,
    lookups: _Lookups,
    items: list[DeploymentItem],
    active: list[DeploymentItem],
    supply: _Supply,
    tags: dict[int, list[tuple[str, str]]],
) -> CoordinatorDigest:
    start, end = week.start, week.end
    requests = lookups.requests
    return CoordinatorDigest(
        week=week,
        new_requests=[
            lookups.request_item(r)
            for r in sorted(requests.values(), key=lambda r: r.created_at)
            if start <= r.created_at < end
        ],
        awaiting=sorted(
            (lookups.request_item(r) for r in requests.values() if _awaiting(r)),
            key=lambda i: i.waiting_since or i.created_at,
        ),
        accepted=sorted(
            (i for i in items if start <= i.started_at < end), key=lambda i: i.started_at
        ),
        active=active,
        attention=_attention(session, start, end, lookups.schools, lookups.name),
        completed=sorted(
            (
                i
                for i in items
                if i.status == DeploymentStatus.COMPLETED
                and i.ended_at is not None
                and start <= i.ended_at < end
            ),
            key=lambda i: i.ended_at or end,
        ),
        capacity=_capacity(supply),
        unmet_demand=_unmet_demand(session, ctx, supply, requests, tags),
        headline=term_headline(session, ctx.calendar, ctx.now),
        growing_leaders=growing_leaders(session, ctx),
        visits=visit_digest(
            session,
            start,
            end,
            first_day=ctx.calendar.local(start).date(),
            last_day=ctx.calendar.local(end).date() - _ONE_DAY,
        ),
    )


def _escalated(request: RequestRow) -> bool:
    return request.status in WAITING_STATUSES and (
        request.status == EXPIRED or request.escalated_at is not None
    )


def _awaiting(request: RequestRow) -> bool:
    """Offered and not yet accepted, or escalated to coordinators to assign by hand (a
    request still `open` and not escalated is waiting for its head to send it out)."""
    return request.status in (OFFERED, EXPIRED) or _escalated(request)


def _attention(
    session: Session,
    start: datetime,
    end: datetime,
    schools: dict[int | None, str],
    name: Callable[[int | None], str],
) -> list[AttentionItem]:
    """Needs-attention answers and missed check-ins in the period, oldest first."""
    found = []
    for row in attention_in(session, start, end):
        by = None
        if row.kind == NEEDS_ATTENTION:
            by = f"{name(row.answered_by)} ({_answered_as(row)})"
        found.append(
            AttentionItem(
                request_id=row.request_id,
                school=schools.get(row.school_id) if row.school_id else None,
                supporter_name=name(row.supporter_id),
                kind=row.kind,
                at=row.at or end,
                by=by,
            )
        )
    return sorted(found, key=lambda i: (i.kind != NEEDS_ATTENTION, i.at))


def _answered_as(row: AttentionRow) -> str:
    """The part of whoever flagged a check-in: head, supporter, colleague or shadow."""
    if row.answered_by == row.requester_id:
        return "head"
    if row.answered_by == row.supporter_id:
        return "supporter"
    return row.team_role or "supporter"


def _supporters(session: Session, people: dict[int | None, PersonRow]) -> list[PersonRow]:
    ids = set(
        session.exec(
            select(col(PersonRole.person_id)).where(col(PersonRole.role).in_(SUPPORTER_ROLES))
        )
    )
    return [p for pid, p in people.items() if pid in ids and p.erased_at is None]


def _capacity(supply: _Supply) -> list[CapacityItem]:
    """Supporters with no place left, then those with one place left (of two or more)."""
    found = []
    for person in supply.supporters:
        used = supply.used.get(person.id or 0, 0)
        if used and (
            used >= person.capacity or (person.capacity >= 2 and used == person.capacity - 1)
        ):
            found.append(CapacityItem(person.name, used, person.capacity))
    return sorted(found, key=lambda i: (i.active < i.capacity, i.name.lower()))


def _unmet_demand(
    session: Session,
    ctx: ServiceContext,
    supply: _Supply,
    requests: dict[int, RequestRow],
    tags: dict[int, list[tuple[str, str]]],
) -> list[DemandItem]:
    """Areas of need of waiting requests that no supporter available today (as routing
    sees it: not away, past their `available_from`) with room covers."""
    today = ctx.calendar.local(ctx.now).date()
    free = {
        p.id
        for p in supply.supporters
        if p.available
        and (p.away_until is None or p.away_until < today)
        and (p.available_from is None or p.available_from <= today)
        and supply.used.get(p.id or 0, 0) < p.capacity
    }
    covered = {
        slug
        for person_id, slug in session.exec(
            select(PersonExpertise.person_id, PersonExpertise.tag_slug)
        )
        if person_id in free
    }
    demand: dict[str, int] = defaultdict(int)
    for request in requests.values():
        if request.status in WAITING_STATUSES:
            for slug, label in tags.get(request.id, ()):
                if slug not in covered:
                    demand[label] += 1
    return sorted(
        (DemandItem(label, n) for label, n in demand.items()),
        key=lambda i: (-i.waiting, i.label.lower()),
    )


class _Digests:
    """Personal digests by person, each started when first needed (none for someone erased
    or not in the directory)."""

    def __init__(
        self, people: dict[int | None, PersonRow], started: list[PersonalDigest] | None = None
    ) -> None:
        self.people = people
        self.by_person = {d.person_id: d for d in started or []}

    def of(self, person_id: int) -> PersonalDigest | None:
        """`person_id`'s digest, started if need be; None for nobody to write to."""
        person = self.people.get(person_id)
        if person is None or person.erased_at is not None:
            return None
        if person_id not in self.by_person:
            self.by_person[person_id] = PersonalDigest(
                person_id, user_id_of(person), person.name, address=address_of(person)
            )
        return self.by_person[person_id]

    def in_order(self) -> list[PersonalDigest]:
        """Every digest, by name."""
        return sorted(self.by_person.values(), key=lambda d: (d.name.lower(), d.person_id))


def _personal(
    people: dict[int | None, PersonRow],
    requests: dict[int, RequestRow],
    active: list[DeploymentItem],
    request_item: Callable[[RequestRow], RequestItem],
    offers_waiting: Counter[int],
) -> list[PersonalDigest]:
    """A personal digest for everyone with an active deployment (either side), a request
    still looking for support, or an offer awaiting their answer."""
    digests = _Digests(people)
    digest_for = digests.of
    for item in active:
        if (mine := digest_for(item.supporter_id)) is not None:
            mine.supporting.append(item)
        if item.head_id != item.supporter_id and (theirs := digest_for(item.head_id)):
            theirs.supported.append(item)
    for request in sorted(requests.values(), key=lambda r: r.id):
        if _awaiting(request) and (head := digest_for(request.requester_id)):
            head.waiting.append(request_item(request))
    for supporter_id, count in offers_waiting.items():
        if (mine := digest_for(supporter_id)) is not None:
            mine.offers_waiting = int(count)
    return digests.in_order()


def _add_team_and_visits(
    session: Session,
    ctx: ServiceContext,
    week: DigestWeek,
    lookups: _Lookups,
    active: list[DeploymentItem],
    personal: list[PersonalDigest],
) -> None:
    """Add each person's places on deployment teams (colleague or shadow) and their
    open-classroom visits (visiting or hosting: waiting, to come, or this period's) to their
    digest, starting one for those who had none."""
    digests = _Digests(lookups.people, personal)
    digest_for = digests.of
    by_id = {item.deployment_id: item for item in active}
    for place in current_places(session, list(by_id)):
        if (mine := digest_for(place.person_id)) is not None:
            mine.team.append(TeamPlace(str(place.role), by_id[place.deployment_id]))
    visits = visits_by_person(
        session,
        since=ctx.calendar.local(week.start).date(),
        label=ctx.vocabulary.label,
        people=lookups.people,
        schools=lookups.schools,
    )
    for person_id, lines in visits.items():
        if (mine := digest_for(person_id)) is not None:
            mine.visits.extend(lines)
    personal[:] = digests.in_order()


# --- sending -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigestOutcome:
    """What sending a week's digest did: sent now, or already sent before (and when)."""

    week_start: date
    sent: bool
    sent_at: datetime | None
    coordinator_messages: int = 0
    personal_messages: int = 0


def digest_ref(week_start: date, person_id: int | None = None) -> str:
    """The outbox ref of a week's coordinator digest, or of one person's digest."""
    return f"digest:{week_start.isoformat()}" + (f":{person_id}" if person_id else "")


def _record_run(session: Session, ctx: ServiceContext, week_start: date) -> DigestRun | None:
    """Record that the week's digest is being sent, or return the record already there."""
    existing = session.get(DigestRun, week_start)
    if existing is None:
        session.add(DigestRun(week_start=week_start, created_at=ctx.now, sent_at=ctx.now))
        # On PostgreSQL a concurrent insert of the same week waits here, then fails.
        session.flush()
    return existing


def send_weekly_digest(
    sessions: SessionFactory, ctx: ServiceContext, *, week_start: date
) -> DigestOutcome:
    """Owe the week's coordinator digest and personal digests, unless that week's was already
    sent; at most once per week across every process (the DigestRun primary key)."""
    week = digest_week(ctx, week_start)
    charts = digest_charts(sessions, ctx, week)
    try:
        with transaction(sessions) as session:
            existing = _record_run(session, ctx, week.week_start)
            if existing is not None:
                return DigestOutcome(week.week_start, False, existing.sent_at)
            week = digest_week_after_last(session, ctx, week_start)
            digest = build_digest(session, ctx, week)
            owed = notify_coordinators(
                session,
                ctx.settings,
                now=ctx.now,
                text=coordinator_digest_text(digest.coordinators),
                view=CoordinatorDigestMessage(digest.coordinators, str(ctx.settings.tz)),
                ref=digest_ref(week.week_start),
            )
            if not owed:
                log.warning("weekly digest %s: no coordinator channel or coordinators", week_start)
            for channel in coordinator_targets(session, ctx.settings) if charts else ():
                owe_files(
                    session,
                    now=ctx.now,
                    channel=channel,
                    files=charts,
                    comment=charts_comment(week, digest.coordinators.headline),
                    ref=f"{digest_ref(week.week_start)}:charts:{channel}",
                )
            for personal in digest.personal:
                owe_post(
                    session,
                    now=ctx.now,
                    channel=personal.address or personal.slack_user_id,
                    text=personal_digest_text(personal),
                    view=PersonalDigestMessage(personal, week, str(ctx.settings.tz)),
                    ref=digest_ref(week.week_start, personal.person_id),
                )
            audit.record(
                session,
                at=ctx.now,
                actor=None,
                action="digest.sent",
                subject_type="digest",
                subject_id=week.week_start.isoformat(),
                coordinator_messages=owed,
                personal_messages=len(digest.personal),
            )
            return DigestOutcome(week.week_start, True, ctx.now, owed, len(digest.personal))
    except IntegrityError:
        with sessions() as session:
            existing = session.get(DigestRun, week.week_start)
        log.info("weekly digest %s was sent by another process", week.week_start)
        return DigestOutcome(week.week_start, False, existing.sent_at if existing else None)


CHART_TITLES = {
    "unmet-demand.png": "Unmet demand by area of need and region",
    "time-to-accept.png": "Time from request to acceptance by area of need",
    "weekly-trend.png": "New and accepted requests each week",
}


def digest_charts(
    sessions: SessionFactory, ctx: ServiceContext, week: DigestWeek
) -> list[OwedFile]:
    """The term's charts for a week's digest (none if it was already sent or the term has no
    requests yet). Drawn outside any transaction: drawing takes a moment, and SQLite's write
    lock is held by every transaction."""
    # Lazy: charts import matplotlib, which takes a second; only a digest with charts needs it.
    from bot.insight.charts import render_charts

    with read_only(sessions) as session:
        if session.get(DigestRun, week.week_start) is not None:
            return []
        insight = term_insight(session, ctx.calendar, ctx.now)
    if not insight.requests:
        return []
    label = insight.period.label
    return [
        OwedFile(
            filename=f"digest-{week.week_start.isoformat()}-{name}",
            title=f"{CHART_TITLES[name]} — {label}",
            content=content,
            alt_text=f"Chart: {CHART_TITLES[name].lower()}, {label} so far. Counts only.",
        )
        for name, content in render_charts(insight).items()
    ]


def charts_comment(week: DigestWeek, headline: Headline | None) -> str:
    """The message the charts are shared with."""
    period = f" ({headline.period_label} so far)" if headline else ""
    return (
        f"Charts for the weekly digest, week of {week.week_start.day} "
        f"{week.week_start:%B %Y}{period}: unmet demand by area of need and region, time from "
        "request to acceptance, and new against accepted requests each week."
    )


def preview_digest(
    sessions: SessionFactory,
    ctx: ServiceContext,
    *,
    week_start: date,
    as_text: Callable[[object], str],
) -> str:
    """The week's digests as readable text (each message view as the platform's `as_text`
    renders it), built without sending or recording anything."""
    with read_only(sessions) as session:
        week = digest_week_after_last(session, ctx, week_start)
        digest = build_digest(session, ctx, week)
        already = session.get(DigestRun, week.week_start)
        sent_at = already.sent_at if already is not None else None  # read before the rollback
    tz = ctx.settings.tz
    parts = [
        as_text(CoordinatorDigestMessage(digest.coordinators, str(tz))),
    ]
    if sent_at is not None:
        parts.append(f"(This week's digest was already sent: {when_in_year(sent_at, tz)}.)")
    parts.append(f"Personal digests ({len(digest.personal)}):")
    for personal in digest.personal:
        body = as_text(PersonalDigestMessage(personal, week, str(tz)))
        parts.append(f"--- to {personal.name} ({personal.slack_user_id}) ---\n{body}")
    return "\n\n".join(parts) + "\n"
