"""What a digest says: platform-neutral shapes the renderers take."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from bot.insight.service import Headline


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


@dataclass
class PersonalDigest:
    """One head's or supporter's week: their deployments, their waiting requests, offers."""

    person_id: int
    slack_user_id: str
    name: str
    supporting: list[DeploymentItem] = field(default_factory=list)
    supported: list[DeploymentItem] = field(default_factory=list)
    waiting: list[RequestItem] = field(default_factory=list)
    offers_waiting: int = 0


@dataclass
class WeeklyDigest:
    """The coordinators' digest and every personal digest of one week."""

    coordinators: CoordinatorDigest
    personal: list[PersonalDigest]
