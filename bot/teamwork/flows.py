"""Changing a deployment's team: what the listeners call. Each owes its messages in the same
transaction: the person added or removed hears by DM, the head hears who joins the support.
"""

from __future__ import annotations

from sqlmodel import Session, col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.checkins.service import close_checkin_dms_for, need_labels
from bot.core import audit
from bot.core.context import ServiceContext
from bot.core.errors import Conflict, InvalidInput, NotFound
from bot.core.messages import Action, Card
from bot.core.text import escape
from bot.directory.people import person_by_user_id
from bot.members.service import (
    COLLEAGUE,
    SHADOW,
    add_member,
    current_membership,
    end_membership,
    load_of,
)
from bot.outbox.owing import owe_post, owe_update
from bot.reach.people import address_of, mention, normal_user_id, user_id_of
from bot.teamwork.service import (
    Team,
    colleague_choices,
    shadow_choices,
    team_of,
)
from bot.teamwork.views import ROLE_WORDS, ShadowInvitation
from storage.models import (
    Deployment,
    DeploymentStatus,
    MemberRole,
    Person,
    School,
    SupportRequest,
)

TEAM_ACTION = "team_open"  # the button that opens the team form (value: deployment id)


def shadow_invite_ref(deployment_id: int) -> str:
    """The outbox ref of a deployment's shadow invitation DM, updated once answered."""
    return f"deployment:{deployment_id}:team:shadow_invite"


def team_button(deployment_id: int) -> Action:
    """*Add colleagues or a shadow*: opens the team form."""
    return Action(TEAM_ACTION, "Add colleagues or a shadow", str(deployment_id))


# --- adding -----------------------------------------------------------------------------------
def add_to_team(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    deployment_id: int,
    colleagues: list[str],
    shadow: str | None,
) -> str:
    """Add the chosen colleagues and shadow (all or nothing); returns what to tell the lead.

    InvalidInput names the form field at fault (`colleagues`, `shadow`).
    """
    team = team_of(session, actor=actor, deployment_id=deployment_id, action="deployment.team")
    if not colleagues and not shadow:
        raise InvalidInput({"colleagues": "Please choose a colleague or a shadow."})
    allowed, _ = colleague_choices(session, team)
    allowed_ids = {c.slack_user_id for c in allowed}
    for slack_id in colleagues:
        if slack_id not in allowed_ids:
            raise InvalidInput({"colleagues": _why_not_colleague(session, team, slack_id)})
    added = [
        _add(session, ctx, team, slack_id, COLLEAGUE) for slack_id in dict.fromkeys(colleagues)
    ]
    if shadow:
        own, elsewhere = shadow_choices(session, team)
        if shadow not in {c.slack_user_id for c in own + elsewhere}:
            raise InvalidInput({"shadow": _why_not_shadow(session, team, shadow)})
        added.append(_add(session, ctx, team, shadow, SHADOW))
    return (
        "Thanks — "
        + ", ".join(added)
        + (" is" if len(added) == 1 else " are")
        + (" now on this deployment. They'll get its check-ins too.")
    )


def _why_not_colleague(session: Session, team: Team, slack_id: str) -> str:
    """Why someone may not be added as a colleague, in words for the form."""
    person = person_by_user_id(session, slack_id)
    if person is None or person.erased_at is not None:
        return "Choose colleagues from the directory."
    if person.school_id != team.lead.school_id or team.lead.school_id is None:
        return f"{person.name} isn't on your school's staff in the directory."
    if current_membership(session, team.deployment.id or 0, person.id or 0) is not None:
        return f"{person.name} is already on this deployment."
    if person.id in (team.lead.id, team.request.requester_id):
        return f"{person.name} can't be added as a colleague here."
    return f"{person.name} has no room left (their capacity in the directory)."


def _why_not_shadow(session: Session, team: Team, slack_id: str) -> str:
    """Why someone may not shadow this deployment, in words for the form."""
    person = person_by_user_id(session, slack_id)
    if person is None or person.erased_at is not None:
        return "Choose an aspiring leader from the directory."
    if current_membership(session, team.deployment.id or 0, person.id or 0) is not None:
        return f"{person.name} is already on this deployment."
    if team.request.school_id is not None and person.school_id == team.request.school_id:
        return f"{person.name} works at the school being supported, so can't shadow here."
    return f"{person.name} isn't an aspiring NLE or SLE in the directory."


def _add(session: Session, ctx: ServiceContext, team: Team, slack_id: str, role: MemberRole) -> str:
    """Add one person (capacity checked on their locked row for a colleague) and owe the
    DMs; returns their mention."""
    person = session.exec(_locked_person(slack_id)).one()
    if current_membership(session, team.deployment.id or 0, person.id or 0) is not None:
        raise Conflict(f"{person.name} is already on this deployment.")
    if role == COLLEAGUE and load_of(session, person.id or 0) >= person.capacity:
        raise InvalidInput({"colleagues": f"{person.name} has no room left (their capacity)."})
    add_member(
        session,
        deployment=team.deployment,
        person=person,
        role=role,
        added_by=team.actor,
        actor=user_id_of(team.actor) if team.actor else None,
        now=ctx.now,
    )
    _tell_joined(session, ctx, team, person, role)
    return mention(person)


def _locked_person(slack_id: str) -> SelectOfScalar[Person]:
    """Their directory row, locked: the same lock accepting an offer takes for capacity."""
    return (
        select(Person)
        .where(
            or_(
                col(Person.slack_user_id) == slack_id,
                col(Person.teams_user_id) == normal_user_id(slack_id),
            )
        )
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def _about(session: Session, deployment: Deployment) -> str:
    """ "*School* (needs)" for a team DM, escaped."""
    request = session.get(SupportRequest, deployment.request_id)
    school_id = request.school_id if request else None
    school = session.get(School, school_id) if school_id else None
    needs = ", ".join(need_labels(session, deployment.request_id))
    named = f"*{escape(school.name)}*" if school else "a school"
    return named + (f" ({escape(needs)})" if needs else "")


def _tell_joined(
    session: Session, ctx: ServiceContext, team: Team, person: Person, role: MemberRole
) -> None:
    """DM the person added, and tell the head who is joining the support for their school."""
    deployment = team.deployment
    about = _about(session, deployment)
    words = "a colleague" if role == COLLEAGUE else "a shadow"
    paragraphs = [
        f"{mention(team.lead)} has added you to the support for {about} as {words}.",
        "You'll get its check-ins too, and you'll find it on your Home tab.",
    ]
    if role == SHADOW:
        paragraphs.append(
            "Shadowing is your chance to see school-to-school support at first hand: agree "
            "with them which visits and meetings you'll join."
        )
    owe_post(
        session,
        now=ctx.now,
        channel=address_of(person),
        text=f"You've been added to the support for {about}.",
        view=Card(tuple(paragraphs)),
        ref=f"deployment:{deployment.id}:team:{person.id}:joined:{ctx.now.timestamp():.0f}",
    )
    head = session.get(Person, team.request.requester_id)
    if head is not None and head.erased_at is None:
        text = (
            f"{mention(person)} ({ROLE_WORDS[str(role)]} of "
            f"{mention(team.lead)}) is joining the support for your school."
        )
        owe_post(
            session,
            now=ctx.now,
            channel=address_of(head),
            text=text,
            view=Card((text,)),
            ref=f"deployment:{deployment.id}:team:{person.id}:head:{ctx.now.timestamp():.0f}",
        )


# --- removing ---------------------------------------------------------------------------------
def remove_from_team(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int, person_slack_id: str
) -> str:
    """Take someone off the team (the lead or a coordinator), or step off it yourself;
    returns what to tell whoever did it."""
    leaving = actor == person_slack_id
    team = (
        _own_team(session, actor=actor, deployment_id=deployment_id)
        if leaving
        else team_of(session, actor=actor, deployment_id=deployment_id, action="deployment.team")
    )
    person = person_by_user_id(session, person_slack_id)
    member = (
        current_membership(session, deployment_id, person.id or 0) if person is not None else None
    )
    if person is None or member is None:
        raise Conflict("They aren't on this deployment's team (any more).")
    end_membership(
        session,
        member,
        removed_by=team.actor,
        actor=actor,
        now=ctx.now,
        reason="left" if leaving else "removed",
    )
    close_checkin_dms_for(
        session,
        now=ctx.now,
        deployment_id=deployment_id,
        person_id=person.id or 0,
        text="You're no longer on this support's team, so this check-in is closed. Thank you.",
    )
    about = _about(session, team.deployment)
    told = person if not leaving else team.lead
    text = (
        f"{mention(person)} has stepped off the team supporting {about}."
        if leaving
        else f"You're no longer on the team supporting {about}. Thank you for your help."
    )
    owe_post(
        session,
        now=ctx.now,
        channel=address_of(told),
        text=text,
        view=Card((text,)),
        ref=f"deployment:{deployment_id}:team:{person.id}:left:{ctx.now.timestamp():.0f}",
    )
    if leaving:
        return "You've stepped off this deployment's team. Thank you for your help."
    return f"{mention(person)} is no longer on this deployment's team."


def _own_team(session: Session, *, actor: str, deployment_id: int) -> Team:
    """The deployment, locked, for a member stepping off it themselves."""
    deployment = session.get(
        Deployment, deployment_id, with_for_update=True, populate_existing=True
    )
    if deployment is None:
        raise NotFound("I can't find that deployment any more.")
    request = session.get(SupportRequest, deployment.request_id)
    lead = session.get(Person, deployment.supporter_id)
    if request is None or lead is None:
        raise NotFound("I can't find the support this was about any more.")
    if deployment.status != DeploymentStatus.ACTIVE:
        raise Conflict("This support has ended, so there's nothing to step off.")
    return Team(deployment, request, lead, person_by_user_id(session, actor))


# --- growing leaders: the shadow invitation ------------------------------------------------------
def invite_shadow(session: Session, ctx: ServiceContext, deployment: Deployment) -> bool:
    """As a deployment starts, ask its lead supporter by DM whether they'd take an aspiring
    leader along as a shadow (their own school's first); False when there is nobody to ask
    about."""
    request = session.get(SupportRequest, deployment.request_id)
    lead = session.get(Person, deployment.supporter_id)
    if request is None or lead is None or lead.erased_at is not None:
        return False
    own, elsewhere = shadow_choices(session, Team(deployment, request, lead, None))
    if not own and not elsewhere:
        return False
    school = session.get(School, request.school_id) if request.school_id else None
    owe_post(
        session,
        now=ctx.now,
        channel=address_of(lead),
        text="Would you like to take an aspiring leader along on this deployment?",
        view=ShadowInvitation(
            deployment_id=deployment.id or 0,
            request_id=request.id or 0,
            school=school.name if school else None,
            needs=need_labels(session, request.id or 0),
            own_school=tuple(own),
            elsewhere=tuple(elsewhere),
        ),
        ref=shadow_invite_ref(deployment.id or 0),
    )
    return True


def choose_shadow(
    session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int, shadow: str
) -> str:
    """The lead picked a shadow from the invitation: add them, and update the invitation."""
    try:
        told = add_to_team(
            session, ctx, actor=actor, deployment_id=deployment_id, colleagues=[], shadow=shadow
        )
    except InvalidInput as exc:
        raise Conflict(exc.message) from exc
    text = (
        f"<@{shadow}> will shadow this deployment — thank you for helping grow the next "
        "generation of system leaders."
    )
    owe_update(
        session,
        now=ctx.now,
        update_of=shadow_invite_ref(deployment_id),
        text=text,
        view=Card((text,), (team_button(deployment_id),)),
    )
    return told


def decline_shadow(session: Session, ctx: ServiceContext, *, actor: str, deployment_id: int) -> str:
    """*Not this time* on the invitation: noted, and the invitation says how to add one later."""
    team = team_of(session, actor=actor, deployment_id=deployment_id, action="deployment.team")
    text = "No shadow this time. You can still add one, or colleagues, with the button below."
    owe_update(
        session,
        now=ctx.now,
        update_of=shadow_invite_ref(deployment_id),
        text=text,
        view=Card((text,), (team_button(deployment_id),)),
    )
    audit.record(
        session,
        at=ctx.now,
        actor=actor,
        action="deployment.shadow_declined",
        subject_type="deployment",
        subject_id=deployment_id,
        request_id=team.request.id,
    )
    return "Thanks — no shadow this time."
