"""Reading the audit log: a request's entries (its offers, deployment and check-ins too) or
a person's, each in readable words with its local time. Ids only, as the log holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_
from sqlmodel import Session, col, select

from storage.models import AuditEntry, CheckIn, Deployment, Offer, Person

# What each action did, in words; `{name}` is filled from the entry's detail.
_WORDS: Mapping[str, str] = {
    "request.captured": "captured the request",
    "request.submitted": "submitted the request form",
    "request.edited": "edited the request",
    "request.updated_from_post": "updated the request from the edited post",
    "request.offered": "offered the request to {supporters} (round {round})",
    "request.accepted": "accepted the offer",
    "request.assigned": "assigned a supporter by hand",
    "request.escalated": "asked the coordinators to assign someone ({reason})",
    "request.cancelled": "cancelled the request",
    "request.visit_instead": "asked to visit a school instead (the request was set aside)",
    "request.text_erased": "erased the request's text (retention)",
    "offer.declined": "declined an offer",
    "offer.suggested": "suggested a colleague",
    "deployment.released": "released the deployment",
    "deployment.completed": "marked the support completed",
    "deployment.ended": "ended the support early (the reason is on the deployment record)",
    "deployment.checkins_paused": "paused the check-ins",
    "deployment.checkins_resumed": "resumed the check-ins",
    "deployment.checkins_snoozed": "put off the next check-in for a week",
    "checkin.sent": "sent a check-in",
    "checkin.reminded": "sent a check-in reminder",
    "checkin.answered": "answered a check-in",
    "checkin.missed": "marked a check-in missed",
    "checkin.cadence": "changed how often check-ins come",
    "visit.offers_expired": "let lapse the unanswered invitations to host a visit",
    "visit.expired": "told the visitor and coordinators that no school took up the visit",
    "visit.host_assigned": "assigned a host to the visit by hand",
    "person.erased": "erased a person's data",
    "person.available": "changed their availability",
    "person.profile_saved": "saved their school's details",
    "directory.person_added": "added a person to the directory",
    "directory.person_updated": "updated a person in the directory",
    "directory.imported": "imported the directory",
    "directory.checked": "checked a directory file (nothing saved)",
    "directory.exported": "exported the directory",
    "digest.sent": "sent the weekly digest",
    "message.failed": "could not deliver a message",
}


@dataclass(frozen=True)
class AuditLine:
    """One audit entry as people read it."""

    entry_id: int
    at: datetime  # aware UTC
    actor: str | None  # a Slack user id; None for the bot itself
    action: str
    subject_type: str
    subject_id: str
    detail: Mapping[str, Any]
    words: str

    def local_time(self, tz: ZoneInfo) -> str:
        """When, in `tz`, with the zone's abbreviation: "23 Nov 2026, 09:00 GMT"."""
        local = self.at.astimezone(tz)
        return f"{local.day} {local:%b %Y, %H:%M %Z}"

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        """The line as a JSON object: UTC and local times, ids, the detail and the words."""
        return {
            "id": self.entry_id,
            "at": self.at.isoformat(),
            "local_time": self.at.astimezone(tz).isoformat(),
            "actor": self.actor,
            "action": self.action,
            "subject_type": self.subject_type,
            "subject_id": self.subject_id,
            "detail": dict(self.detail),
            "words": self.words,
        }


def audit_trail(
    session: Session, *, request_id: int | None = None, slack_user_id: str | None = None
) -> list[AuditLine]:
    """Audit entries, oldest first: about a request (with its offers, deployments and
    check-ins), by or about a person, both (entries meeting both), or everything."""
    query = select(AuditEntry)
    if request_id is not None:
        query = query.where(_about_request(session, request_id))
    if slack_user_id is not None:
        query = query.where(_by_or_about_person(session, slack_user_id))
    entries = session.exec(query.order_by(col(AuditEntry.at), col(AuditEntry.id))).all()
    return [_line(entry) for entry in entries]


def _about_request(session: Session, request_id: int) -> Any:
    """Entries whose subject is the request, one of its offers, deployments or check-ins."""
    offers = session.exec(select(Offer.id).where(Offer.request_id == request_id)).all()
    deployments = session.exec(
        select(Deployment.id).where(Deployment.request_id == request_id)
    ).all()
    checkins = (
        session.exec(select(CheckIn.id).where(col(CheckIn.deployment_id).in_(deployments))).all()
        if deployments
        else []
    )
    return or_(
        _subject("request", [request_id]),
        _subject("offer", offers),
        _subject("deployment", deployments),
        _subject("checkin", checkins),
    )


def _by_or_about_person(session: Session, slack_user_id: str) -> Any:
    """Entries the person did, or whose subject is their directory entry."""
    person_id = session.exec(select(Person.id).where(Person.slack_user_id == slack_user_id)).first()
    about = _subject("person", [person_id]) if person_id is not None else false()
    return or_(col(AuditEntry.actor) == slack_user_id, about)


def _subject(kind: str, ids: Sequence[Any]) -> Any:
    if not ids:
        return false()
    return and_(
        col(AuditEntry.subject_type) == kind,
        col(AuditEntry.subject_id).in_([str(value) for value in ids]),
    )


def _line(entry: AuditEntry) -> AuditLine:
    return AuditLine(
        entry_id=entry.id or 0,
        at=entry.at,
        actor=entry.actor,
        action=entry.action,
        subject_type=entry.subject_type,
        subject_id=entry.subject_id,
        detail=entry.detail or {},
        words=describe(entry.action, entry.subject_type, entry.subject_id, entry.detail or {}),
    )


def describe(action: str, subject_type: str, subject_id: str, detail: Mapping[str, Any]) -> str:
    """What an audit entry records, in words ("offered the request to 3 supporters (round 1)")."""
    if action.endswith(".refused"):
        tried = action.removesuffix(".refused").replace(".", " ").replace("_", " ")
        return f"was refused ({tried} on {subject_type} {subject_id})"
    template = _WORDS.get(action)
    if template is None:
        # An action this list does not know yet: its own name, readably.
        return action.replace(".", " ").replace("_", " ")
    supporters = detail.get("supporters")
    values = {
        "round": detail.get("round", "?"),
        "reason": detail.get("reason") or "no reason given",
        "supporters": _count(len(supporters) if isinstance(supporters, list) else 0, "supporter"),
    }
    return template.format(**values)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
