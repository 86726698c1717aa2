"""A coordinator finds any active support, to end it (*End a support…*) or to change its
check-ins (*Check-ins for a support…*), at a region's scale: by a few letters of the school's
name or the lead supporter's name, the school's URN (exact or its start) or the request's
number (`#12`).

One query over the active deployments (their status is indexed), limited, with the total
counted apart, so a type-ahead stays quick however many supports run. Each word typed must
match; case does not matter, in any alphabet ("émile" finds "Émile Zola Academy"). Only
coordinators may search. Each support found carries how its check-ins stand (paused, or when
the next is due), read in the same query, so that *Check-ins for a support…* can say so before
the coordinator chooses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.core.clock import as_utc, short_day
from bot.deployments.ending import NOT_A_COORDINATOR, check_coordinator
from storage.folding import casefolded
from storage.models import (
    CheckIn,
    CheckInStatus,
    Deployment,
    DeploymentStatus,
    Person,
    School,
    SupportRequest,
)

DUE_SOON = {0: "due today", 1: "due tomorrow"}  # days until a check-in, as people say them
MOST_SHOWN = 100  # Slack's most options in a menu
MOST_WORDS = 6  # words of a query that count; the rest are ignored
MOST_WORD_LENGTH = 100


@dataclass(frozen=True)
class ActiveSupport:
    """An active deployment as a coordinator picks it: no more than tells them apart."""

    deployment_id: int
    request_id: int
    school: str | None
    urn: str | None
    supporter: str | None  # the lead supporter's name; None once erased
    started_at: datetime
    checkins_paused: bool = False
    next_checkin_at: datetime | None = None  # the scheduled check-in's due time, if any


@dataclass(frozen=True)
class SupportSearch:
    """What matched a query, most recent first, and how many matched in all."""

    matches: tuple[ActiveSupport, ...]
    total: int

    @property
    def left_out(self) -> int:
        """How many matched but are not shown."""
        return self.total - len(self.matches)


def find_active_supports(
    session: Session,
    *,
    actor: str,
    query: str,
    limit: int = MOST_SHOWN,
    refusal: str = NOT_A_COORDINATOR,
) -> SupportSearch:
    """The active supports matching `query` (everything, most recent first, when it is
    blank), at most `limit`; NotAllowed (saying `refusal`) for anyone but a coordinator."""
    check_may_find(session, actor=actor, refusal=refusal)
    supporter = aliased(Person)
    conditions = [
        col(Deployment.status) == DeploymentStatus.ACTIVE,
        *(_matches(word, supporter) for word in query_words(query)),
    ]
    shown = (
        select(  # type: ignore[call-overload]  # sqlmodel types select() for up to 4 columns
            col(Deployment.id),
            col(Deployment.request_id),
            col(School.name),
            col(School.urn),
            supporter.name,
            supporter.erased_at,
            col(Deployment.started_at),
            col(Deployment.checkins_paused),
            _next_checkin_due(),
        )
        .join(SupportRequest, col(SupportRequest.id) == col(Deployment.request_id))
        .outerjoin(School, col(School.id) == col(SupportRequest.school_id))
        .outerjoin(supporter, supporter.id == col(Deployment.supporter_id))
        .where(*conditions)
    )
    rows = session.exec(
        shown.order_by(col(Deployment.started_at).desc(), col(Deployment.id).desc()).limit(
            max(limit, 0)
        )
    ).all()
    # Counted without the check-in column: only the shown rows need it.
    counted = shown.with_only_columns(col(Deployment.id), maintain_column_froms=True)
    total = session.exec(select(func.count()).select_from(counted.subquery())).one()
    return SupportSearch(tuple(_support(*row) for row in rows), int(total))


def checkins_words(support: ActiveSupport, tz: ZoneInfo, now: datetime) -> str:
    """How a support's check-ins stand at `now`, in a few words: "paused", "due today", "due
    tomorrow", "next Tue 8 Dec" (the local date the next is due), "due now" (its day has passed:
    it goes out with the next round) or, with none scheduled, "none scheduled"."""
    if support.checkins_paused:
        return "paused"
    if support.next_checkin_at is None:
        return "none scheduled"
    days_away = (support.next_checkin_at.astimezone(tz).date() - now.astimezone(tz).date()).days
    if days_away < 0:
        return "due now"
    return DUE_SOON.get(days_away) or f"next {short_day(support.next_checkin_at, tz)}"


def check_may_find(session: Session, *, actor: str, refusal: str = NOT_A_COORDINATOR) -> None:
    """NotAllowed, saying `refusal`, unless `actor` is a coordinator (before the form opens,
    and on each search)."""
    check_coordinator(session, actor=actor, action="deployment.find", refusal=refusal)


def query_words(query: str) -> list[str]:
    """The words of a query that count, as typed (`casefolded` folds them in SQL)."""
    return [word[:MOST_WORD_LENGTH] for word in query.split()[:MOST_WORDS]]


def _matches(word: str, supporter: Any) -> Any:
    """One word's condition: in the school's name or the lead's, the URN's start, or `#N`."""
    # The pattern is folded in SQL as the names are, escapes and all: folding leaves `\`, `%`
    # and `_` as they are and makes none of them from another letter (storage.folding).
    contains = casefolded(f"%{_escaped(word)}%")
    either = [
        casefolded(col(School.name)).like(contains, escape="\\"),
        and_(
            supporter.erased_at.is_(None),
            casefolded(supporter.name).like(contains, escape="\\"),
        ),
    ]
    if word.isdigit():
        either.append(col(School.urn).like(f"{word}%"))
    number = word.removeprefix("#")
    if number.isdigit() and len(number) <= 9:
        either.append(col(SupportRequest.id) == int(number))
    return or_(*either)


def _next_checkin_due() -> Any:
    """Each deployment's scheduled check-in's due time (NULL for none), as a column of the
    search: a subquery on the check-ins' `deployment_id` index, so no query per support."""
    return (
        select(func.min(col(CheckIn.due_at)))
        .where(
            col(CheckIn.deployment_id) == col(Deployment.id),
            col(CheckIn.status) == CheckInStatus.SCHEDULED,
        )
        .correlate(Deployment)
        .scalar_subquery()
    )


def _escaped(word: str) -> str:
    """`word` for a LIKE pattern: its own `%`, `_` and `\\` taken literally."""
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _support(
    deployment_id: int | None,
    request_id: int,
    school: str | None,
    urn: str | None,
    supporter: str | None,
    erased_at: datetime | None,
    started_at: datetime,
    checkins_paused: bool,
    next_checkin_at: datetime | None,
) -> ActiveSupport:
    return ActiveSupport(
        deployment_id=deployment_id or 0,
        request_id=request_id,
        school=school,
        urn=urn,
        supporter=supporter if erased_at is None else None,
        started_at=started_at,
        checkins_paused=bool(checkins_paused),
        next_checkin_at=as_utc(next_checkin_at) if next_checkin_at else None,
    )
