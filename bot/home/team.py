"""The Home tab's part in team deployments: the deployments someone is on as a colleague or
shadow, and the team on each deployment a supporter leads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.core.vocabulary import Vocabulary
from bot.members.service import active_memberships_of, members_by_deployment
from bot.reach.people import user_id_of
from bot.teamwork.views import TeamMember
from storage.models import Deployment, Person, RequestTag, School, SupportRequest


@dataclass(frozen=True)
class TeamPlace:
    """A deployment this person is on as a colleague or shadow."""

    deployment_id: int
    request_id: int
    role: str  # colleague | shadow
    school: str | None
    needs: tuple[str, ...]
    lead: str | None  # the lead supporter's Slack user id (None once erased)
    head: str | None
    joined_at: datetime


def team_places(session: Session, person_id: int, vocabulary: Vocabulary) -> tuple[TeamPlace, ...]:
    """The active deployments the person is on as a colleague or shadow, oldest first."""
    places = []
    for member in active_memberships_of(session, person_id):
        deployment = session.get(Deployment, member.deployment_id)
        request = session.get(SupportRequest, deployment.request_id) if deployment else None
        if deployment is None or request is None:
            continue
        school = session.get(School, request.school_id) if request.school_id else None
        needs = session.exec(
            select(RequestTag.tag_slug)
            .where(RequestTag.request_id == request.id)
            .order_by(col(RequestTag.tag_slug))
        ).all()
        places.append(
            TeamPlace(
                deployment_id=deployment.id or 0,
                request_id=request.id or 0,
                role=str(member.role),
                school=school.name if school else None,
                needs=tuple(vocabulary.label(slug) for slug in needs),
                lead=_slack_id(session, deployment.supporter_id),
                head=_slack_id(session, request.requester_id),
                joined_at=member.added_at,
            )
        )
    return tuple(places)


def teams_of(session: Session, deployment_ids: list[int]) -> dict[int, tuple[TeamMember, ...]]:
    """The colleagues and shadows on each of these deployments."""
    found = {}
    for deployment_id, members in members_by_deployment(session, deployment_ids).items():
        found[deployment_id] = tuple(
            TeamMember(
                slack_user_id=_slack_id(session, m.person_id),
                name=_name(session, m.person_id),
                role=str(m.role),
            )
            for m in members
        )
    return found


def _slack_id(session: Session, person_id: int) -> str | None:
    person = session.get(Person, person_id)
    return user_id_of(person) if person is not None and person.erased_at is None else None


def _name(session: Session, person_id: int) -> str:
    person = session.get(Person, person_id)
    return person.name if person is not None and person.erased_at is None else "someone"
