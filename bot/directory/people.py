"""Looking people up in the directory, and adding someone who is not there yet."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, or_, select

from bot.core.errors import Conflict, NotFound
from bot.core.text import escape
from bot.reach.people import normal_user_id, platform_of
from storage.folding import casefolded
from storage.models import Person, PersonRole, Platform, School


def person_by_user_id(session: Session, user_id: str) -> Person | None:
    """The directory entry for a Slack or Teams user id, if any (erased people included)."""
    if not user_id:
        return None
    user_id = normal_user_id(user_id)
    return session.exec(
        select(Person).where(
            or_(col(Person.slack_user_id) == user_id, col(Person.teams_user_id) == user_id)
        )
    ).first()


def person_named(session: Session, words: str) -> Person:
    """The one person in the directory with this email or name (case aside, in any alphabet),
    for a command that names someone in words (where a chat cannot @mention a directory
    entry)."""
    wanted = " ".join(words.split())
    if not wanted:
        raise NotFound("Please say who: their name or email address.")
    field = Person.email if "@" in wanted else Person.name
    named = casefolded(col(field)) == casefolded(wanted)  # both folded alike: storage.folding
    found = list(session.exec(select(Person).where(named).limit(2)))
    if not found:
        raise NotFound(f"I can't find '{escape(words.strip())}' in the directory.")
    if len(found) > 1:
        raise Conflict(
            f"More than one person is called '{escape(words.strip())}': use their email."
        )
    return found[0]


def roles_of(session: Session, person_id: int | None) -> set[str]:
    """The roles a person holds."""
    if person_id is None:
        return set()
    return set(session.exec(select(PersonRole.role).where(PersonRole.person_id == person_id)))


def has_role(session: Session, user_id: str, role: str) -> bool:
    """Whether the Slack or Teams user holds `role` in the directory."""
    person = person_by_user_id(session, user_id)
    return person is not None and role in roles_of(session, person.id)


def is_coordinator(session: Session, user_id: str) -> bool:
    """Whether the Slack or Teams user is a coordinator."""
    return has_role(session, user_id, "coordinator")


def ensure_person(session: Session, user_id: str, *, name: str, now: datetime) -> Person:
    """The person for a Slack or Teams user id, added (with no roles yet) if the directory
    lacks them or their data was erased."""
    user_id = normal_user_id(user_id)
    person = person_by_user_id(session, user_id)
    if person is None:
        on_teams = platform_of(user_id) == Platform.TEAMS
        person = Person(
            slack_user_id=None if on_teams else user_id,
            teams_user_id=user_id if on_teams else None,
            name=name,
            created_at=now,
            updated_at=now,
        )
        session.add(person)
        session.flush()
    elif person.erased_at is not None:
        # Someone whose data was erased has come back and asked again: a fresh start, with
        # only what they give us now (school, phase and region are asked again).
        person.erased_at = None
        person.name = name
        person.school_id = None
        person.updated_at = now
    return person


def school_of(session: Session, person: Person) -> School | None:
    """The person's school, if known."""
    return session.get(School, person.school_id) if person.school_id else None


def find_or_create_school(
    session: Session,
    name: str,
    *,
    phase: str | None = None,
    region: str | None = None,
    urn: str | None = None,
) -> School:
    """The school with this URN, else this name (case aside, in any alphabet; the oldest, as
    the directory import takes, if several), created if new; fills in phase, region and a URN
    no other school holds."""
    clean = " ".join(name.split())
    by_urn = session.exec(select(School).where(School.urn == urn)).first() if urn else None
    school = (
        by_urn
        or session.exec(
            select(School)
            .where(casefolded(col(School.name)) == casefolded(clean))
            .order_by(col(School.id))
        ).first()
    )
    if school is None:
        school = School(name=clean, phase=phase, region=region, urn=urn)
        session.add(school)
        session.flush()
        return school
    school.phase = school.phase or phase
    school.region = school.region or region
    if urn and school.urn is None:  # by name, and the URN is nobody else's (looked up above)
        school.urn = urn
    return school


def give_role(session: Session, person: Person, role: str) -> None:
    """Add `role` to the person if they lack it."""
    if role not in roles_of(session, person.id):
        session.add(PersonRole(person_id=person.id or 0, role=role))
