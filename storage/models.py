"""SQLModel tables: the directory, requests and their offers, deployments (and their team
members), check-ins, the audit log, inbound Slack events, the progress of directory imports
that may be done again, the outbox of owed messages, the rate limits its senders share, and
digest runs.

Times are stored in UTC and always come back timezone-aware (see `UTCDateTime`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Index,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlmodel import AutoString, Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A datetime stored as UTC and returned timezone-aware on every database."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# --- statuses: stored as their plain strings, read back as members ---------------------------
class RequestStatus(StrEnum):
    """Where a request is in its life (CONTRACT.md)."""

    OPEN = "open"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class OfferStatus(StrEnum):
    """How one supporter's offer ended, or that it is still open."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class DeploymentStatus(StrEnum):
    """Whether a deployment is running, and if not, how it ended."""

    ACTIVE = "active"
    COMPLETED = "completed"
    RELEASED = "released"
    REASSIGNED = "reassigned"
    CANCELLED = "cancelled"


class CheckInStatus(StrEnum):
    """Where one check-in is: waiting to be sent, sent, answered, missed or cancelled."""

    SCHEDULED = "scheduled"
    SENT = "sent"
    ANSWERED = "answered"
    MISSED = "missed"
    CANCELLED = "cancelled"


class OutboxStatus(StrEnum):
    """Where an owed message is on its way to Slack."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class CheckInOutcome(StrEnum):
    """What one person answered to a check-in."""

    ON_TRACK = "on_track"
    NEEDS_ATTENTION = "needs_attention"
    COMPLETED = "completed"
    SNOOZED = "snoozed"


class MemberRole(StrEnum):
    """How someone besides the lead supporter is part of a deployment (team deployments)."""

    COLLEAGUE = "colleague"  # a colleague from the lead's school; counts against capacity
    SHADOW = "shadow"  # an aspiring leader coming along to learn; does not


class VisitStatus(StrEnum):
    """Where a request to visit and observe practice is (open classrooms)."""

    OFFERED = "offered"  # host schools asked, nobody has accepted yet
    UNMATCHED = "unmatched"  # no school hosting visits has the expertise (coordinators told)
    ACCEPTED = "accepted"  # a host accepted and is picking a date
    BOOKED = "booked"  # a date is set
    VISITED = "visited"  # the day has passed; "was it useful?" asked
    CANCELLED = "cancelled"


class VisitUsefulness(StrEnum):
    """How useful one person found a visit."""

    VERY = "very"
    SOMEWHAT = "somewhat"
    NOT_REALLY = "not_really"


class InboundOutcome(StrEnum):
    """How a saved Slack event ended: handled, or given up after its attempts."""

    HANDLED = "handled"
    GAVE_UP = "gave_up"


class StatusColumn(TypeDecorator[StrEnum]):
    """A status kept as a plain string column and read back as a member of its `StrEnum`."""

    impl = AutoString
    cache_ok = True

    def __init__(self, enum: type[StrEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else str(self.enum(value))

    def process_result_value(self, value: str | None, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


# Kept for the many callers that name request statuses directly.
OPEN, OFFERED, ACCEPTED, CLOSED, CANCELLED, EXPIRED = RequestStatus
REQUEST_STATUSES = tuple(RequestStatus)
ROLES = ("head", "nle", "sle", "specialist", "coordinator", "aspiring-nle", "aspiring-sle")
# People growing into system leadership, who may shadow a deployment (issue #13, part 6).
ASPIRING_ROLES = ("aspiring-nle", "aspiring-sle")
SUPPORTER_ROLES = ("nle", "sle", "specialist")
PHASES = ("nursery", "primary", "secondary", "all-through", "special", "16-plus")
# England's nine regions, as the DfE (and ONS) name them.
REGIONS = (
    "North East",
    "North West",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)
URGENCIES = ("routine", "soon", "urgent")


def _ts(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class _Table(SQLModel):
    """Every table's base. Pydantic builds a table's validator and serialiser only if one is
    used (`defer_build`): the bot never validates or dumps rows with pydantic, and building
    them for every table was about a fifth of importing this module at each start."""

    model_config = SQLModel.model_config | {"defer_build": True}


# --- the directory -------------------------------------------------------------------------
class School(_Table, table=True):
    """A school, known by name and (optionally) its DfE URN."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    urn: str | None = Field(default=None, unique=True)
    phase: str | None = None
    region: str | None = None
    local_authority: str | None = None
    # The multi-academy trust the school belongs to: a supporter from the requesting school's
    # trust has a conflict of interest (EXCLUDE_SAME_TRUST).
    trust: str | None = None
    # Open classrooms: whether the school welcomes visitors, and how many visits a half term.
    hosts_visits: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    visits_per_half_term: int = Field(default=1, sa_column_kwargs={"server_default": text("1")})


class Platform(StrEnum):
    """A chat platform the bot reaches people on."""

    SLACK = "slack"
    TEAMS = "teams"


class Person(_Table, table=True):
    """Someone in the directory: a head, a supporter, a coordinator, or several at once.

    They are known on Slack, on Microsoft Teams (by their Entra object id), or on both; the
    database refuses a person with neither id.
    """

    __table_args__ = (
        CheckConstraint(
            "slack_user_id IS NOT NULL OR teams_user_id IS NOT NULL",
            name="ck_person_has_platform_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    slack_user_id: str | None = Field(default=None, unique=True, index=True)
    teams_user_id: str | None = Field(default=None, unique=True, index=True)
    # Where to reach them when they have both ids; None: Slack first.
    preferred_platform: Platform | None = Field(default=None, sa_type=StatusColumn(Platform))
    name: str
    email: str | None = None
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    capacity: int = 1
    available: bool = True
    away_until: date | None = None
    # From the directory: a supporter is not offered anything before this local date.
    available_from: date | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    erased_at: datetime | None = _ts(default=None)


class PersonRole(_Table, table=True):
    """One role a person holds (`head`, `nle`, `sle`, `specialist`, `coordinator`)."""

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    role: str = Field(primary_key=True, index=True)


class ExpertiseTag(_Table, table=True):
    """One entry of the controlled vocabulary of areas of need and expertise."""

    slug: str = Field(primary_key=True)
    label: str
    category: str
    synonyms: list[str] = Field(default_factory=list, sa_type=JSON)


class PersonExpertise(_Table, table=True):
    """An area a supporter can help with."""

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    tag_slug: str = Field(foreign_key="expertisetag.slug", primary_key=True, index=True)


# --- requests, offers, deployments ----------------------------------------------------------
class SupportRequest(_Table, table=True):
    """One ask for support from a school."""

    __tablename__ = "support_request"

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="person.id", index=True)
    school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    title: str = ""
    description: str = Field(default="", sa_type=Text)
    urgency: str = "routine"
    preferred_start: date | None = None
    status: RequestStatus = Field(
        default=RequestStatus.OPEN, index=True, sa_type=StatusColumn(RequestStatus)
    )
    source: str = "command"  # channel | command | shortcut | cli
    # Identifies where the request came from (e.g. "msg:C1:1700000000.0001") so a Slack
    # retry, a double submit or a second capture of the same message never stores it twice.
    source_key: str | None = Field(default=None, unique=True)
    channel_id: str | None = None
    message_ts: str | None = None
    thread_channel_id: str | None = None
    thread_ts: str | None = None
    awaiting_profile: bool = False
    offer_round: int = 0
    assigned_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    created_at: datetime = _ts(index=True)
    updated_at: datetime = _ts()
    offered_at: datetime | None = _ts(default=None)
    accepted_at: datetime | None = _ts(default=None, index=True)
    closed_at: datetime | None = _ts(default=None, index=True)
    escalated_at: datetime | None = _ts(default=None)
    impact_note: str | None = Field(default=None, sa_type=Text)
    text_erased_at: datetime | None = _ts(default=None)


class RequestTag(_Table, table=True):
    """An area of need of a request."""

    __tablename__ = "request_tag"

    request_id: int = Field(foreign_key="support_request.id", primary_key=True)
    tag_slug: str = Field(foreign_key="expertisetag.slug", primary_key=True, index=True)


class Offer(_Table, table=True):
    """A request offered to one supporter, with why they matched."""

    __table_args__ = (
        UniqueConstraint("request_id", "supporter_id", name="uq_offer_request_supporter"),
        Index("ix_offer_status_expires", "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="support_request.id", index=True)
    supporter_id: int = Field(foreign_key="person.id", index=True)
    round: int = 1
    status: OfferStatus = Field(default=OfferStatus.OPEN, sa_type=StatusColumn(OfferStatus))
    score: float = 0.0
    reasons: str = ""
    created_at: datetime = _ts()
    expires_at: datetime | None = _ts(default=None)
    responded_at: datetime | None = _ts(default=None)
    decline_reason: str | None = Field(default=None, sa_type=Text)
    suggested_user_id: str | None = None


END_REASON_LIMIT = 300


class Deployment(_Table, table=True):
    """An accepted request: who supports whom, since when."""

    __table_args__ = (
        # At most one active deployment per request, enforced by the database itself.
        Index(
            "uq_deployment_active_request",
            "request_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # Routing's "last deployed" per supporter, read from the index alone.
        Index("ix_deployment_supporter_started", "supporter_id", "started_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    request_id: int = Field(foreign_key="support_request.id", index=True)
    supporter_id: int = Field(foreign_key="person.id", index=True)
    status: DeploymentStatus = Field(
        default=DeploymentStatus.ACTIVE, index=True, sa_type=StatusColumn(DeploymentStatus)
    )
    started_at: datetime = _ts(index=True)
    ended_at: datetime | None = _ts(default=None, index=True)
    checkin_every_days: int | None = None
    checkins_paused: bool = False
    impact_note: str | None = Field(default=None, sa_type=Text)
    # Why a coordinator ended the support early (*End this support*), in a few words.
    end_reason: str | None = Field(default=None, max_length=END_REASON_LIMIT)


class DeploymentMember(_Table, table=True):
    """A colleague or shadow on a deployment besides its lead supporter (whose own place is
    `Deployment.supporter_id`). Ending a membership keeps the row, with `removed_at`."""

    __tablename__ = "deployment_member"
    __table_args__ = (
        # Someone is on a deployment at most once at a time, however many clicks race.
        Index(
            "uq_deployment_member_current",
            "deployment_id",
            "person_id",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: MemberRole = Field(sa_type=StatusColumn(MemberRole))
    added_by_id: int | None = Field(default=None, foreign_key="person.id")
    added_at: datetime = _ts(index=True)
    removed_at: datetime | None = _ts(default=None)
    removed_by_id: int | None = Field(default=None, foreign_key="person.id")


class CheckIn(_Table, table=True):
    """One scheduled "how is it going?" for a deployment, sent to the head and the supporter."""

    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("deployment_id", "sequence", name="uq_checkin_deployment_sequence"),
        Index("ix_checkin_status_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    sequence: int = 1
    due_at: datetime = _ts()
    status: CheckInStatus = Field(
        default=CheckInStatus.SCHEDULED, sa_type=StatusColumn(CheckInStatus)
    )
    sent_at: datetime | None = _ts(default=None)
    reminded_at: datetime | None = _ts(default=None)
    answered_at: datetime | None = _ts(default=None)
    claimed_until: datetime | None = _ts(default=None)
    # When the one reminder falls due (sent_at plus CHECKIN_REMINDER_HOURS working hours).
    remind_at: datetime | None = _ts(default=None)
    # When it was marked missed: nobody answered before the next check-in was due.
    missed_at: datetime | None = _ts(default=None, index=True)


class CheckInAnswer(_Table, table=True):
    """One person's answer to a check-in."""

    __tablename__ = "checkin_answer"
    __table_args__ = (UniqueConstraint("checkin_id", "person_id", name="uq_checkin_answer"),)

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int = Field(foreign_key="checkin.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    outcome: CheckInOutcome = Field(index=True, sa_type=StatusColumn(CheckInOutcome))
    note: str | None = Field(default=None, sa_type=Text)
    answered_at: datetime = _ts(index=True)


# --- open classrooms: visits to observe practice ---------------------------------------------
class VisitRequest(_Table, table=True):
    """Someone asks to visit a school and observe practice; a host school accepts, picks a day."""

    __tablename__ = "visit_request"
    __table_args__ = (
        Index("ix_visit_status_remind", "status", "remind_at"),
        Index("ix_visit_status_follow_up", "status", "follow_up_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    requester_id: int = Field(foreign_key="person.id", index=True)
    school_id: int | None = Field(default=None, foreign_key="school.id")
    description: str = Field(default="", sa_type=Text)
    status: VisitStatus = Field(
        default=VisitStatus.OFFERED, index=True, sa_type=StatusColumn(VisitStatus)
    )
    # The submitted form's view id, so a double submit or a retry never stores it twice.
    source_key: str | None = Field(default=None, unique=True)
    host_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    host_school_id: int | None = Field(default=None, foreign_key="school.id", index=True)
    visit_date: date | None = Field(default=None, index=True)
    created_at: datetime = _ts(index=True)
    updated_at: datetime = _ts()
    accepted_at: datetime | None = _ts(default=None)
    booked_at: datetime | None = _ts(default=None, index=True)
    remind_at: datetime | None = _ts(default=None)  # the working day before, CHECKIN_TIME
    reminded_at: datetime | None = _ts(default=None)
    follow_up_at: datetime | None = _ts(default=None)  # the working day after
    followed_up_at: datetime | None = _ts(default=None, index=True)
    claimed_until: datetime | None = _ts(default=None)
    text_erased_at: datetime | None = _ts(default=None)


class VisitTag(_Table, table=True):
    """An area of practice a visitor wants to see."""

    __tablename__ = "visit_tag"

    visit_id: int = Field(foreign_key="visit_request.id", primary_key=True)
    tag_slug: str = Field(foreign_key="expertisetag.slug", primary_key=True, index=True)


class VisitOffer(_Table, table=True):
    """A visit request offered to one member of staff at a school that hosts visits."""

    __tablename__ = "visit_offer"
    __table_args__ = (
        UniqueConstraint("visit_id", "host_id", name="uq_visit_offer_host"),
        Index("ix_visit_offer_status_expires", "status", "expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit_request.id", index=True)
    host_id: int = Field(foreign_key="person.id", index=True)
    status: OfferStatus = Field(default=OfferStatus.OPEN, sa_type=StatusColumn(OfferStatus))
    reasons: str = ""
    created_at: datetime = _ts()
    # An invitation nobody answers expires (VISIT_OFFER_TIMEOUT_DAYS school days of working time).
    expires_at: datetime | None = _ts(default=None)
    responded_at: datetime | None = _ts(default=None)


class VisitFeedback(_Table, table=True):
    """One person's answer to "was it useful?" after a visit."""

    __tablename__ = "visit_feedback"
    __table_args__ = (UniqueConstraint("visit_id", "person_id", name="uq_visit_feedback"),)

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="visit_request.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    usefulness: VisitUsefulness = Field(sa_type=StatusColumn(VisitUsefulness))
    answered_at: datetime = _ts(index=True)


# --- plumbing: audit, Slack events, the outbox, digests --------------------------------------
class AuditEntry(_Table, table=True):
    """Who did what to which thing, when. Carries ids, never request text."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(index=True)
    actor: str | None = Field(default=None, index=True)  # Slack user id, or None for the bot
    action: str = Field(index=True)
    subject_type: str
    subject_id: str = Field(index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class InboundEvent(_Table, table=True):
    """A verified Slack event, saved before it is acknowledged and kept until it is handled.

    Its `event_id` also recognises Slack's retries. The body (which may hold message text) is
    cleared once the event has been handled or given up; the row is forgotten after a week.
    """

    __tablename__ = "inbound_event"

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True)
    body: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    received_at: datetime = _ts(index=True)
    attempts: int = 0
    claimed_until: datetime | None = _ts(default=None)
    processed_at: datetime | None = _ts(default=None, index=True)
    outcome: InboundOutcome | None = Field(default=None, sa_type=StatusColumn(InboundOutcome))


class DirectoryImportBatch(_Table, table=True):
    """One committed batch of a directory import that may be done again (a Slack import cut
    short): what each of its rows came to, saved in the batch's own transaction, so doing the
    import again skips it and still reports the whole file. Deleted once the report is owed."""

    __tablename__ = "directory_import_batch"

    id: int | None = Field(default=None, primary_key=True)
    import_key: str = Field(index=True)
    file_digest: str  # the file's SHA-256: outcomes of another file's lines are not reused
    results: list[Any] = Field(default_factory=list, sa_type=JSON)  # [line, outcome] pairs
    saved_at: datetime = _ts(index=True)


class OutboxMessage(_Table, table=True):
    """A Slack Web API call the bot owes, written in the transaction that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_status_next", "status", "next_attempt_at"),
        Index("ix_outbox_status_sent", "status", "sent_at"),  # pruning sent rows
        # The claim's look for an earlier message still owed in the same conversation.
        Index("ix_outbox_conversation", "platform", "channel", "status", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = _ts()
    method: str  # chat.postMessage | chat.update | chat.postEphemeral | response_url
    # The chat platform whose adapter renders and delivers it; the payload's `view` is neutral.
    platform: str = Field(default="slack", sa_column_kwargs={"server_default": "slack"})
    channel: str  # a channel id, or a user id for a DM
    user: str | None = None  # for ephemeral messages and replies through a response_url
    # A reply's `response_url` (a capability: never logged; cleared once used or refused).
    response_url: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    ref: str | None = Field(default=None, index=True)  # e.g. "offer:12" to find the ts later
    update_of: str | None = Field(default=None, index=True)  # chat.update: `ref` to edit
    thread_of: str | None = Field(default=None, index=True)  # reply to the message with this `ref`
    dedupe_key: str | None = Field(default=None, unique=True)
    status: OutboxStatus = Field(default=OutboxStatus.PENDING, sa_type=StatusColumn(OutboxStatus))
    attempts: int = 0
    next_attempt_at: datetime = _ts()
    claimed_until: datetime | None = _ts(default=None)
    claim_token: str | None = None
    in_doubt: bool = False  # a claim lapsed mid-send: Slack may already have the message
    # When its first failed attempt was (a 429 or a wait is none): the clock for giving up.
    failing_since: datetime | None = _ts(default=None)
    last_error: str | None = None
    sent_channel: str | None = None
    sent_ts: str | None = None
    sent_at: datetime | None = _ts(default=None)
    # When a sent message's text was erased (bot.privacy.retention); its ids and times are kept.
    text_erased_at: datetime | None = _ts(default=None)


class TeamsConversationRef(_Table, table=True):
    """Where the bot can write to on Teams: one conversation's reference (its `serviceUrl`,
    tenant, bot and conversation), saved when the bot is installed or spoken to there.

    A personal (1:1) conversation also names the Teams user (Entra object id) it is with, so a
    message owed to that person finds its way; the newest reference wins.
    """

    __tablename__ = "teams_conversation_ref"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: str = Field(unique=True)
    conversation_type: str = "personal"  # personal | channel | groupChat
    teams_user_id: str | None = Field(default=None, unique=True)  # personal conversations only
    tenant_id: str | None = None
    service_url: str
    reference: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
    removed_at: datetime | None = _ts(default=None)


class PaceSlot(_Table, table=True):
    """One rate limit shared by every running copy of the bot (`bot.outbox.shared_pacing`):
    when its next call is due at the steady rate, and until when a 429 paused it, both in
    seconds since the epoch. A row whose times have passed means the same as no row."""

    __tablename__ = "pace_slot"

    key: str = Field(primary_key=True)  # e.g. "slack:chat.postMessage", "slack:channel:C1"
    due: float = 0.0
    paused_until: float = 0.0


class DigestRun(_Table, table=True):
    """One week's coordinator digest; the primary key makes it at most once per week."""

    __tablename__ = "digest_run"

    week_start: date = Field(primary_key=True)
    created_at: datetime = _ts()
    sent_at: datetime | None = _ts(default=None)


# --- the deployment lifecycle: first visit, agreement, visits, review, closing impact ---------
class ReviewDecision(StrEnum):
    """What someone answered at the mid-point review."""

    CONTINUE = "continue"
    ADJUST = "adjust"
    CLOSE = "close"


class ProgressRating(StrEnum):
    """How far one objective got, rated by the supported school's head at closure."""

    NOT_STARTED = "not_started"
    SOME = "some"
    GOOD = "good"
    MET = "met"


class DeploymentPlan(_Table, table=True):
    """One deployment's lifecycle: first visit, agreement, mid-point review, closing request.

    Made by the due work (or the first click on a step), under the deployment's row lock;
    every step may be skipped, and each skip or step is audited.
    """

    __tablename__ = "deployment_plan"

    deployment_id: int = Field(foreign_key="deployment.id", primary_key=True)
    created_at: datetime = _ts()
    first_visit_on: date | None = None
    first_visit_skipped: bool = False
    expected_impact: str | None = Field(default=None, sa_type=Text)
    days_committed: float | None = None
    review_on: date | None = None
    agreement_drafted_by: int | None = Field(default=None, foreign_key="person.id")
    agreement_drafted_at: datetime | None = _ts(default=None)
    agreement_confirmed_by: int | None = Field(default=None, foreign_key="person.id")
    agreement_confirmed_at: datetime | None = _ts(default=None)
    agreement_skipped: bool = False
    # The mid-point review: asked of both at `review_due_at` (the review date, or halfway).
    review_due_at: datetime | None = _ts(default=None, index=True)
    review_sent_at: datetime | None = _ts(default=None)
    review_skipped: bool = False
    # When the closing impact record was asked for (once the deployment ended).
    closing_asked_at: datetime | None = _ts(default=None, index=True)
    # When both people were sent the "next steps" (a click may make the plan before that).
    next_steps_sent_at: datetime | None = _ts(default=None)
    text_erased_at: datetime | None = _ts(default=None)


class DeploymentObjective(_Table, table=True):
    """One objective of a deployment's agreement, with the head's closing rating."""

    __tablename__ = "deployment_objective"
    __table_args__ = (
        UniqueConstraint("deployment_id", "position", name="uq_deployment_objective_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    position: int = 1
    text: str = Field(default="", sa_type=Text)
    rating: ProgressRating | None = Field(default=None, sa_type=StatusColumn(ProgressRating))
    head_comment: str | None = Field(default=None, sa_type=Text)
    supporter_comment: str | None = Field(default=None, sa_type=Text)


class DeploymentVisit(_Table, table=True):
    """Days given on a visit (or since the last check-in) and a short note, by one person."""

    __tablename__ = "deployment_visit"
    __table_args__ = (
        # One entry per person per check-in, so a double submit never counts days twice.
        UniqueConstraint("checkin_id", "person_id", name="uq_deployment_visit_checkin_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    checkin_id: int | None = Field(default=None, foreign_key="checkin.id")
    visited_on: date | None = None
    days: float = 0.0
    note: str | None = Field(default=None, sa_type=Text)
    recorded_at: datetime = _ts()
    # The form it came from (e.g. "slack:V123"): a double submit is saved once.
    form_key: str | None = Field(default=None, unique=True)


class DeploymentReview(_Table, table=True):
    """One person's answer to the mid-point review: continue, adjust or close."""

    __tablename__ = "deployment_review"
    __table_args__ = (
        UniqueConstraint("deployment_id", "person_id", name="uq_deployment_review_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str  # head | supporter
    decision: ReviewDecision = Field(sa_type=StatusColumn(ReviewDecision))
    note: str | None = Field(default=None, sa_type=Text)
    answered_at: datetime = _ts()


class DeploymentImpact(_Table, table=True):
    """One person's closing comment on a deployment (the head's with their ratings)."""

    __tablename__ = "deployment_impact"
    __table_args__ = (
        UniqueConstraint("deployment_id", "person_id", name="uq_deployment_impact_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    deployment_id: int = Field(foreign_key="deployment.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str  # head | supporter
    comment: str | None = Field(default=None, sa_type=Text)
    recorded_at: datetime = _ts()
