"""Growing leaders in the coordinators' digest: per aspiring leader, the deployments they
have shadowed this academic year (1 September to 31 August, in TIMEZONE)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, select

from bot.core.context import ServiceContext
from bot.digest.views import GrowingLeader
from bot.members.service import shadowing_since
from storage.models import ASPIRING_ROLES, Person, PersonRole

ROLE_LABELS = {"aspiring-nle": "aspiring NLE", "aspiring-sle": "aspiring SLE"}


def academic_year_start(day: date) -> date:
    """1 September of the academic year `day` falls in."""
    return date(day.year if day.month >= 9 else day.year - 1, 9, 1)


def growing_leaders(session: Session, ctx: ServiceContext) -> list[GrowingLeader]:
    """Every aspiring leader (not erased) with the deployments they shadowed this academic
    year so far; those who shadowed most first, then by name."""
    today = ctx.calendar.local(ctx.now).date()
    start = datetime.combine(academic_year_start(today), time(), tzinfo=ctx.settings.tz)
    shadowed: dict[int, list[int]] = defaultdict(list)
    for place in shadowing_since(session, start, ctx.now + timedelta(seconds=1)):
        if place.request_id not in shadowed[place.person_id]:
            shadowed[place.person_id].append(place.request_id)
    roles: dict[int, list[str]] = defaultdict(list)
    people: dict[int, Person] = {}
    for person, role in session.exec(
        select(Person, PersonRole.role)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(col(PersonRole.role).in_(ASPIRING_ROLES), col(Person.erased_at).is_(None))
        .order_by(col(PersonRole.role))
    ):
        people[person.id or 0] = person
        roles[person.id or 0].append(ROLE_LABELS[role])
    found = [
        GrowingLeader(
            name=person.name,
            roles=tuple(roles[pid]),
            request_ids=tuple(shadowed.get(pid, ())),
        )
        for pid, person in people.items()
    ]
    return sorted(found, key=lambda g: (-len(g.request_ids), g.name.lower()))
