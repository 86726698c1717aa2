"""Team deployments: a lead supporter adds colleagues from their own school, or an aspiring
leader as a shadow; anyone on the team can be taken off again (or step off themselves).

Colleagues count against their own capacity (`bot.members.service.load_of`, their directory
row locked as accepting an offer does, so two teams can't both take someone's last place);
shadows don't. Each change is one transaction, audited, and owes its messages: the person
added or removed is told by DM, and the head hears who is joining the support for their
school. Check-ins reach the team through `bot.checkins` (it reads the members).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core.context import ServiceContext
from bot.core.errors import Conflict, NotAllowed, NotFound
from bot.directory.people import is_coordinator, person_by_user_id
from bot.members.service import (
    current_members,
    loads,
)
from bot.reach.people import is_user, user_id_of
from bot.teamwork.views import ROLE_WORDS, PersonChoice, TeamForm, TeamMember
from storage.models import (
    ASPIRING_ROLES,
    Deployment,
    DeploymentStatus,
    Person,
    PersonRole,
    School,
    SupportRequest,
)

# Slack's selects hold at most 100 options; a school with more staff is cut at this many.
MOST_CHOICES = 100


@dataclass(frozen=True)
class Team:
    """A deployment as team changes see it, with its row locked."""

    deployment: Deployment
    request: SupportRequest
    lead: Person
    actor: Person | None


def team_of(session: Session, *, actor: str, deployment_id: int, action: str) -> Team:
    """The deployment, locked, if `actor` leads it or is a coordinator; else NotAllowed."""
    deployment = session.get(
        Deployment, deployment_id, with_for_update=True, populate_existing=True
    )
    if deployment is None:
        raise NotFound("I can't find that deployment any more.")
    request = session.get(SupportRequest, deployment.request_id)
    lead = session.get(Person, deployment.supporter_id)
    if request is None or lead is None:
        raise NotFound("I can't find the support this was about any more.")
    person = person_by_user_id(session, actor)
    if not is_user(lead, actor) and not is_coordinator(session, actor):
        raise NotAllowed(
            "Only the lead supporter on this deployment, or a coordinator, can change its team.",
            action=action,
            subject_type="deployment",
            subject_id=deployment_id,
        )
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict("This support has ended, so its team can't change now.")
    return Team(deployment, request, lead, person)


# --- who may be chosen ----------------------------------------------------------------------------
def _unavailable_ids(session: Session, team: Team) -> set[int]:
    """The lead, the head who asked and everyone already on the team."""
    taken = {m.person_id for m in current_members(session, team.deployment.id or 0)}
    return taken | {team.lead.id or 0, team.request.requester_id}


def colleague_choices(session: Session, team: Team) -> tuple[list[PersonChoice], int]:
    """Staff of the lead's school with room for one more deployment, by name; and how many
    more are at capacity (not offered)."""
    if team.lead.school_id is None:
        return [], 0
    skip = _unavailable_ids(session, team)
    staff = session.exec(
        select(Person)
        .where(Person.school_id == team.lead.school_id, col(Person.erased_at).is_(None))
        .order_by(col(Person.name), col(Person.id))
    ).all()
    load = loads(session)
    staff = [p for p in staff if p.id not in skip]
    free = [p for p in staff if load.get(p.id or 0, 0) < p.capacity]
    choices = [PersonChoice(user_id_of(p), p.name) for p in free[:MOST_CHOICES]]
    return choices, len(staff) - len(free)


def shadow_choices(session: Session, team: Team) -> tuple[list[PersonChoice], list[PersonChoice]]:
    """Aspiring leaders who may shadow: the lead's own school first, then anyone eligible
    (never the supported school's own staff)."""
    skip = _unavailable_ids(session, team)
    rows = session.exec(
        select(Person, PersonRole.role)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(col(PersonRole.role).in_(ASPIRING_ROLES), col(Person.erased_at).is_(None))
        .order_by(col(Person.name), col(Person.id), col(PersonRole.role))
    ).all()
    notes: dict[int, list[str]] = {}
    people: dict[int, Person] = {}
    for person, role in rows:
        if person.id in skip or (
            team.request.school_id is not None and person.school_id == team.request.school_id
        ):
            continue
        people[person.id or 0] = person
        notes.setdefault(person.id or 0, []).append(ROLE_WORDS.get(role, role))
    schools = _school_names(session, {p.school_id for p in people.values() if p.school_id})
    own: list[PersonChoice] = []
    elsewhere: list[PersonChoice] = []
    for pid, person in people.items():
        where = schools.get(person.school_id or 0)
        note = ", ".join(notes[pid]) + (f", {where}" if where else "")
        same = team.lead.school_id is not None and person.school_id == team.lead.school_id
        (own if same else elsewhere).append(PersonChoice(user_id_of(person), person.name, note))
    own = own[:MOST_CHOICES]
    return own, elsewhere[: MOST_CHOICES - len(own)]


def _school_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    found = session.exec(select(School).where(col(School.id).in_([i for i in ids if i])))
    return {s.id or 0: s.name for s in found}


def team_members(session: Session, deployment_id: int) -> list[TeamMember]:
    """The deployment's colleagues and shadows, as shown to people."""
    shown = []
    for member in current_members(session, deployment_id):
        person = session.get(Person, member.person_id)
        erased = person is None or person.erased_at is not None
        shown.append(
            TeamMember(
                slack_user_id=None if erased or person is None else user_id_of(person),
                name="someone" if erased or person is None else person.name,
                role=str(member.role),
            )
        )
    return shown


def team_form(session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int) -> TeamForm:
    """What the lead supporter's team form shows (checks they may change the team)."""
    team = team_of(session, actor=actor, deployment_id=deployment_id, action="deployment.team")
    colleagues, full = colleague_choices(session, team)
    own, elsewhere = shadow_choices(session, team)
    school = session.get(School, team.request.school_id) if team.request.school_id else None
    lead_school = session.get(School, team.lead.school_id) if team.lead.school_id else None
    return TeamForm(
        deployment_id=deployment_id,
        request_id=team.request.id or 0,
        school=school.name if school else None,
        lead_school=lead_school.name if lead_school else None,
        members=tuple(team_members(session, deployment_id)),
        colleagues=tuple(colleagues),
        colleagues_full=full,
        shadows_own_school=tuple(own),
        shadows_elsewhere=tuple(elsewhere),
    )
