"""A request's audit trail for coordinators, opened from the Home tab: who did what, when."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.core.audit_trail import audit_trail
from bot.core.errors import NotAllowed
from bot.directory.people import is_coordinator
from bot.requests.intake import get_request


@dataclass(frozen=True)
class TrailLine:
    """One entry: when (local time), who (a Slack user id, or None for the bot), what."""

    when: str
    actor: str | None
    words: str


@dataclass(frozen=True)
class RequestTrail:
    """A request's audit entries, oldest first, as a coordinator reads them."""

    request_id: int
    lines: tuple[TrailLine, ...]


def request_trail_for(
    session: Session, *, actor: str, request_id: int, tz: ZoneInfo
) -> RequestTrail:
    """The audit trail of a request, for coordinators only (anyone else is refused)."""
    if not is_coordinator(session, actor):
        raise NotAllowed(
            "Only coordinators can see a request's audit trail.",
            action="request.audit_trail",
            subject_type="request",
            subject_id=request_id,
        )
    get_request(session, request_id)  # NotFound for a request that doesn't exist
    lines = tuple(
        TrailLine(when=line.local_time(tz), actor=line.actor, words=line.words)
        for line in audit_trail(session, request_id=request_id)
    )
    return RequestTrail(request_id=request_id, lines=lines)
