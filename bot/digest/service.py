"""The weekly digest: one summary for coordinators and a short personal one for each head and
supporter with something active, sent at most once per week.

Weeks run Monday to Sunday in TIMEZONE. Week W's digest falls due at DIGEST_CRON during W
and covers the seven days up to then (so consecutive digests cover every moment once); the
state sections (waiting, active, capacity, demand) are as of when it is built. "At most once"
is the `DigestRun` row, keyed by the week's Monday and inserted in the transaction that owes
every digest message: a second process's insert fails and it sends nothing.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.selectable import CompoundSelect
from sqlmodel import Session, col, select

from bot.checkins.service import NEEDS_ATTENTION, cadence_of
from bot.core import audit
from bot.core.settings import parse_digest_cron
from bot.digest.growing import growing_leaders
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
from bot.insight.service import Headline, headline_of, term_insight
from bot.members.service import colleague_loads, current_places
from bot.outbox.notify import coordinator_targets, notify_coordinators
from bot.outbox.owing import OwedFile, owe_files, owe_post
from bot.reach.people import address_of, user_id_of
from bot.visits.records import visit_digest, visits_by_person
from storage.db import SessionFactory, read_only, transaction
from storage.models import (
    ACCEPTED,
    EXPIRED,
    OFFERED,
    OPEN,
    SUPPORTER_ROLES,
    CheckIn,
    CheckInAnswer,
    CheckInStatus,
    DeploymentStatus,
    DigestRun,
    ExpertiseTag,
    Offer,
    OfferStatus,
    Person,
    PersonExpertise,
    PersonRole,
    RequestTag,
    School,
    SupportRequest,
)
from storage.models import Deployment as DeploymentRow

if TYPE_CHECKING:
    from bot.core.context import ServiceContext

_ONE_DAY = timedelta(days=1)  # open classrooms: the period's last local day
log = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WAITING_STATUSES = (OPEN, OFFERED, EXPIRED)
IMPACT_EXCERPT = 200


# --- weeks ---------------------------------------------------------------------------------------
def week_start_of(day: date) -> date:
    """The Monday of the week (Monday to Sunday) containing `day`."""
    return day - timedelta(days=day.weekday())


def digest_week(ctx: ServiceContext, week_start: date) -> DigestWeek:
    """The digest week starting on `week_start` (any day of it will do), as of `ctx.now`."""
    monday = week_start_of(week_start)
    weekday, at = parse_digest_cron(ctx.settings.digest_cron)
    due = ctx.calendar.at_local(monday + timedelta(days=WEEKDAYS.index(weekday)), at)
    end = min(due, ctx.now)
    return DigestWeek(
        week_start=monday, due_at=due, start=end - timedelta(days=7), end=end, as_of=ctx.now
    )


def current_week_start(ctx: ServiceContext) -> date:
    """The Monday of this week, in TIMEZONE."""
    return week_start_of(ctx.calendar.local(ctx.now).date())


# --- what a digest says --------------------------------------------------------------------------
# --- gathering -----------------------------------------------------------------------------------
def build_digest(session: Session, ctx: ServiceContext, week: DigestWeek) -> WeeklyDigest:
    """Read everything the week's digests say from the database (nothing is changed)."""
    requests = _requests_in_view(session, week.start)
    deployments = _deployments_in_view(session, week.start)
    for missing in {d.request_id for d in deployments} - set(requests):
        request = session.get(SupportRequest, missing)
        if request is not None:
            requests[missing] = request
    next_due, last_outcome = _checkin_facts(session, [d.id for d in deployments])
    lookups = _Lookups(
        people={p.id: p for p in session.exec(select(Person))},
        schools={s.id: s.name for s in session.exec(select(School))},
        labels=_labels_of_requests(session, [i for i in requests if i is not None]),
        requests=requests,
        offers_open=_open_offer_counts(session),
        next_due=next_due,
        last_outcome=last_outcome,
        checkin_every_days=ctx.settings.checkin_every_days,
    )
    items = [lookups.deployment_item(d) for d in deployments]
    active = sorted(
        (i for i in items if i.status == DeploymentStatus.ACTIVE),
        key=lambda i: (i.supporter_name.lower(), i.started_at),
    )
    coordinator = _coordinator_digest(session, ctx, week, lookups, items, active)
    personal = _personal(session, lookups.people, requests, active, lookups.request_item)
    _add_team_and_visits(session, ctx, week, lookups, active, personal)
    return WeeklyDigest(coordinator, personal)


@dataclass(frozen=True)
class _Lookups:
    """What the digest read once, to describe requests and deployments from."""

    people: dict[int | None, Person]
    schools: dict[int | None, str]
    labels: dict[int, list[str]]
    requests: dict[int | None, SupportRequest]
    offers_open: dict[int, int]
    next_due: dict[int, datetime]
    last_outcome: dict[int, str]
    checkin_every_days: int

    def name(self, person_id: int | None) -> str:
        person = self.people.get(person_id)
        return "someone" if person is None or person.erased_at is not None else person.name

    def request_item(self, r: SupportRequest) -> RequestItem:
        return RequestItem(
            request_id=r.id or 0,
            school=self.schools.get(r.school_id) if r.school_id else None,
            needs=tuple(self.labels[r.id or 0]),
            status=r.status,
            created_at=r.created_at,
            waiting_since=r.escalated_at if _escalated(r) else r.offered_at,
            offers_open=int(self.offers_open.get(r.id or 0, 0)),
            requester_id=r.requester_id,
            escalated=_escalated(r),
        )

    def deployment_item(self, d: DeploymentRow) -> DeploymentItem:
        request = self.requests.get(d.request_id)
        return DeploymentItem(
            deployment_id=d.id or 0,
            request_id=d.request_id,
            school=self.schools.get(request.school_id) if request and request.school_id else None,
            needs=tuple(self.labels[d.request_id]),
            supporter_id=d.supporter_id,
            supporter_name=self.name(d.supporter_id),
            head_id=request.requester_id if request else 0,
            head_name=self.name(request.requester_id) if request else "someone",
            status=d.status,
            started_at=d.started_at,
            ended_at=d.ended_at,
            last_outcome=self.last_outcome.get(d.id or 0),
            next_checkin=self.next_due.get(d.id or 0) if not d.checkins_paused else None,
            cadence_days=cadence_of(d, self.checkin_every_days),
            paused=d.checkins_paused,
            impact=d.impact_note,
        )


def _requests_in_view(session: Session, start: datetime) -> dict[int | None, SupportRequest]:
    """Requests still waiting or running, and those created or closed since `start`."""
    # One indexed look-up each: an OR of them scans the whole history on SQLite.
    in_view: CompoundSelect = union(
        select(SupportRequest.id).where(
            col(SupportRequest.status).in_((*WAITING_STATUSES, ACCEPTED))
        ),
        select(SupportRequest.id).where(col(SupportRequest.created_at) >= start),
        select(SupportRequest.id).where(col(SupportRequest.closed_at) >= start),
    )
    return {
        r.id: r
        for r in session.exec(select(SupportRequest).where(col(SupportRequest.id).in_(in_view)))
    }


def _open_offer_counts(session: Session) -> dict[int, int]:
    return dict(
        session.exec(
            select(Offer.request_id, func.count())
            .where(Offer.status == OfferStatus.OPEN)
            .group_by(col(Offer.request_id))
        ).all()
    )


def _deployments_in_view(session: Session, start: datetime) -> list[DeploymentRow]:
    """Deployments still active, and those started or ended since `start`."""
    in_view: CompoundSelect = union(  # as in `_requests_in_view`
        select(DeploymentRow.id).where(col(DeploymentRow.status) == DeploymentStatus.ACTIVE),
        select(DeploymentRow.id).where(col(DeploymentRow.started_at) >= start),
        select(DeploymentRow.id).where(col(DeploymentRow.ended_at) >= start),
    )
    return list(
        session.exec(
            select(DeploymentRow)
            .where(col(DeploymentRow.id).in_(in_view))
            .order_by(col(DeploymentRow.id))
        )
    )


def _checkin_facts(
    session: Session, deployment_ids: list[int | None]
) -> tuple[dict[int, datetime], dict[int, str]]:
    """Each deployment's next scheduled check-in and the latest answer's outcome."""
    next_due = dict(
        session.exec(
            select(CheckIn.deployment_id, func.min(CheckIn.due_at))
            .where(
                col(CheckIn.status) == CheckInStatus.SCHEDULED,
                col(CheckIn.deployment_id).in_(deployment_ids),
            )
            .group_by(col(CheckIn.deployment_id))
        ).all()
    )
    last_outcome: dict[int, str] = {}
    for deployment_id, outcome in session.exec(
        select(CheckIn.deployment_id, CheckInAnswer.outcome)
        .join(CheckInAnswer, col(CheckInAnswer.checkin_id) == col(CheckIn.id))
        .where(col(CheckIn.deployment_id).in_(deployment_ids))
        .order_by(col(CheckInAnswer.answered_at), col(CheckInAnswer.id))
    ):
        last_outcome[deployment_id] = outcome
    return next_due, last_outcome


def _coordinator_digest(
    session: Session,
    ctx: ServiceContext,
    week: DigestWeek,
    lookups: _Lookups,
    items: list[DeploymentItem],
    active: list[DeploymentItem],
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
        attention=_attention(session, start, end, requests, lookups.schools, lookups.name),
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
        capacity=_capacity(session, lookups.people, active),
        unmet_demand=_unmet_demand(session, ctx, lookups.people, requests, active),
        headline=headline_of(term_insight(session, ctx.calendar, ctx.now)),
        growing_leaders=growing_leaders(session, ctx),
        visits=visit_digest(
            session,
            start,
            end,
            first_day=ctx.calendar.local(start).date(),
            last_day=ctx.calendar.local(end).date() - _ONE_DAY,
        ),
    )


def _labels_of_requests(session: Session, request_ids: list[int]) -> dict[int, list[str]]:
    """The need labels of just these requests (the week's), alphabetically; not all history."""
    labels: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(request_ids), 5_000):
        for request_id, label in session.exec(
            select(RequestTag.request_id, ExpertiseTag.label)
            .join(ExpertiseTag, col(ExpertiseTag.slug) == col(RequestTag.tag_slug))
            .where(col(RequestTag.request_id).in_(request_ids[start : start + 5_000]))
            .order_by(col(ExpertiseTag.label))
        ):
            labels[request_id].append(label)
    return labels


def _escalated(request: SupportRequest) -> bool:
    return request.status in WAITING_STATUSES and (
        request.status == EXPIRED or request.escalated_at is not None
    )


def _awaiting(request: SupportRequest) -> bool:
    """Offered and not yet accepted, or escalated to coordinators to assign by hand (a
    request still `open` and not escalated is waiting for its head to send it out)."""
    return request.status in (OFFERED, EXPIRED) or _escalated(request)


def _attention(
    session: Session,
    start: datetime,
    end: datetime,
    requests: dict[int | None, SupportRequest],
    schools: dict[int | None, str],
    name: Callable[[int | None], str],
) -> list[AttentionItem]:
    """Needs-attention answers and missed check-ins in the period, oldest first."""
    found: list[AttentionItem] = []
    flagged = session.exec(
        select(CheckInAnswer, CheckIn, DeploymentRow)
        .join(CheckIn, col(CheckIn.id) == col(CheckInAnswer.checkin_id))
        .join(DeploymentRow, col(DeploymentRow.id) == col(CheckIn.deployment_id))
        .where(
            CheckInAnswer.outcome == NEEDS_ATTENTION,
            CheckInAnswer.answered_at >= start,
            CheckInAnswer.answered_at < end,
        )
    )
    missed = session.exec(
        select(CheckIn, DeploymentRow)
        .join(DeploymentRow, col(DeploymentRow.id) == col(CheckIn.deployment_id))
        .where(
            CheckIn.status == CheckInStatus.MISSED,
            col(CheckIn.missed_at) >= start,
            col(CheckIn.missed_at) < end,
        )
    )
    for answer, _checkin, deployment in flagged:
        request = requests.get(deployment.request_id) or session.get(
            SupportRequest, deployment.request_id
        )
        role = "head" if request and answer.person_id == request.requester_id else "supporter"
        found.append(
            AttentionItem(
                request_id=deployment.request_id,
                school=schools.get(request.school_id) if request and request.school_id else None,
                supporter_name=name(deployment.supporter_id),
                kind=NEEDS_ATTENTION,
                at=answer.answered_at,
                by=f"{name(answer.person_id)} ({role})",
            )
        )
    for checkin, deployment in missed:
        request = requests.get(deployment.request_id) or session.get(
            SupportRequest, deployment.request_id
        )
        found.append(
            AttentionItem(
                request_id=deployment.request_id,
                school=schools.get(request.school_id) if request and request.school_id else None,
                supporter_name=name(deployment.supporter_id),
                kind="missed",
                at=checkin.missed_at or end,
                by=None,
            )
        )
    return sorted(found, key=lambda i: (i.kind != NEEDS_ATTENTION, i.at))


def _supporters(session: Session, people: dict[int | None, Person]) -> list[Person]:
    ids = set(
        session.exec(
            select(col(PersonRole.person_id)).where(col(PersonRole.role).in_(SUPPORTER_ROLES))
        )
    )
    return [p for pid, p in people.items() if pid in ids and p.erased_at is None]


def _capacity(
    session: Session, people: dict[int | None, Person], active: list[DeploymentItem]
) -> list[CapacityItem]:
    """Supporters with no place left, then those with one place left (of two or more)."""
    counts: dict[int, int] = defaultdict(int, colleague_loads(session))  # team places count
    for item in active:
        counts[item.supporter_id] += 1
    found = []
    for person in _supporters(session, people):
        used = counts.get(person.id or 0, 0)
        if used and (
            used >= person.capacity or (person.capacity >= 2 and used == person.capacity - 1)
        ):
            found.append(CapacityItem(person.name, used, person.capacity))
    return sorted(found, key=lambda i: (i.active < i.capacity, i.name.lower()))


def _unmet_demand(
    session: Session,
    ctx: ServiceContext,
    people: dict[int | None, Person],
    requests: dict[int | None, SupportRequest],
    active: list[DeploymentItem],
) -> list[DemandItem]:
    """Areas of need of waiting requests that no available supporter with room covers."""
    today = ctx.calendar.local(ctx.now).date()
    counts: dict[int, int] = defaultdict(int, colleague_loads(session))  # team places count
    for item in active:
        counts[item.supporter_id] += 1
    free = {
        p.id
        for p in _supporters(session, people)
        if p.available
        and (p.away_until is None or p.away_until < today)
        and counts.get(p.id or 0, 0) < p.capacity
    }
    covered = {
        slug
        for person_id, slug in session.exec(
            select(PersonExpertise.person_id, PersonExpertise.tag_slug)
        )
        if person_id in free
    }
    waiting = [r.id for r in requests.values() if r.status in WAITING_STATUSES]
    demand: dict[str, int] = defaultdict(int)
    tag_labels = dict(session.exec(select(ExpertiseTag.slug, ExpertiseTag.label)).all())
    for slug in session.exec(
        select(RequestTag.tag_slug).where(col(RequestTag.request_id).in_(waiting))
    ):
        if slug not in covered:
            demand[tag_labels.get(slug, slug)] += 1
    return sorted(
        (DemandItem(label, n) for label, n in demand.items()),
        key=lambda i: (-i.waiting, i.label.lower()),
    )


class _Digests:
    """Personal digests by person, each started when first needed (none for someone erased
    or not in the directory)."""

    def __init__(
        self, people: dict[int | None, Person], started: list[PersonalDigest] | None = None
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
    session: Session,
    people: dict[int | None, Person],
    requests: dict[int | None, SupportRequest],
    active: list[DeploymentItem],
    request_item: Callable[[SupportRequest], RequestItem],
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
    for request in sorted(requests.values(), key=lambda r: r.id or 0):
        if _awaiting(request) and (head := digest_for(request.requester_id)):
            head.waiting.append(request_item(request))
    for supporter_id, count in session.exec(
        select(Offer.supporter_id, func.count())
        .where(Offer.status == OfferStatus.OPEN)
        .group_by(col(Offer.supporter_id))
    ):
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


def send_weekly_digest(
    sessions: SessionFactory, ctx: ServiceContext, *, week_start: date
) -> DigestOutcome:
    """Owe the week's coordinator digest and personal digests, unless that week's was already
    sent; at most once per week across every process (the DigestRun primary key)."""
    week = digest_week(ctx, week_start)
    charts = digest_charts(sessions, ctx, week)
    try:
        with transaction(sessions) as session:
            existing = session.get(DigestRun, week.week_start)
            if existing is not None:
                return DigestOutcome(week.week_start, False, existing.sent_at)
            session.add(DigestRun(week_start=week.week_start, created_at=ctx.now, sent_at=ctx.now))
            # On PostgreSQL a concurrent insert of the same week waits here, then fails.
            session.flush()
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
    week = digest_week(ctx, week_start)
    with read_only(sessions) as session:
        digest = build_digest(session, ctx, week)
        already = session.get(DigestRun, week.week_start)
    tz = ctx.settings.tz
    parts = [
        as_text(CoordinatorDigestMessage(digest.coordinators, str(tz))),
    ]
    if already is not None and already.sent_at is not None:
        parts.append(
            "(This week's digest was already sent: "
            f"{already.sent_at.astimezone(tz):%A %d %B %Y, %H:%M}.)"
        )
    parts.append(f"Personal digests ({len(digest.personal)}):")
    for personal in digest.personal:
        body = as_text(PersonalDigestMessage(personal, week, str(tz)))
        parts.append(f"--- to {personal.name} ({personal.slack_user_id}) ---\n{body}")
    return "\n\n".join(parts) + "\n"
