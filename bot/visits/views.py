"""Platform-neutral shapes of open classrooms: what a visit request looks like to the people
involved, the form's draft, Home tab lines and the digest's section."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from bot.core.text import escape
from storage.models import VisitStatus, VisitUsefulness

USEFULNESS_LABELS = {
    VisitUsefulness.VERY: "Very useful",
    VisitUsefulness.SOMEWHAT: "Somewhat useful",
    VisitUsefulness.NOT_REALLY: "Not really",
}
STATUS_LABELS = {
    VisitStatus.OFFERED: "waiting for a host school",
    VisitStatus.UNMATCHED: "no host school found yet (coordinators told)",
    VisitStatus.ACCEPTED: "accepted; the host is picking a date",
    VisitStatus.BOOKED: "booked",
    VisitStatus.VISITED: "visited",
    VisitStatus.CANCELLED: "cancelled",
}
DESCRIPTION_LIMIT = 3000


@dataclass(frozen=True)
class VisitDraft:
    """What the visit form holds: what they'd like to see, and the areas of practice."""

    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class VisitSummary:
    """One visit request as the visitor and the host see it."""

    id: int
    visitor: str  # Slack user id
    visitor_name: str
    visitor_school: str | None
    description: str
    areas: tuple[str, ...]  # labels
    status: VisitStatus
    host: str | None = None  # Slack user id of the host who accepted
    host_school: str | None = None
    visit_date: date | None = None

    def areas_text(self) -> str:
        """The areas of practice, escaped, for mrkdwn."""
        return ", ".join(escape(a) for a in self.areas) or "practice"

    def visitor_text(self) -> str:
        """The visitor and their school, for mrkdwn."""
        school = f" ({escape(self.visitor_school)})" if self.visitor_school else ""
        return f"<@{self.visitor}>{school}"


def day_text(d: date) -> str:
    """A visit day as people say it: "Tuesday 8 December 2026"."""
    return f"{d:%A} {d.day} {d:%B %Y}"


@dataclass(frozen=True)
class VisitLine:
    """One visit on someone's Home tab: as the visitor or as the host."""

    id: int
    as_host: bool
    other: str | None  # the other side's Slack user id, once known
    school: str | None  # the host's school (for the visitor) or the visitor's (for the host)
    areas: tuple[str, ...]
    status: VisitStatus
    visit_date: date | None
    offer_id: int | None = None  # an open offer the host can still accept


@dataclass
class VisitDigest:
    """The open-classrooms section of the coordinators' weekly digest: counts only."""

    asked: int = 0
    booked: int = 0
    visited: int = 0
    unmatched: int = 0
    usefulness: dict[str, int] = field(default_factory=dict)  # label -> answers this week
    upcoming: int = 0  # booked for a day after the week
    waiting: int = 0  # no host yet, or a host who has not picked the day

    def is_empty(self) -> bool:
        """True when nothing happened and nothing is coming."""
        return not (
            self.asked
            or self.booked
            or self.visited
            or self.unmatched
            or self.upcoming
            or self.waiting
        ) and not any(self.usefulness.values())


def visit_line_text(line: VisitLine, today: date) -> str:
    """One visit in a personal digest, as the visitor or the host sees it, in the bot's
    markup (user text escaped); each platform adds its own bullet."""
    areas = ", ".join(escape(a) for a in line.areas) or "practice"
    school = escape(line.school) if line.school else None
    day = f"*{day_text(line.visit_date)}*" if line.visit_date else ""
    past = line.visit_date is not None and line.visit_date < today
    if line.as_host:
        visitor = f"<@{line.other}>" if line.other else "a visitor"
        who = f"{visitor}{f' ({school})' if school else ''}"
        if line.visit_date is None:
            return f"You're hosting {who} to see *{areas}* (visit #{line.id}): please pick a day."
        verb = "You hosted" if past else "You're hosting"
        return f"{verb} {who} to see *{areas}* on {day}."
    where = school or "a host school"
    if line.status in (VisitStatus.OFFERED, VisitStatus.UNMATCHED):
        return f"Your visit to see *{areas}* (visit #{line.id}): {STATUS_LABELS[line.status]}."
    if line.visit_date is None:
        return f"Your visit to {where} to see *{areas}*: the host is picking a day."
    verb = "You visited" if past else "You're visiting"
    return f"{verb} {where} to see *{areas}* on {day}."
