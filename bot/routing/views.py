"""What offers and acceptances look like: platform-neutral messages an adapter renders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.messages import message_view
from bot.core.text import escape
from bot.requests.views import RequestSummary, without_words


@message_view("routing.offer_invitation")
@dataclass(frozen=True)
class OfferInvitation:
    """The supporter's invitation to help: the request, why them, until when (in `tz`)."""

    summary: RequestSummary
    offer_id: int
    reasons: str
    show_school: bool
    expires_at: datetime | None
    tz: str


@message_view("routing.accepted")
@dataclass(frozen=True)
class Accepted:
    """What the supporter sees once the request is theirs: who, how to reach them, next steps."""

    summary: RequestSummary
    deployment_id: int
    head_slack_id: str | None
    head_email: str | None


@message_view("routing.assigned_notice")
@dataclass(frozen=True)
class AssignedNotice:
    """Tells coordinators who now supports a request."""

    summary: RequestSummary
    supporter_slack_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "summary", without_words(self.summary))


def supporter_line(supporter: str, email: str | None, *, on_teams: bool = False) -> str:
    """The thread reply telling the head who will support them (`supporter`: a neutral
    mention) and how to reach them (where the supporter is: Slack, or Microsoft Teams)."""
    reach = f" or by email at {escape(email)}" if email else ""
    where = "in Microsoft Teams" if on_teams else "here in Slack"
    return (
        f"Good news: {supporter} will support you. They'll be in touch within a "
        f"week; you can also message them {where}{reach}."
    )
