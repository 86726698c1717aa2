"""What a request looks like to the people shown it: platform-neutral shapes the renderers take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


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
