"""Subject access and erasure (UK GDPR): everything held about a person, and erasing it.

`export_person` gathers one person's data as JSON-ready dicts; other people appear only as
ids. `erase_person` replaces their personal data and the free text they wrote, keeping ids,
statuses and dates for the audit; nothing is offered to them again, open offers to them are
withdrawn, their open requests cancelled and coordinators told what needs reassigning.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, or_, update
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.clock import LONDON, date_words
from bot.core.context import ServiceContext
from bot.core.text import escape
from bot.deployments.privacy import erase_written_by, records_of
from bot.directory.people import person_by_user_id, roles_of, school_of
from bot.members.service import active_memberships_of, all_memberships_of, end_membership
from bot.outbox.notify import notify_coordinators
from bot.outbox.owing import owe_update, was_posted
from bot.privacy.retention import (
    DONE_SENDING,
    erase_request_text,
    erase_sent_messages,
    erased_request_values,
)
from bot.reach.conversations import conversations_of, forget_conversations_of
from bot.reach.people import normal_user_id
from bot.requests.intake import card_ref, get_request, post_ref, request_tags, summarise
from bot.requests.views import ChannelPost, CoordinatorAlert, OfferClosed, RequestCard
from bot.routing.service import offer_next_round
from bot.visits.erasure import erase_visits_of
from bot.visits.records import export_visits
from storage.models import (
    ACCEPTED,
    CANCELLED,
    EXPIRED,
    OFFERED,
    OPEN,
    AuditEntry,
    CheckIn,
    CheckInAnswer,
    Deployment,
    DeploymentStatus,
    Offer,
    OfferStatus,
    OutboxMessage,
    Person,
    PersonExpertise,
    PersonRole,
    SupportRequest,
)

ERASED_NAME = "Erased person"
# A name shorter than this is too likely to occur by chance to search sent messages for.
SHORTEST_NAME_TO_SEARCH = 4


# --- export ----------------------------------------------------------------------------------
def _when(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def messages_to(session: Session, *user_ids: str | None) -> ColumnElement[bool]:
    """Outbox rows addressed to this person, by any of their ids (Slack, Teams): direct
    messages (and updates of them) and ephemerals."""
    ids = [i for i in user_ids if i]
    direct = col(OutboxMessage.channel).in_(ids)
    refs = [r for r in session.exec(select(OutboxMessage.ref).where(direct)) if r]
    dm_channels = [
        c
        for c in session.exec(select(OutboxMessage.sent_channel).where(direct).distinct())
        if c and c.startswith("D")
    ]
    return or_(
        direct,
        col(OutboxMessage.user).in_(ids),
        col(OutboxMessage.sent_channel).in_(dm_channels),
        col(OutboxMessage.update_of).in_(refs),
    )


def export_person(
    session: Session,
    slack_user_id: str,
    *,
    as_sent: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    tz: ZoneInfo = LONDON,
) -> dict[str, Any] | None:
    """Everything held about the person with this Slack or Teams user id, or None if unknown
    (dates of deployment records local to `tz`).

    `as_sent` turns a message's stored payload into what the platform was sent (its adapter
    renders neutral views); without it, messages show the stored, neutral payload.
    """
    person = person_by_user_id(session, slack_user_id)
    if person is None or person.id is None:
        return None
    requests = list(
        session.exec(
            select(SupportRequest)
            .where(SupportRequest.requester_id == person.id)
            .order_by(col(SupportRequest.id))
        )
    )
    ids = (person.slack_user_id, person.teams_user_id)
    return {
        "slack_user_id": person.slack_user_id,
        "teams_user_id": person.teams_user_id,
        "directory_entry": _directory_entry(session, person),
        "requests": [_request_export(session, r) for r in requests],
        "offers_received": _offers_export(session, person.id),
        "deployments": _deployments_export(session, person.id, [r.id for r in requests]),
        "deployment_memberships": _memberships_export(session, person.id),
        "checkin_answers": _answers_export(session, person.id),
        "deployment_records": records_of(session, person, tz),
        "audit_entries": _audit_export(session, person.id, ids),
        "messages_to_them": _messages_export(session, ids, as_sent),
        "teams_conversations": _conversations_export(session, person.teams_user_id),
        "visits": export_visits(session, person.id),
    }


def _conversations_export(session: Session, teams_user_id: str | None) -> list[dict[str, Any]]:
    """The Teams conversation references naming the person (their 1:1 chat with the bot)."""
    if not teams_user_id:
        return []
    return [
        {
            "conversation_id": ref.conversation_id,
            "conversation_type": ref.conversation_type,
            "service_url": ref.service_url,
            "reference": ref.reference,
            "updated_at": _when(ref.updated_at),
        }
        for ref in conversations_of(session, teams_user_id)
    ]


def _directory_entry(session: Session, person: Person) -> dict[str, Any]:
    school = school_of(session, person)
    return {
        "id": person.id,
        "name": person.name,
        "email": person.email,
        "preferred_platform": person.preferred_platform,
        "roles": sorted(roles_of(session, person.id or 0)),
        "school": {
            "name": school.name,
            "urn": school.urn,
            "phase": school.phase,
            "region": school.region,
            "local_authority": school.local_authority,
            "trust": school.trust,
        }
        if school
        else None,
        "expertise": sorted(
            session.exec(
                select(PersonExpertise.tag_slug).where(PersonExpertise.person_id == person.id)
            )
        ),
        "capacity": person.capacity,
        "available": person.available,
        "away_until": _when(person.away_until),
        "available_from": _when(person.available_from),
        "created_at": _when(person.created_at),
        "updated_at": _when(person.updated_at),
        "erased_at": _when(person.erased_at),
    }


def _request_export(session: Session, r: SupportRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "status": r.status,
        "source": r.source,
        "title": r.title,
        "description": r.description,
        "impact_note": r.impact_note,
        "urgency": r.urgency,
        "preferred_start": _when(r.preferred_start),
        "tags": request_tags(session, r.id or 0),
        "created_at": _when(r.created_at),
        "offered_at": _when(r.offered_at),
        "accepted_at": _when(r.accepted_at),
        "closed_at": _when(r.closed_at),
        "escalated_at": _when(r.escalated_at),
        "text_erased_at": _when(r.text_erased_at),
    }


def _offers_export(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Offer).where(col(Offer.supporter_id) == person_id).order_by(col(Offer.id))
    )
    return [
        {
            "id": o.id,
            "request_id": o.request_id,
            "round": o.round,
            "status": o.status,
            "reasons": o.reasons,
            "decline_reason": o.decline_reason,
            "suggested_user_id": o.suggested_user_id,
            "created_at": _when(o.created_at),
            "expires_at": _when(o.expires_at),
            "responded_at": _when(o.responded_at),
        }
        for o in rows
    ]


def _deployments_export(
    session: Session, person_id: int, request_ids: list[int | None]
) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Deployment)
        .where(
            or_(
                col(Deployment.supporter_id) == person_id,
                col(Deployment.request_id).in_(request_ids),
            )
        )
        .order_by(col(Deployment.id))
    )
    return [
        {
            "id": d.id,
            "request_id": d.request_id,
            "role": "supporter" if d.supporter_id == person_id else "head",
            "status": d.status,
            "started_at": _when(d.started_at),
            "ended_at": _when(d.ended_at),
            "checkin_every_days": d.checkin_every_days,
            "checkins_paused": d.checkins_paused,
            "impact_note": d.impact_note,
            "end_reason": d.end_reason,
        }
        for d in rows
    ]


def _memberships_export(session: Session, person_id: int) -> list[dict[str, Any]]:
    """Their places on deployments as a colleague or shadow, current and ended."""
    found = []
    for member in all_memberships_of(session, person_id):
        deployment = session.get(Deployment, member.deployment_id)
        found.append(
            {
                "deployment_id": member.deployment_id,
                "request_id": deployment.request_id if deployment else None,
                "role": str(member.role),
                "added_at": _when(member.added_at),
                "added_by_person_id": member.added_by_id,
                "removed_at": _when(member.removed_at),
                "removed_by_person_id": member.removed_by_id,
            }
        )
    return found


def _answers_export(session: Session, person_id: int) -> list[dict[str, Any]]:
    rows = session.exec(
        select(CheckInAnswer, CheckIn.deployment_id)
        .join(CheckIn, col(CheckIn.id) == col(CheckInAnswer.checkin_id))
        .where(CheckInAnswer.person_id == person_id)
        .order_by(col(CheckInAnswer.id))
    )
    return [
        {
            "id": a.id,
            "checkin_id": a.checkin_id,
            "deployment_id": deployment_id,
            "outcome": a.outcome,
            "note": a.note,
            "answered_at": _when(a.answered_at),
        }
        for a, deployment_id in rows
    ]


def _audit_export(
    session: Session, person_id: int, user_ids: tuple[str | None, ...]
) -> list[dict[str, Any]]:
    rows = session.exec(
        select(AuditEntry)
        .where(
            or_(
                col(AuditEntry.actor).in_([i for i in user_ids if i]),
                and_(
                    col(AuditEntry.subject_type) == "person",
                    col(AuditEntry.subject_id) == str(person_id),
                ),
            )
        )
        .order_by(col(AuditEntry.id))
    )
    return [
        {
            "id": e.id,
            "at": _when(e.at),
            "actor": e.actor,
            "action": e.action,
            "subject_type": e.subject_type,
            "subject_id": e.subject_id,
            "detail": e.detail,
        }
        for e in rows
    ]


def _messages_export(
    session: Session,
    user_ids: tuple[str | None, ...],
    as_sent: Callable[[dict[str, Any]], dict[str, Any]] | None,
) -> list[dict[str, Any]]:
    rows = session.exec(
        select(OutboxMessage).where(messages_to(session, *user_ids)).order_by(col(OutboxMessage.id))
    )
    return [
        {
            "id": m.id,
            "method": m.method,
            "channel": m.sent_channel or m.channel,
            "status": m.status,
            "created_at": _when(m.created_at),
            "sent_at": _when(m.sent_at),
            "text": m.payload.get("text"),
            "blocks": (as_sent(m.payload) if as_sent else m.payload).get("blocks"),
            "view": None if as_sent else m.payload.get("view"),
            "text_erased_at": _when(m.text_erased_at),
        }
        for m in rows
    ]


# --- erasure ---------------------------------------------------------------------------------
@dataclass
class ErasureReport:
    """What erasing a person did; ids only."""

    slack_user_id: str
    person_id: int
    erased_at: datetime
    already_erased: bool
    requests_erased: list[int] = field(default_factory=list)
    requests_cancelled: list[int] = field(default_factory=list)
    offers_withdrawn: list[int] = field(default_factory=list)
    deployments_to_reassign: list[int] = field(default_factory=list)
    memberships_ended: list[int] = field(default_factory=list)  # deployment ids
    decline_reasons: int = 0
    checkin_notes: int = 0
    impact_notes: int = 0
    end_reasons: int = 0  # why a coordinator ended a support they wrote, or one they led
    deployment_records: int = 0
    messages: int = 0
    visits: int = 0  # open classrooms: visits whose text was erased or that were cancelled

    @property
    def changed(self) -> bool:
        """Whether this run erased or changed anything."""
        return not self.already_erased or any(
            (
                self.requests_erased,
                self.offers_withdrawn,
                self.deployments_to_reassign,
                self.memberships_ended,
                self.decline_reasons,
                self.checkin_notes,
                self.impact_notes,
                self.end_reasons,
                self.deployment_records,
                self.messages,
                self.visits,
            )
        )

    def summary(self, tz: ZoneInfo) -> str:
        """One line for the operator (the day of an earlier erasure local to `tz`)."""
        parts = [
            _count(len(self.requests_erased), "request's text", "requests' text")
            + (f" ({len(self.requests_cancelled)} cancelled)" if self.requests_cancelled else ""),
            _count(len(self.offers_withdrawn), "open offer withdrawn", "open offers withdrawn"),
            _count(
                len(self.deployments_to_reassign),
                "deployment left for coordinators to reassign",
                "deployments left for coordinators to reassign",
            ),
            _count(
                len(self.memberships_ended),
                "place on a deployment's team ended",
                "places on deployments' teams ended",
            ),
            _count(self.decline_reasons, "decline reason", "decline reasons"),
            _count(self.checkin_notes, "check-in note", "check-in notes"),
            _count(self.impact_notes, "impact note", "impact notes"),
            _count(self.end_reasons, "reason a support was ended", "reasons supports were ended"),
            _count(
                self.deployment_records, "deployment record's notes", "deployment records' notes"
            ),
            _count(self.messages, "sent message", "sent messages"),
            _count(self.visits, "visit", "visits"),
        ]
        done = "; ".join(p for p in parts if p)
        if not self.already_erased:
            return (
                f"Erased {self.slack_user_id} (person #{self.person_id}): name, email, school, "
                f"roles and expertise" + (f"; {done}." if done else ".")
            )
        erased_on = date_words(self.erased_at.astimezone(tz))
        since = f"{self.slack_user_id} was already erased on {erased_on}"
        return (
            f"{since}; erased what had arrived since: {done}."
            if done
            else f"{since}; nothing more to erase."
        )


def _count(number: int, one: str, many: str) -> str:
    return "" if not number else f"1 {one}" if number == 1 else f"{number} {many}"


def erase_person(session: Session, ctx: ServiceContext, slack_user_id: str) -> ErasureReport | None:
    """Erase a person's personal data (idempotent); None if nobody has this Slack or Teams
    user id. Their Teams conversation references go too; their ids stay, for the audit.

    Owes offer withdrawals and coordinator notices in the caller's transaction.
    """
    person = _locked_person(session, slack_user_id)
    if person is None or person.id is None:
        return None
    now = ctx.now
    first = person.erased_at is None
    name, email = person.name, person.email
    if first:
        _blank_directory_entry(person, now)
    # No roles at all: never a candidate, a coordinator or anyone allowed to act.
    session.execute(delete(PersonRole).where(col(PersonRole.person_id) == person.id))
    session.execute(delete(PersonExpertise).where(col(PersonExpertise.person_id) == person.id))
    if person.teams_user_id:
        forget_conversations_of(session, person.teams_user_id)
    session.flush()
    report = ErasureReport(
        slack_user_id=slack_user_id,
        person_id=person.id,
        erased_at=person.erased_at or now,
        already_erased=not first,
    )
    _withdraw_open_offers(session, ctx, person.id, report)
    _end_memberships(session, ctx, person.id, report)
    if first:
        _flag_deployments(session, ctx, person.id, report)
    _erase_their_requests(session, ctx, person.id, report)
    report.visits += erase_visits_of(session, ctx, person.id)
    _erase_what_they_wrote(session, person, report, name=name if first else None)
    report.end_reasons += _erase_end_reasons(session, person)
    report.deployment_records += erase_written_by(session, person.id, now=now)
    report.messages += erase_sent_messages(
        session, _messages_about(session, person, name, email, first=first), now=now
    )
    if report.changed:
        _audit_erasure(session, report, person.id, now=now, again=not first)
    return report


def _blank_directory_entry(person: Person, now: datetime) -> None:
    """Their directory entry emptied: no name, contact, school, capacity or availability."""
    person.name = ERASED_NAME
    person.email = None
    person.school_id = None
    person.capacity = 0
    person.available = False
    person.away_until = None
    person.available_from = None
    person.erased_at = now
    person.updated_at = now


def _audit_erasure(
    session: Session, report: ErasureReport, person_id: int, *, now: datetime, again: bool
) -> None:
    audit.record(
        session,
        at=now,
        actor=None,
        action="person.erased",
        subject_type="person",
        subject_id=person_id,
        again=again,
        requests_erased=report.requests_erased,
        requests_cancelled=report.requests_cancelled,
        offers_withdrawn=report.offers_withdrawn,
        deployments_to_reassign=report.deployments_to_reassign,
        memberships_ended=report.memberships_ended,
    )


def _locked_person(session: Session, user_id: str) -> Person | None:
    """The person with this Slack or Teams user id, locked for the erasure and read afresh."""
    user_id = normal_user_id(user_id)
    return session.exec(
        select(Person)
        .where(or_(col(Person.slack_user_id) == user_id, col(Person.teams_user_id) == user_id))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _end_memberships(
    session: Session, ctx: ServiceContext, person_id: int, report: ErasureReport
) -> None:
    """Take them off every deployment team they are on: no more check-ins, no capacity used."""
    for member in active_memberships_of(session, person_id):
        end_membership(session, member, removed_by=None, actor=None, now=ctx.now, reason="erased")
        report.memberships_ended.append(member.deployment_id)


def _withdraw_open_offers(
    session: Session, ctx: ServiceContext, person_id: int, report: ErasureReport
) -> None:
    """Withdraw open offers to the person; a request left with none open is offered on."""
    request_ids = sorted(
        set(
            session.exec(
                select(Offer.request_id).where(
                    Offer.supporter_id == person_id, Offer.status == OfferStatus.OPEN
                )
            )
        )
    )
    for request_id in request_ids:
        request = get_request(session, request_id, for_update=True)  # request before offers
        withdrawn = _withdraw(
            session,
            ctx,
            and_(col(Offer.request_id) == request_id, col(Offer.supporter_id) == person_id),
            "This offer has been withdrawn, so nothing more is needed. Thank you.",
        )
        report.offers_withdrawn.extend(withdrawn)
        if withdrawn and request.status == OFFERED and not _open_offers(session, request_id):
            offer_next_round(session, ctx, request, actor=None)


def _withdraw(
    session: Session, ctx: ServiceContext, which: ColumnElement[bool], text: str
) -> list[int]:
    """Withdraw the open offers matching `which` and owe an update of each offer DM."""
    ids = list(
        session.exec(
            select(col(Offer.id))
            .where(which, col(Offer.status) == OfferStatus.OPEN)
            .order_by(col(Offer.id))
        )
    )
    withdrawn: list[int] = []
    for offer_id in ids:
        won = session.execute(
            update(Offer)
            .where(col(Offer.id) == offer_id, col(Offer.status) == OfferStatus.OPEN)
            .values(status=OfferStatus.WITHDRAWN, responded_at=ctx.now)
        ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
        if won and offer_id is not None:
            withdrawn.append(offer_id)
            owe_update(
                session,
                now=ctx.now,
                update_of=f"offer:{offer_id}",
                text=text,
                view=OfferClosed(text),
            )
    return withdrawn


def _open_offers(session: Session, request_id: int) -> int:
    return session.exec(
        select(func.count())
        .select_from(Offer)
        .where(Offer.request_id == request_id, Offer.status == OfferStatus.OPEN)
    ).one()


def _flag_deployments(
    session: Session, ctx: ServiceContext, person_id: int, report: ErasureReport
) -> None:
    """Active deployments the person supports stay, but coordinators are asked to reassign."""
    deployments = session.exec(
        select(Deployment)
        .where(Deployment.supporter_id == person_id, Deployment.status == DeploymentStatus.ACTIVE)
        .order_by(col(Deployment.id))
    ).all()
    reason = "its supporter's data was erased at their request"
    for deployment in deployments:
        request = get_request(session, deployment.request_id, for_update=True)
        request.escalated_at = ctx.now
        request.updated_at = ctx.now
        report.deployments_to_reassign.append(deployment.id or 0)
        audit.record(
            session,
            at=ctx.now,
            actor=None,
            action="request.escalated",
            subject_type="request",
            subject_id=request.id or 0,
            reason="supporter erased",
            deployment_id=deployment.id,
        )
        summary = summarise(session, request, ctx.vocabulary)
        notify_coordinators(
            session,
            ctx.settings,
            now=ctx.now,
            text=f"Request #{summary.id} needs a new supporter: {reason}.",
            view=CoordinatorAlert(summary, reason=reason),
            ref=f"request:{summary.id}:alert:{ctx.now.timestamp():.0f}",
        )


def _erase_their_requests(
    session: Session, ctx: ServiceContext, person_id: int, report: ErasureReport
) -> None:
    """Erase the text of the requests they made; cancel those not yet under way (waiting to
    be sent out, offered, or escalated for a coordinator to assign by hand)."""
    requests = session.exec(
        select(SupportRequest)
        .where(
            SupportRequest.requester_id == person_id,
            col(SupportRequest.text_erased_at).is_(None),
        )
        .order_by(col(SupportRequest.id))
    ).all()
    under_way: list[int] = []
    for stale in requests:
        request = get_request(session, stale.id or 0, for_update=True)
        if request.status in (OPEN, OFFERED, EXPIRED):
            request.status = CANCELLED
            request.closed_at = ctx.now
            request.updated_at = ctx.now
            _withdraw(
                session,
                ctx,
                col(Offer.request_id) == request.id,
                "This request has been withdrawn, so nothing more is needed. Thank you.",
            )
            report.requests_cancelled.append(request.id or 0)
            audit.record(
                session,
                at=ctx.now,
                actor=None,
                action="request.cancelled",
                subject_type="request",
                subject_id=request.id or 0,
                reason="requester erased",
            )
        elif request.status == ACCEPTED:
            under_way.append(request.id or 0)
        for column, value in erased_request_values(ctx.now).items():
            setattr(request, column, value)
        session.flush()
        report.requests_erased.append(request.id or 0)
        report.messages += erase_request_text(session, [request.id or 0], now=ctx.now)
        _update_slack_copies(session, ctx, request)
    if report.requests_cancelled or under_way:
        listed = ", ".join(f"#{i}" for i in report.requests_cancelled) or "none"
        going = ", ".join(f"#{i}" for i in under_way) or "none"
        notify_coordinators(
            session,
            ctx.settings,
            now=ctx.now,
            text=(
                "A head's data was erased at their request. Requests of theirs cancelled: "
                f"{listed}. Still under way (please check who the school's contact is now): "
                f"{going}."
            ),
        )


def _update_slack_copies(session: Session, ctx: ServiceContext, request: SupportRequest) -> None:
    """Replace the request card (and the bot's channel post) in Slack with the erased text.

    Only messages owed and not failed: an update of a message never sent would wait forever.
    """
    summary = summarise(session, request, ctx.vocabulary)
    text = "This request's details have been erased."
    if was_posted(session, card_ref(summary.id)):
        owe_update(
            session,
            now=ctx.now,
            update_of=card_ref(summary.id),
            text=text,
            view=RequestCard(summary),
        )
    if summary.source != "channel" and was_posted(session, post_ref(summary.id)):
        owe_update(
            session,
            now=ctx.now,
            update_of=post_ref(summary.id),
            text=text,
            view=ChannelPost(summary),
        )


def _erase_end_reasons(session: Session, person: Person) -> int:
    """The reasons given for ending supports early that they wrote (as a coordinator) or
    that are about a support they led; the head's go with their requests' text."""
    ended_by_them = select(col(AuditEntry.subject_id)).where(
        AuditEntry.action == "deployment.ended",
        col(AuditEntry.actor).in_([i for i in (person.slack_user_id, person.teams_user_id) if i]),
    )
    ids = [int(i) for i in session.exec(ended_by_them)]
    return int(
        session.execute(
            update(Deployment)
            .where(
                or_(col(Deployment.id).in_(ids), col(Deployment.supporter_id) == person.id),
                col(Deployment.end_reason).is_not(None),
            )
            .values(end_reason=None)
        ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
        or 0
    )


def _erase_what_they_wrote(
    session: Session, person: Person, report: ErasureReport, *, name: str | None
) -> None:
    """Their decline reasons, match reasons, check-in notes and the impact notes they gave."""
    person_id = person.id or 0
    report.decline_reasons += session.execute(
        update(Offer)
        .where(col(Offer.supporter_id) == person_id, col(Offer.decline_reason).is_not(None))
        .values(decline_reason=None)
    ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    session.execute(
        update(Offer)
        .where(col(Offer.supporter_id) == person_id, col(Offer.reasons) != "")
        .values(reasons="")
    )
    report.checkin_notes += session.execute(
        update(CheckInAnswer)
        .where(col(CheckInAnswer.person_id) == person_id, col(CheckInAnswer.note).is_not(None))
        .values(note=None)
    ).rowcount  # type: ignore[attr-defined]  # a DML result is a CursorResult
    # The impact note is written by whoever completed the support; the audit says who.
    completed = [
        int(subject_id)
        for subject_id in session.exec(
            select(AuditEntry.subject_id).where(
                AuditEntry.action == "deployment.completed",
                col(AuditEntry.actor).in_(
                    [i for i in (person.slack_user_id, person.teams_user_id) if i]
                ),
            )
        )
    ]
    for deployment in session.exec(
        select(Deployment).where(
            col(Deployment.id).in_(completed),
            col(Deployment.impact_note).is_not(None),
        )
    ):
        deployment.impact_note = None
        request = session.get(SupportRequest, deployment.request_id)
        if request is not None:
            request.impact_note = None
        report.impact_notes += 1
    if name:  # colleagues' offers say who suggested them
        for offer in session.exec(
            select(Offer).where(
                col(Offer.reasons).contains(f"suggested by {name}", autoescape=True)
            )
        ):
            offer.reasons = offer.reasons.replace(
                f"suggested by {name}", "suggested by a colleague"
            )
    session.flush()


def _messages_about(
    session: Session, person: Person, name: str, email: str | None, *, first: bool
) -> ColumnElement[bool]:
    """Sent messages to the person and, on the first erasure, any naming them or their email.

    Later runs catch only messages owed before the erasure (still unsent at the time): the
    ones owed since, such as the erasure's own withdrawals, hold nothing personal.
    """
    which = messages_to(session, person.slack_user_id, person.teams_user_id)
    if not first:
        return and_(which, col(OutboxMessage.created_at) < person.erased_at)
    needles = _needles(name, email)
    if not needles:
        return which
    naming = []
    query = select(OutboxMessage.id, OutboxMessage.payload).where(
        col(OutboxMessage.status).in_(DONE_SENDING),
        col(OutboxMessage.text_erased_at).is_(None),
    )
    for message_id, payload in session.exec(query.execution_options(yield_per=500)):
        text = json.dumps(payload, ensure_ascii=False)
        if any(needle in text for needle in needles):
            naming.append(message_id)
    return or_(which, col(OutboxMessage.id).in_(naming))


def _needles(name: str, email: str | None) -> set[str]:
    """The strings that identify the person in a message, as written and as escaped."""
    found: Iterable[str] = [name, email or ""]
    wanted = {s.strip() for s in found if len(s.strip()) >= SHORTEST_NAME_TO_SEARCH}
    return wanted | {escape(s) for s in wanted}
