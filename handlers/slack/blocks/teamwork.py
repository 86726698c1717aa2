"""Block Kit for team deployments: the team form, the shadow invitation, and the Home tab's
team lines (the team on a deployment you lead; the deployments you're on)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.core.clock import day_month
from bot.teamwork.flows import TEAM_ACTION
from bot.teamwork.views import ROLE_WORDS, PersonChoice, ShadowInvitation, TeamForm, TeamMember
from handlers.slack.blocks import (
    OPTION_TEXT_LIMIT,
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    divider,
    escape,
    header,
    plain,
    section,
    truncate,
)
from handlers.slack.blocks.audit import audit_button
from handlers.slack.blocks.listing import Listing

if TYPE_CHECKING:
    from bot.home.team import TeamPlace

TEAM_VIEW = "team_add"  # the team form's callback id
REMOVE_ACTION = "team_remove"  # value: "<deployment id>:<Slack user id>"; ids in a row ":<n>"
REMOVE_ACTIONS = re.compile(r"^team_remove(:[0-9]{1,2})?$")
SHADOW_PICK_ACTION = "team_shadow_pick"  # block id "shadow_invite:<deployment id>"
SHADOW_DECLINE_ACTION = "team_shadow_decline"  # value: deployment id
MOST_BUTTONS = 20  # remove buttons shown per deployment (an actions block holds 25)


def _option(choice: PersonChoice) -> Block:
    label = choice.name + (f" — {choice.note}" if choice.note else "")
    return {"text": plain(truncate(label, OPTION_TEXT_LIMIT)), "value": choice.slack_user_id}


def _options(own: Sequence[PersonChoice], elsewhere: Sequence[PersonChoice]) -> dict[str, Any]:
    """Options, grouped "From your school" / "Elsewhere" when there are both."""
    if own and elsewhere:
        return {
            "option_groups": [
                {"label": plain("From your school"), "options": [_option(c) for c in own]},
                {"label": plain("Elsewhere"), "options": [_option(c) for c in elsewhere]},
            ]
        }
    return {"options": [_option(c) for c in [*own, *elsewhere]]}


def _who(member: TeamMember) -> str:
    who = f"<@{member.slack_user_id}>" if member.slack_user_id else escape(member.name)
    return f"{who} ({ROLE_WORDS.get(member.role, member.role)})"


def team_modal(form: TeamForm) -> dict[str, Any]:
    """The lead supporter's form: colleagues from their school, and an aspiring shadow."""
    school = escape(form.school) if form.school else "this school"
    blocks: list[Block] = [
        section(
            f"Who else from your school will help support *{school}*? Each colleague gets the "
            "check-ins and counts against their own capacity."
        )
    ]
    if form.members:
        blocks.append(context("On the team now: " + ", ".join(_who(m) for m in form.members)))
    if form.colleagues:
        blocks.append(
            {
                "type": "input",
                "block_id": "colleagues",
                "optional": True,
                "label": plain("Colleagues"),
                "element": {
                    "type": "multi_static_select",
                    "action_id": "value",
                    "placeholder": plain("Choose colleagues"),
                    **_options(form.colleagues, ()),
                },
            }
        )
    else:
        where = escape(form.lead_school) if form.lead_school else "your school"
        blocks.append(context(f"No colleague from {where} in the directory has room right now."))
    if form.colleagues_full:
        blocks.append(context(f"{form.colleagues_full} more at capacity aren't listed."))
    if form.shadows_own_school or form.shadows_elsewhere:
        blocks.append(
            {
                "type": "input",
                "block_id": "shadow",
                "optional": True,
                "label": plain("An aspiring leader to shadow (optional)"),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "placeholder": plain("Choose someone"),
                    **_options(form.shadows_own_school, form.shadows_elsewhere),
                },
            }
        )
    return {
        "type": "modal",
        "callback_id": TEAM_VIEW,
        "title": plain("Your team", 24),
        "submit": plain("Add"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps({"deployment_id": form.deployment_id}),
        "blocks": blocks,
    }


def shadow_invitation(view: ShadowInvitation) -> list[Block]:
    """The lead supporter's DM as a deployment starts: take an aspiring leader along?"""
    school = f"*{escape(view.school)}*" if view.school else "this school"
    needs = ", ".join(escape(n) for n in view.needs)
    return [
        header("Take an aspiring leader along?"),
        section(
            f"Your support for {school}{f' ({needs})' if needs else ''} is a chance to grow "
            "the next generation of system leaders. Would you like an aspiring NLE or SLE to "
            "shadow it? They'll get its check-ins too; they don't use your capacity."
        ),
        actions(
            {
                "type": "static_select",
                "action_id": SHADOW_PICK_ACTION,
                "placeholder": plain("Choose a shadow"),
                **_options(view.own_school, view.elsewhere),
            },
            button("Not this time", SHADOW_DECLINE_ACTION, str(view.deployment_id)),
            block_id=f"shadow_invite:{view.deployment_id}",
        ),
    ]


def team_blocks(deployment_id: int, team: Sequence[TeamMember]) -> list[Block]:
    """Under a deployment you lead: its team, *Add colleagues or a shadow*, and *Remove*."""
    line = "Team: " + ", ".join(_who(m) for m in team) if team else "Just you so far."
    buttons = [button("Add colleagues or a shadow", TEAM_ACTION, str(deployment_id))]
    for n, member in enumerate(team[:MOST_BUTTONS]):
        if member.slack_user_id:  # action ids are unique within a block: one per button
            buttons.append(
                button(
                    truncate(f"Remove {member.name}", 75),
                    f"{REMOVE_ACTION}:{n}",
                    f"{deployment_id}:{member.slack_user_id}",
                    confirm=confirm_dialog(
                        "Remove from the team?",
                        f"{member.name} will stop getting this deployment's check-ins.",
                        "Remove",
                    ),
                )
            )
    return [context(line), actions(*buttons, block_id=f"team:{deployment_id}")]


def team_places_listing(
    places: Sequence[TeamPlace], tz: ZoneInfo, *, audit: bool = False
) -> Listing:
    """The deployments you're on as a colleague or shadow, each with *Step off* (and, for a
    coordinator, the request's *Audit trail*)."""
    return Listing(
        [divider(), section("*Deployments you're part of*")],
        [_place(place, tz, audit=audit) for place in places],
        more="and {n} more deployments you're part of",
    )


def team_places_blocks(
    places: Sequence[TeamPlace], tz: ZoneInfo, *, audit: bool = False
) -> list[Block]:
    """`team_places_listing` in full."""
    return team_places_listing(places, tz, audit=audit).blocks()


def _place(place: TeamPlace, tz: ZoneInfo, *, audit: bool) -> list[Block]:
    school = escape(truncate(place.school or "", 100)) or "A school"
    lead = f" led by <@{place.lead}>" if place.lead else ""
    needs = ", ".join(escape(n) for n in place.needs) or "support"
    line = section(
        f"*{school}*{lead} — you're {ROLE_WORDS.get(place.role, place.role)}\n"
        f"{needs} · since {day_month(place.joined_at, tz)} · request #{place.request_id}",
        accessory=_step_off(place.deployment_id),
    )
    if not audit:
        return [line]
    step_off = line.pop("accessory")
    return [
        line,
        actions(
            step_off, audit_button(place.request_id), block_id=f"team_place:{place.deployment_id}"
        ),
    ]


def _step_off(deployment_id: int) -> Block:
    return button(
        "Step off",
        REMOVE_ACTION,
        f"{deployment_id}:self",
        confirm=confirm_dialog(
            "Step off this deployment?",
            "You'll stop getting its check-ins. The lead supporter will be told.",
            "Step off",
        ),
    )
