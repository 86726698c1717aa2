"""What open classrooms show and keep: Home tab lines, the digest's section (counts only),
and a person's visits for subject access and erasure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import ScalarSelect, func, or_, union_all
from sqlalchemy import select as sql_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.reach.people import WithUserIds, user_id_of
from bot.visits.views import USEFULNESS_LABELS, VisitDigest, VisitLine
from storage.db import by_status
from storage.models import (
    OfferStatus,
    Person,
    School,
    VisitFeedback,
    VisitOffer,
    VisitRequest,
    VisitStatus,
    VisitTag,
)

HOME_SHOWN = 10


class Known(WithUserIds, Protocol):
    """Someone in the directory (or a row of them): their ids, and whether they were erased."""

    @property
    def erased_at(self) -> datetime | None: ...


def _labels(session: Session, visit_ids: list[int], label: Any) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    if visit_ids:
        for link in session.exec(
            select(VisitTag)
            .where(col(VisitTag.visit_id).in_(visit_ids))
            .order_by(VisitTag.tag_slug)
        ):
            found.setdefault(link.visit_id, []).append(label(link.tag_slug))
    return {k: tuple(v) for k, v in found.items()}


def home_visits(session: Session, person_id: int, label: Any) -> tuple[VisitLine, ...]:
    """The visits a person asked for or hosts (newest first), and open offers to host one."""
    visits = list(
        session.exec(
            select(VisitRequest)
            .where(
                or_(
                    col(VisitRequest.requester_id) == person_id,
                    col(VisitRequest.host_id) == person_id,
                )
            )
            .order_by(col(VisitRequest.created_at).desc(), col(VisitRequest.id).desc())
            .limit(HOME_SHOWN)
        )
    )
    offers = session.exec(
        select(VisitOffer, VisitRequest)
        .join(VisitRequest, col(VisitRequest.id) == col(VisitOffer.visit_id))
        .where(
            VisitOffer.host_id == person_id,
            VisitOffer.status == OfferStatus.OPEN,
            VisitRequest.status == VisitStatus.OFFERED,
        )
        .limit(HOME_SHOWN)
    ).all()
    labels = _labels(session, [v.id or 0 for v in visits] + [v.id or 0 for _, v in offers], label)
    people = {p.id: p for p in session.exec(select(Person))}
    schools = {s.id: s.name for s in session.exec(select(School))}

    def line(v: VisitRequest, offer_id: int | None = None) -> VisitLine:
        as_host = v.requester_id != person_id
        other_id = v.requester_id if as_host else v.host_id
        other = people.get(other_id)
        school_id = v.school_id if as_host else v.host_school_id
        return VisitLine(
            id=v.id or 0,
            as_host=as_host,
            other=user_id_of(other) if other and other.erased_at is None else None,
            school=schools.get(school_id),
            areas=labels.get(v.id or 0, ()),
            status=v.status,
            visit_date=v.visit_date,
            offer_id=offer_id,
        )

    return tuple([line(v, o.id) for o, v in offers] + [line(v) for v in visits])


# A personal digest mentions visits still looking for a host or a day, and those whose day
# falls from the start of the digest's period on (visited lately, or still to come).
_UNDATED = (VisitStatus.OFFERED, VisitStatus.UNMATCHED, VisitStatus.ACCEPTED)
_DATED = (VisitStatus.BOOKED, VisitStatus.VISITED)


def visits_by_person(
    session: Session,
    *,
    since: date,
    label: Any,
    people: Mapping[int | None, Known] | None = None,
    schools: Mapping[int | None, str] | None = None,
) -> dict[int, list[VisitLine]]:
    """Each person's visits for their personal digest, as visitor or host: those waiting for
    a host or a day, and those on a day from `since` on; by day (undated last). `people` and
    `schools` (by id) save reading them again when the caller has them."""
    # Two look-ups, each through an index (an OR of them scans every visit ever made).
    undated = col(VisitRequest.status).in_(_UNDATED)
    found_visits = union_all(
        select(VisitRequest).where(by_status(session, col(VisitRequest.id), undated)),
        select(VisitRequest).where(
            col(VisitRequest.visit_date) >= since, col(VisitRequest.status).in_(_DATED)
        ),
    ).subquery()
    visits = list(session.exec(select(aliased(VisitRequest, found_visits))))
    labels = _labels(session, [v.id or 0 for v in visits], label)
    if people is None:
        people = {p.id: p for p in session.exec(select(Person))}
    if schools is None:
        schools = {s.id: s.name for s in session.exec(select(School))}

    def seen_by(v: VisitRequest, as_host: bool) -> VisitLine:
        other = people.get(v.requester_id if as_host else v.host_id)
        return VisitLine(
            id=v.id or 0,
            as_host=as_host,
            other=user_id_of(other) if other and other.erased_at is None else None,
            school=schools.get(v.school_id if as_host else v.host_school_id),
            areas=labels.get(v.id or 0, ()),
            status=v.status,
            visit_date=v.visit_date,
        )

    found: dict[int, list[VisitLine]] = {}
    for v in sorted(visits, key=lambda v: (v.visit_date or date.max, v.id or 0)):
        found.setdefault(v.requester_id, []).append(seen_by(v, as_host=False))
        if v.host_id is not None and v.host_id != v.requester_id:
            found.setdefault(v.host_id, []).append(seen_by(v, as_host=True))
    return found


def visit_digest(
    session: Session, start: datetime, end: datetime, *, first_day: Any, last_day: Any
) -> VisitDigest:
    """The week's open classrooms for coordinators: asked, booked, visited, found no host,
    coming up, and how useful people found them (counts, no names)."""

    def count(*where: Any) -> ScalarSelect[int]:
        return sql_select(func.count()).select_from(VisitRequest).where(*where).scalar_subquery()

    counts = sql_select(
        count(col(VisitRequest.created_at) >= start, col(VisitRequest.created_at) < end),
        count(col(VisitRequest.booked_at) >= start, col(VisitRequest.booked_at) < end),
        count(
            col(VisitRequest.status) == VisitStatus.VISITED,
            col(VisitRequest.visit_date) >= first_day,
            col(VisitRequest.visit_date) <= last_day,
        ),
        count(col(VisitRequest.status) == VisitStatus.UNMATCHED),
        count(
            col(VisitRequest.status) == VisitStatus.BOOKED, col(VisitRequest.visit_date) > last_day
        ),
        count(col(VisitRequest.status).in_((VisitStatus.OFFERED, VisitStatus.ACCEPTED))),
    )
    asked, booked, visited, unmatched, upcoming, waiting = session.execute(counts).one()
    answers = Counter(
        session.exec(
            select(VisitFeedback.usefulness).where(
                col(VisitFeedback.answered_at) >= start, col(VisitFeedback.answered_at) < end
            )
        ).all()
    )
    return VisitDigest(
        asked=asked,
        booked=booked,
        visited=visited,
        unmatched=unmatched,
        upcoming=upcoming,
        waiting=waiting,
        usefulness={label: answers.get(value, 0) for value, label in USEFULNESS_LABELS.items()},
    )


def export_visits(session: Session, person_id: int) -> list[dict[str, Any]]:
    """Every visit the person asked for or hosts, with offers to them and their answers."""
    visits = session.exec(
        select(VisitRequest)
        .where(
            or_(col(VisitRequest.requester_id) == person_id, col(VisitRequest.host_id) == person_id)
        )
        .order_by(col(VisitRequest.id))
    ).all()
    feedback = {
        f.visit_id: str(f.usefulness)
        for f in session.exec(select(VisitFeedback).where(VisitFeedback.person_id == person_id))
    }
    offered = session.exec(select(VisitOffer).where(VisitOffer.host_id == person_id)).all()
    rows = [
        {
            "id": v.id,
            "role": "visitor" if v.requester_id == person_id else "host",
            "status": str(v.status),
            "description": v.description if v.requester_id == person_id else None,
            "visit_date": v.visit_date.isoformat() if v.visit_date else None,
            "created_at": v.created_at.isoformat(),
            "their_answer": feedback.get(v.id or 0),
        }
        for v in visits
    ]
    rows += [
        {
            "id": o.visit_id,
            "role": "asked to host",
            "offer_status": str(o.status),
            "reasons": o.reasons,
        }
        for o in offered
    ]
    return rows
