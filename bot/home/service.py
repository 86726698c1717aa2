"""The App Home: one person's overview — their requests, offers, deployments and, for
coordinators, everything that needs attention — and the supporter's "I'm away" switch.

Queries only (apart from `set_availability`); each list is cut to a few items with its
total kept, so the page stays small however much is stored. Nobody but a coordinator is
shown anyone else's requests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.errors import NotAllowed, NotFound
from bot.core.school_calendar import SchoolCalendar
from bot.core.vocabulary import Vocabulary
from bot.deployments.record import progress_for
from bot.deployments.views import DeploymentProgress
from bot.directory.people import person_by_user_id, roles_of
from bot.home.team import TeamPlace, team_places, teams_of
from bot.insight.service import Headline, headline_of, term_insight
from bot.members.service import load_of
from bot.reach.people import mention
from bot.requests.intake import ended_supports
from bot.teamwork.views import TeamMember
from bot.visits.records import home_visits
from bot.visits.views import VisitLine
from storage.models import (
    CANCELLED,
    EXPIRED,
    OFFERED,
    OPEN,
    REQUEST_STATUSES,
    SUPPORTER_ROLES,
    Deployment,
    DeploymentStatus,
    Offer,
    OfferStatus,
    Person,
    RequestTag,
    School,
    SupportRequest,
)

# How many of each list the page shows; the rest are counted ("and 12 more").
OWN_REQUESTS_SHOWN = 10
OFFERS_SHOWN = 5
DEPLOYMENTS_SHOWN = 8
ATTENTION_SHOWN = 15
DEFAULT_CALENDAR = SchoolCalendar(ZoneInfo("Europe/London"))

# What needs a coordinator, most pressing first.
UNASSIGNED, WAITING, NEW = "unassigned", "waiting", "new"
_KIND_ORDER = {UNASSIGNED: 0, WAITING: 1, NEW: 2}
_URGENCY_ORDER = {"urgent": 0, "soon": 1, "routine": 2}


@dataclass(frozen=True)
class RequestLine:
    """A request as one line of the home page."""

    id: int
    title: str
    status: str
    needs: tuple[str, ...]  # labels
    urgency: str
    school: str | None
    created_at: datetime
    offered_at: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None
    escalated_at: datetime | None
    awaiting_profile: bool
    assigned_to: str | None  # a neutral mention, `<@ID|Name>`
    open_offers: int
    support_ended: bool = False  # cancelled because a coordinator ended the support


@dataclass(frozen=True)
class AttentionLine:
    """A request a coordinator should look at: why (`kind`) and since when."""

    kind: str  # unassigned | waiting | new
    since: datetime
    request: RequestLine


@dataclass(frozen=True)
class OfferLine:
    """An open offer to this supporter: enough to decide, as in the offer DM."""

    offer_id: int
    request_id: int
    title: str
    needs: tuple[str, ...]
    urgency: str
    phase: str | None
    region: str | None
    school: str | None  # None unless schools are shown before acceptance
    reasons: str
    offered_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True)
class DeploymentLine:
    """An active deployment of this supporter: which school, whose head, since when."""

    deployment_id: int
    request_id: int
    school: str | None
    head: str | None  # a neutral mention, `<@ID|Name>` (None once erased)
    needs: tuple[str, ...]
    started_at: datetime
    team: tuple[TeamMember, ...] = ()  # colleagues and shadows on it


@dataclass(frozen=True)
class SupporterHome:
    """A supporter's offers, deployments, capacity and availability."""

    offers: tuple[OfferLine, ...]
    offers_total: int
    deployments: tuple[DeploymentLine, ...]
    active: int
    capacity: int
    available: bool
    away_until: date | None
    as_colleague: int = 0  # deployments joined as a colleague: they use capacity too


@dataclass(frozen=True)
class CoordinatorHome:
    """Counts of requests by status and the requests needing attention, most pressing first."""

    counts: Mapping[str, int]
    attention: tuple[AttentionLine, ...]
    attention_total: int
    headline: Headline | None = None  # this term's supply and demand


@dataclass(frozen=True)
class HomeData:
    """Everything one person's Home tab shows; sections they have no part in are None."""

    slack_user_id: str
    now: datetime
    name: str | None = None  # None: not in the directory
    roles: frozenset[str] = frozenset()
    requests: tuple[RequestLine, ...] | None = None
    requests_total: int = 0
    supporter: SupporterHome | None = None
    coordinator: CoordinatorHome | None = None
    deployments: tuple[DeploymentProgress, ...] = ()  # the lifecycle of each, for its people
    deployments_total: int = 0
    others: tuple[DeploymentProgress, ...] = ()  # a coordinator's: everyone else's, recent
    others_total: int = 0
    team_places: tuple[TeamPlace, ...] = ()  # deployments they're on as colleague or shadow
    visits: tuple[VisitLine, ...] = ()  # open classrooms: visits asked for or hosted, offers


@dataclass(frozen=True)
class AvailabilityChange:
    """The outcome of the away switch."""

    person_id: int
    available: bool
    changed: bool


def home_for(
    session: Session,
    slack_user_id: str,
    *,
    now: datetime,
    vocabulary: Vocabulary,
    show_school_before_accept: bool = False,
    calendar: SchoolCalendar | None = None,
) -> HomeData:
    """What `slack_user_id` sees on their Home tab right now (`calendar` counts working days
    for a coordinator's headline figures; default: Europe/London, 08:00-17:00)."""
    person = person_by_user_id(session, slack_user_id)
    if person is None or person.erased_at is not None or person.id is None:
        return HomeData(slack_user_id=slack_user_id, now=now)
    roles = frozenset(roles_of(session, person.id))
    requests, total = _own_requests(session, person.id, vocabulary)
    coordinator = "coordinator" in roles
    deployments, deployments_total = progress_for(session, person.id, now=now)
    others, others_total = (
        progress_for(session, person.id, now=now, others=True) if coordinator else ((), 0)
    )
    return HomeData(
        slack_user_id=slack_user_id,
        now=now,
        name=person.name,
        roles=roles,
        requests=requests if total or "head" in roles else None,
        requests_total=total,
        supporter=(
            _supporter_home(session, person, vocabulary, show_school=show_school_before_accept)
            if roles & set(SUPPORTER_ROLES)
            else None
        ),
        coordinator=(
            _coordinator_home(session, vocabulary, calendar or DEFAULT_CALENDAR, now)
            if coordinator
            else None
        ),
        deployments=deployments,
        deployments_total=deployments_total,
        others=others,
        others_total=others_total,
        team_places=team_places(session, person.id, vocabulary),
        visits=home_visits(session, person.id, vocabulary.label),
    )


# --- a head's own requests ---------------------------------------------------------------------
def _own_requests(
    session: Session, person_id: int, vocabulary: Vocabulary
) -> tuple[tuple[RequestLine, ...], int]:
    mine = SupportRequest.requester_id == person_id
    total = session.exec(select(func.count()).select_from(SupportRequest).where(mine)).one()
    rows = session.exec(
        select(SupportRequest)
        .where(mine)
        .order_by(col(SupportRequest.created_at).desc(), col(SupportRequest.id).desc())
        .limit(OWN_REQUESTS_SHOWN)
    ).all()
    return _lines(session, rows, vocabulary), int(total)


def _lines(
    session: Session, rows: Iterable[SupportRequest], vocabulary: Vocabulary
) -> tuple[RequestLine, ...]:
    """Request lines for `rows`, loading schools, tags, people and offers in a few queries."""
    rows = list(rows)
    ids = [r.id for r in rows if r.id is not None]
    needs = _needs(session, ids, vocabulary)
    schools = _school_names(session, {r.school_id for r in rows if r.school_id})
    assigned = _mentions(session, {r.assigned_id for r in rows if r.assigned_id})
    ended = ended_supports(session, [r.id for r in rows if r.status == CANCELLED])
    open_offers: dict[int, int] = {}
    if ids:
        open_offers = dict(
            session.exec(
                select(Offer.request_id, func.count())
                .where(col(Offer.request_id).in_(ids), col(Offer.status) == OfferStatus.OPEN)
                .group_by(col(Offer.request_id))
            ).all()
        )
    return tuple(
        RequestLine(
            id=r.id or 0,
            title=r.title,
            status=r.status,
            needs=needs.get(r.id or 0, ()),
            urgency=r.urgency,
            school=schools.get(r.school_id) if r.school_id else None,
            created_at=r.created_at,
            offered_at=r.offered_at,
            accepted_at=r.accepted_at,
            closed_at=r.closed_at,
            escalated_at=r.escalated_at,
            awaiting_profile=r.awaiting_profile,
            assigned_to=assigned.get(r.assigned_id) if r.assigned_id else None,
            open_offers=int(open_offers.get(r.id or 0, 0)),
            support_ended=r.id in ended,
        )
        for r in rows
    )


def _needs(
    session: Session, request_ids: list[int], vocabulary: Vocabulary
) -> dict[int, tuple[str, ...]]:
    if not request_ids:
        return {}
    found: dict[int, list[str]] = defaultdict(list)
    for link in session.exec(
        select(RequestTag)
        .where(col(RequestTag.request_id).in_(request_ids))
        .order_by(col(RequestTag.request_id), col(RequestTag.tag_slug))
    ):
        found[link.request_id].append(vocabulary.label(link.tag_slug))
    return {request_id: tuple(labels) for request_id, labels in found.items()}


def _school_names(session: Session, school_ids: set[int]) -> dict[int, str]:
    if not school_ids:
        return {}
    return {
        s.id or 0: s.name
        for s in session.exec(select(School).where(col(School.id).in_(school_ids)))
    }


def _mentions(session: Session, person_ids: set[int]) -> dict[int, str]:
    """Neutral mentions of people (`<@ID|Name>`, so each platform can name them), leaving out
    anyone whose data has been erased."""
    if not person_ids:
        return {}
    return {
        p.id or 0: mention(p)
        for p in session.exec(select(Person).where(col(Person.id).in_(person_ids)))
        if p.erased_at is None
    }


# --- a supporter's offers and deployments --------------------------------------------------------
def _supporter_home(
    session: Session, person: Person, vocabulary: Vocabulary, *, show_school: bool
) -> SupporterHome:
    waiting = (
        Offer.supporter_id == person.id,
        Offer.status == OfferStatus.OPEN,
        SupportRequest.status == OFFERED,
    )
    joined = select(Offer, SupportRequest).join(
        SupportRequest,
        col(SupportRequest.id) == col(Offer.request_id),
    )
    offers_total = session.exec(
        select(func.count())
        .select_from(Offer)
        .join(SupportRequest, col(SupportRequest.id) == col(Offer.request_id))
        .where(*waiting)
    ).one()
    offer_rows = session.exec(
        joined.where(*waiting)
        .order_by(col(Offer.created_at).desc(), col(Offer.id).desc())
        .limit(OFFERS_SHOWN)
    ).all()
    deployments = session.exec(
        select(Deployment, SupportRequest)
        .join(SupportRequest, col(SupportRequest.id) == col(Deployment.request_id))
        .where(Deployment.supporter_id == person.id, Deployment.status == DeploymentStatus.ACTIVE)
        .order_by(col(Deployment.started_at).desc(), col(Deployment.id).desc())
    ).all()
    requests = [r for _, r in offer_rows] + [r for _, r in deployments]
    needs = _needs(session, [r.id for r in requests if r.id is not None], vocabulary)
    school_ids = {r.school_id for r in requests if r.school_id}
    schools = {s.id: s for s in session.exec(select(School).where(col(School.id).in_(school_ids)))}
    offers = [
        _offer_line(offer, request, schools.get(request.school_id), needs, show_school)
        for offer, request in offer_rows
    ]
    shown = _deployment_lines(session, deployments[:DEPLOYMENTS_SHOWN], schools, needs)
    return SupporterHome(
        offers=tuple(offers),
        offers_total=int(offers_total),
        deployments=tuple(shown),
        active=len(deployments),
        as_colleague=load_of(session, person.id or 0) - len(deployments),
        capacity=person.capacity,
        available=person.available,
        away_until=person.away_until,
    )


def _deployment_lines(
    session: Session,
    deployments: Sequence[tuple[Deployment, SupportRequest]],
    schools: Mapping[int | None, School],
    needs: Mapping[int, tuple[str, ...]],
) -> list[DeploymentLine]:
    """The deployments shown, each with its head and its team."""
    heads = _mentions(session, {r.requester_id for _, r in deployments})
    teams = teams_of(session, [d.id or 0 for d, _ in deployments])
    return [
        DeploymentLine(
            deployment_id=deployment.id or 0,
            request_id=request.id or 0,
            school=school.name if (school := schools.get(request.school_id)) else None,
            head=heads.get(request.requester_id),
            needs=needs.get(request.id or 0, ()),
            started_at=deployment.started_at,
            team=teams.get(deployment.id or 0, ()),
        )
        for deployment, request in deployments
    ]


def _offer_line(
    offer: Offer,
    request: SupportRequest,
    school: School | None,
    needs: Mapping[int, tuple[str, ...]],
    show_school: bool,
) -> OfferLine:
    return OfferLine(
        offer_id=offer.id or 0,
        request_id=request.id or 0,
        title=request.title,
        needs=needs.get(request.id or 0, ()),
        urgency=request.urgency,
        phase=school.phase if school else None,
        region=school.region if school else None,
        school=school.name if school and show_school else None,
        reasons=offer.reasons,
        offered_at=offer.created_at,
        expires_at=offer.expires_at,
    )


# --- a coordinator's overview --------------------------------------------------------------------
def _coordinator_home(
    session: Session, vocabulary: Vocabulary, calendar: SchoolCalendar, now: datetime
) -> CoordinatorHome:
    counts: dict[str, int] = dict.fromkeys(REQUEST_STATUSES, 0)
    for status, count in session.exec(
        select(col(SupportRequest.status), func.count()).group_by(col(SupportRequest.status))
    ).all():
        counts[status] = int(count)
    # Only the few columns needed to rank; the shown few are then loaded in full.
    candidates = session.exec(
        select(  # type: ignore[call-overload]  # sqlmodel types select() for up to 4 columns
            col(SupportRequest.id),
            col(SupportRequest.status),
            col(SupportRequest.urgency),
            col(SupportRequest.created_at),
            col(SupportRequest.offered_at),
            col(SupportRequest.escalated_at),
        ).where(col(SupportRequest.status).in_((OPEN, OFFERED, EXPIRED)))
    ).all()
    ranked = sorted(
        (_attention(*row) for row in candidates),
        key=lambda item: (
            _KIND_ORDER[item[1]],
            _URGENCY_ORDER.get(item[2], 3),
            item[3],
            item[0],
        ),
    )
    top = ranked[:ATTENTION_SHOWN]
    rows = {
        r.id: r
        for r in session.exec(
            select(SupportRequest).where(col(SupportRequest.id).in_([t[0] for t in top]))
        )
    }
    lines = {line.id: line for line in _lines(session, rows.values(), vocabulary)}
    attention = tuple(
        AttentionLine(kind=kind, since=since, request=lines[request_id])
        for request_id, kind, _urgency, since in top
        if request_id in lines
    )
    return CoordinatorHome(
        counts=counts,
        attention=attention,
        attention_total=len(ranked),
        headline=headline_of(term_insight(session, calendar, now)),
    )


def _attention(
    request_id: int,
    status: str,
    urgency: str,
    created_at: datetime,
    offered_at: datetime | None,
    escalated_at: datetime | None,
) -> tuple[int, str, str, datetime]:
    """(id, kind, urgency, since) for a request still open, offered or expired."""
    if status == EXPIRED or escalated_at is not None:
        return request_id, UNASSIGNED, urgency, escalated_at or offered_at or created_at
    if status == OFFERED:
        return request_id, WAITING, urgency, offered_at or created_at
    return request_id, NEW, urgency, created_at


# --- the away switch -----------------------------------------------------------------------------
def set_availability(
    session: Session, *, now: datetime, actor: str, available: bool
) -> AvailabilityChange:
    """A supporter marks themselves away (offered nothing new) or available again."""
    person = person_by_user_id(session, actor)
    if person is None or person.erased_at is not None or person.id is None:
        raise NotFound("You're not in the support directory yet, so there's nothing to change.")
    if not roles_of(session, person.id) & set(SUPPORTER_ROLES):
        raise NotAllowed(
            "Only supporters (NLEs, SLEs and specialists) can mark themselves away.",
            action="person.availability",
            subject_type="person",
            subject_id=person.id,
        )
    changed = person.available != available or (available and person.away_until is not None)
    if changed:
        person.available = available
        if available:
            person.away_until = None
        person.updated_at = now
        audit.record(
            session,
            at=now,
            actor=actor,
            action="person.available" if available else "person.away",
            subject_type="person",
            subject_id=person.id,
        )
    return AvailabilityChange(person_id=person.id, available=available, changed=changed)
