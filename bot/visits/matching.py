"""Which schools are asked to host a visit: those that host visits, whose staff have the
expertise asked for; best covered first, then the visitor's phase and region, then the least
busy this half term (schools full this half term last)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from bot.core.school_calendar import HalfTerm
from storage.models import Person, PersonExpertise, School, VisitRequest, VisitStatus

STAFF_PER_SCHOOL = 2  # colleagues asked at each host school
HOLDING_A_DAY = (VisitStatus.BOOKED, VisitStatus.VISITED)


@dataclass(frozen=True)
class HostCandidate:
    """A member of staff at a host school who has some of the expertise asked for."""

    person: Person
    school: School
    tags: tuple[str, ...]  # the areas asked for that they have


def visits_in_half_term(
    session: Session, school_id: int, half: HalfTerm, *, besides: int | None = None
) -> int:
    """Visits the school has hosted or booked within `half` (not counting visit `besides`)."""
    query = (
        select(func.count())
        .select_from(VisitRequest)
        .where(
            col(VisitRequest.host_school_id) == school_id,
            col(VisitRequest.status).in_(HOLDING_A_DAY),
            col(VisitRequest.visit_date) >= half.first_day,
            col(VisitRequest.visit_date) <= half.last_day,
        )
    )
    if besides is not None:
        query = query.where(col(VisitRequest.id) != besides)
    return int(session.exec(query).one())


def _staff_with_expertise(
    session: Session, tags: tuple[str, ...], *, visitor: Person
) -> dict[int, tuple[Person, School, set[str]]]:
    """Everyone at a host school (not the visitor's) with any of `tags`, by person id."""
    rows = session.exec(
        select(Person, School, PersonExpertise.tag_slug)
        .join(School, col(School.id) == col(Person.school_id))
        .join(PersonExpertise, col(PersonExpertise.person_id) == col(Person.id))
        .where(
            col(School.hosts_visits).is_(True),
            col(School.visits_per_half_term) > 0,
            col(PersonExpertise.tag_slug).in_(tags),
            col(Person.erased_at).is_(None),
            col(Person.available).is_(True),
            col(Person.id) != visitor.id,
        )
    ).all()
    found: dict[int, tuple[Person, School, set[str]]] = {}
    for person, school, slug in rows:
        if visitor.school_id is not None and school.id == visitor.school_id:
            continue
        found.setdefault(person.id or 0, (person, school, set()))[2].add(slug)
    return found


def find_hosts(
    session: Session,
    tags: tuple[str, ...],
    *,
    visitor: Person,
    half: HalfTerm,
    schools_wanted: int,
) -> list[HostCandidate]:
    """The staff to ask: at the best `schools_wanted` host schools, up to two each."""
    by_school: dict[int, list[tuple[Person, School, set[str]]]] = {}
    for person, school, slugs in _staff_with_expertise(session, tags, visitor=visitor).values():
        by_school.setdefault(school.id or 0, []).append((person, school, slugs))

    home = session.get(School, visitor.school_id) if visitor.school_id else None

    def school_rank(school_id: int) -> tuple[int, bool, bool, int, str]:
        staff = by_school[school_id]
        school = staff[0][1]
        covered = len(set().union(*(slugs for _, _, slugs in staff)))
        busy = visits_in_half_term(session, school_id, half)
        # Then the visitor's own phase and region, as a coordinator would pair them.
        other_phase = home is not None and home.phase is not None and school.phase != home.phase
        far = home is not None and home.region is not None and school.region != home.region
        return (-covered, other_phase, far, busy, school.name.casefold())

    ranked = sorted(by_school, key=school_rank)
    full = {
        school_id
        for school_id in ranked
        if visits_in_half_term(session, school_id, half)
        >= by_school[school_id][0][1].visits_per_half_term
    }
    # Schools full this half term come last: they may still pick a day in a later one.
    chosen = [s for s in ranked if s not in full] + [s for s in ranked if s in full]
    hosts: list[HostCandidate] = []
    for school_id in chosen[:schools_wanted]:
        staff = sorted(by_school[school_id], key=lambda s: (-len(s[2]), s[0].name.casefold()))
        for person, school, slugs in staff[:STAFF_PER_SCHOOL]:
            hosts.append(HostCandidate(person, school, tuple(t for t in tags if t in slugs)))
    return hosts
