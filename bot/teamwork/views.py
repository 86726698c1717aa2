"""What team deployments look like: the team form's choices, and the shadow invitation DM."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.messages import message_view

ROLE_WORDS = {
    "supporter": "lead supporter",
    "colleague": "colleague",
    "shadow": "shadow",
    "aspiring-nle": "aspiring NLE",
    "aspiring-sle": "aspiring SLE",
}


@dataclass(frozen=True)
class PersonChoice:
    """Someone who may be chosen: their Slack id, name and a short note (role, school)."""

    slack_user_id: str
    name: str
    note: str = ""


@dataclass(frozen=True)
class TeamMember:
    """One person on a deployment besides the lead: who, and as what."""

    slack_user_id: str | None  # None once erased
    name: str
    role: str  # colleague | shadow


@dataclass(frozen=True)
class TeamForm:
    """The lead supporter's team form: who is on it, and whom they may add."""

    deployment_id: int
    request_id: int
    school: str | None  # the supported school
    lead_school: str | None
    members: tuple[TeamMember, ...]
    colleagues: tuple[PersonChoice, ...]  # staff of the lead's school with room
    colleagues_full: int  # staff of the lead's school at capacity (not offered)
    shadows_own_school: tuple[PersonChoice, ...]
    shadows_elsewhere: tuple[PersonChoice, ...]


@message_view("teamwork.shadow_invitation")
@dataclass(frozen=True)
class ShadowInvitation:
    """Asks a lead supporter, as a deployment starts, to take an aspiring leader along."""

    deployment_id: int
    request_id: int
    school: str | None
    needs: tuple[str, ...]
    own_school: tuple[PersonChoice, ...]
    elsewhere: tuple[PersonChoice, ...]
