"""What a digest says: platform-neutral shapes the renderers take."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.core.messages import message_view
from bot.insight.service import Headline
from bot.visits.views import VisitDigest, VisitLine


@dataclass(frozen=True)
class DigestWeek:
    """Which week a digest is for, when it falls due, and the activity period it covers."""

    week_start: date  # the Monday, locally
    due_at: datetime  # DIGEST_CRON during that week
    start: datetime
    end: datetime
    as_of: datetime


@dataclass(frozen=True)
class RequestItem:
    """A request as the digest shows it: no titles or descriptions, only where, what and state."""

    request_id: int
    school: str | None
    needs: tuple[str, ...]
    status: str
    created_at: datetime
    waiting_since: datetime | None
    offers_open: int
    requester_id: int
    escalated: bool  # nobody (more) to offer it to: coordinators assign by hand


@dataclass(frozen=True)
class DeploymentItem:
    """A deployment: who supports which school, since when, and how check-ins are going."""

    deployment_id: int
    request_id: int
    school: str | None
    needs: tuple[str, ...]
    supporter_id: int
    supporter_name: str
    head_id: int
    head_name: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    last_outcome: str | None
    next_checkin: datetime | None
    cadence_days: int
    paused: bool
    impact: str | None


@dataclass(frozen=True)
class AttentionItem:
    """A check-in that needs a coordinator's eye: flagged as needing attention, or missed."""

    request_id: int
    school: str | None
    supporter_name: str
    kind: str  # needs_attention | missed
    at: datetime
    by: str | None  # "Hannah Head (head)" for needs attention


@dataclass(frozen=True)
class CapacityItem:
    """A supporter at or near their capacity."""

    name: str
    active: int
    capacity: int


@dataclass(frozen=True)
class DemandItem:
    """An area of need with requests waiting and no supporter free to take them."""

    label: str
    waiting: int


@dataclass(frozen=True)
class GrowingLeader:
    """An aspiring leader and the requests whose deployments they shadowed this year."""

    name: str
    roles: tuple[str, ...]  # "aspiring NLE", "aspiring SLE"
    request_ids: tuple[int, ...]


@dataclass
class CoordinatorDigest:
    """Everything in the coordinators' digest."""

    week: DigestWeek
    new_requests: list[RequestItem] = field(default_factory=list)
    awaiting: list[RequestItem] = field(default_factory=list)
    accepted: list[DeploymentItem] = field(default_factory=list)
    active: list[DeploymentItem] = field(default_factory=list)
    attention: list[AttentionItem] = field(default_factory=list)
    completed: list[DeploymentItem] = field(default_factory=list)
    capacity: list[CapacityItem] = field(default_factory=list)
    unmet_demand: list[DemandItem] = field(default_factory=list)
    headline: Headline | None = None  # the term so far: time to accept, gaps
    growing_leaders: list[GrowingLeader] = field(default_factory=list)  # this academic year
    visits: VisitDigest | None = None  # open classrooms this week (counts only)


@dataclass(frozen=True)
class TeamPlace:
    """A deployment someone is on as a colleague or a shadow (not its lead supporter)."""

    role: str  # colleague | shadow
    deployment: DeploymentItem


@dataclass
class PersonalDigest:
    """One person's week: the deployments they lead, are supported by or are on the team of,
    their waiting requests and offers, and their open-classroom visits."""

    person_id: int
    slack_user_id: str  # their user id: Slack's, else Teams' (bot.reach.people.user_id_of)
    name: str
    supporting: list[DeploymentItem] = field(default_factory=list)
    supported: list[DeploymentItem] = field(default_factory=list)
    waiting: list[RequestItem] = field(default_factory=list)
    offers_waiting: int = 0
    address: str = ""  # where it goes (bot.reach.people.address_of); "": `slack_user_id`
    team: list[TeamPlace] = field(default_factory=list)  # as a colleague or shadow
    visits: list[VisitLine] = field(default_factory=list)  # visiting or hosting: to come, recent


@dataclass
class WeeklyDigest:
    """The coordinators' digest and every personal digest of one week."""

    coordinators: CoordinatorDigest
    personal: list[PersonalDigest]


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def coordinator_digest_text(digest: CoordinatorDigest) -> str:
    """The notification text: the week's counts in one sentence."""
    monday = digest.week.week_start
    return (
        f"Weekly digest for the week of {monday.day} {monday:%B %Y}: "
        f"{_plural(len(digest.new_requests), 'new request')}, "
        f"{len(digest.awaiting)} awaiting acceptance, {len(digest.accepted)} accepted, "
        f"{_plural(len(digest.active), 'active deployment')}, "
        f"{len(digest.attention)} check-ins to look at, {len(digest.completed)} completed."
    )


def personal_digest_text(digest: PersonalDigest) -> str:
    """The notification text of a personal digest."""
    parts = []
    if digest.supporting:
        parts.append(f"supporting {_plural(len(digest.supporting), 'school')}")
    if digest.supported:
        parts.append(f"{_plural(len(digest.supported), 'supporter')} working with you")
    if digest.waiting:
        parts.append(f"{_plural(len(digest.waiting), 'request')} looking for support")
    if digest.offers_waiting:
        parts.append(f"{_plural(digest.offers_waiting, 'offer')} awaiting your answer")
    colleague = sum(place.role == "colleague" for place in digest.team)
    if colleague:
        parts.append(f"on the team of {_plural(colleague, 'deployment')}")
    if shadowing := len(digest.team) - colleague:
        parts.append(f"shadowing {_plural(shadowing, 'deployment')}")
    if digest.visits:
        parts.append(_plural(len(digest.visits), "open-classroom visit"))
    return "Your week in school-to-school support: " + ", ".join(parts) + "."


# --- messages: the digests as owed, for an adapter to render ---------------------------------
@message_view("digest.coordinators")
@dataclass(frozen=True)
class CoordinatorDigestMessage:
    """The coordinators' weekly digest, times in `tz`."""

    digest: CoordinatorDigest
    tz: str


@message_view("digest.personal")
@dataclass(frozen=True)
class PersonalDigestMessage:
    """One person's weekly digest for `week`, times in `tz`."""

    digest: PersonalDigest
    week: DigestWeek
    tz: str
