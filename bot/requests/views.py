"""What a request looks like to the people shown it: platform-neutral shapes the renderers take."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from bot.core.messages import message_view

# What a request's card says once a coordinator has ended its support (*End this support*).
# The card may be in a shared channel, so it never gives the reason: only those on the
# support are told that, by DM.
SUPPORT_ENDED = "The coordinators have ended this support."


@dataclass(frozen=True)
class Draft:
    """A request as the head wrote it in the modal, before or after validation."""

    title: str
    description: str
    tags: tuple[str, ...]
    urgency: str = "routine"
    preferred_start: date | None = None
    school_name: str = ""
    phase: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class RequestSummary:
    """What everyone shown a request may see of it, ready to render."""

    id: int
    status: str
    title: str
    description: str
    tags: tuple[tuple[str, str], ...]  # (slug, label)
    urgency: str
    preferred_start: date | None
    school: str | None
    phase: str | None
    region: str | None
    requester: str
    assigned_to: str | None
    awaiting_profile: bool
    source: str
    created_at: datetime
    # Cancelled because a coordinator ended the support under way (*End this support*).
    support_ended: bool = False


# --- messages: what is posted about a request, for an adapter to render ----------------------
# A view holds only what its message shows: it waits in the outbox, and is erased by the refs
# of what it is about, so the request's own words stay out of messages that never show them.
def without_words(summary: RequestSummary) -> RequestSummary:
    """`summary` less the request's own words (title and description)."""
    return replace(summary, title="", description="")


@message_view("requests.card")
@dataclass(frozen=True)
class RequestCard:
    """The requester's card of their request: where it stands, with Edit and Cancel."""

    summary: RequestSummary


@message_view("requests.channel_post")
@dataclass(frozen=True)
class ChannelPost:
    """A request as announced in the requests channel (no school where it is hidden)."""

    summary: RequestSummary


@message_view("requests.updated")
@dataclass(frozen=True)
class RequestUpdated:
    """A thread reply saying the requester changed the request, with a preview of it."""

    summary: RequestSummary


@message_view("requests.offer_closed")
@dataclass(frozen=True)
class OfferClosed:
    """An offer DM that can no longer be accepted, with why."""

    text: str


@message_view("requests.coordinator_alert")
@dataclass(frozen=True)
class CoordinatorAlert:
    """Tells coordinators a request needs them (nobody to offer it to, released, ...)."""

    summary: RequestSummary
    reason: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "summary", without_words(self.summary))
