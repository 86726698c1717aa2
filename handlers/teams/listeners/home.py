"""`home` on Teams, which has no Home tab: where things stand in a few lines, then one card per
deployment the person is in (as Slack's Home tab shows them), with the buttons for its next
steps: the first visit, the agreement (drafted or revised), a visit log, the closing record,
the summary, the team (add, remove) and, for coordinators, *End this support* and the audit
trail; and a card per deployment they are on as a colleague or shadow, with *Step off*. A
coordinator also gets *End a support…* and *Check-ins for a support…*, each a search of the
supports under way with buttons on every match."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from bot.core.messages import Action, Card
from bot.core.text import escape
from bot.deployments import views as ids
from bot.deployments.checkin_control import NOT_A_COORDINATOR as NOT_A_CHECKINS_COORDINATOR
from bot.deployments.checkin_control import change_checkins
from bot.deployments.finding import find_active_supports
from bot.deployments.views import DeploymentProgress, day_words, days_words
from bot.home.service import HomeData, home_for
from bot.home.team import TeamPlace
from bot.outbox.owing import owe_post
from bot.reach.people import normal_user_id
from bot.teamwork.flows import TEAM_ACTION
from bot.teamwork.service import team_members
from bot.teamwork.views import ROLE_WORDS, TeamMember
from handlers.teams.cards import Element
from handlers.teams.cards.forms import (
    AGREEMENT_OPEN,
    found_for_checkins_card,
    found_supports_card,
)
from handlers.teams.cards.render import AUDIT_TRAIL
from handlers.teams.context import TeamsContext
from handlers.teams.listeners.commands import home_text
from handlers.teams.listeners.common import already_said
from handlers.teams.listeners.lifecycle import Step
from handlers.teams.listeners.teamwork import REMOVE
from handlers.teams.listeners.values import target


def progress_text(line: DeploymentProgress) -> str:
    """Where one deployment stands, in the words of Slack's Home tab."""
    school = escape(line.school or "") or "A school"
    other = line.head if line.role == "supporter" else line.supporter
    who = f" with {other}" if other else ""
    visit = (
        day_words(line.first_visit_on)
        if line.first_visit_on
        else ("skipped" if line.visit_skipped else "not booked")
    )
    committed = f" of {days_words(line.days_committed)}" if line.days_committed else ""
    review = f"review {day_words(line.review_on)}" if line.review_on else "review halfway"
    ended = " · *closed*" if line.status != "active" else ""
    plural = "s" if line.objectives != 1 else ""
    return (
        f"*{school}*{who} · request #{line.request_id}{ended}\n"
        f"First visit: {visit} · Agreement: {line.agreement} ({line.objectives} objective"
        f"{plural}) · {review}\nDays given: {days_words(line.days_given)}{committed}"
    )


FOUND_SHOWN = 10  # supports a search shows on a card; "…and N more" says the rest
FIND_TO_END_CARD = Card(
    (
        "*End a support*\nFind any support under way by the school's name or URN, or the "
        "supporter's name, then end it with a short reason.",
    ),
    (Action(ids.FIND_TO_END, "End a support…", "home"),),
)
FIND_FOR_CHECKINS_CARD = Card(
    (
        "*Check-ins for a support*\nFind any support under way by the school's name or URN, or "
        "the supporter's name, then pause its check-ins, resume them or snooze the next one a "
        "week. The head and the lead supporter are told.",
    ),
    (Action(ids.FIND_FOR_CHECKINS, "Check-ins for a support…", "home"),),
)
MOST_REMOVE_BUTTONS = 6  # a card's row of buttons stays readable; the rest in Slack or by CLI


def progress_actions(
    line: DeploymentProgress, *, coordinator: bool, team: tuple[TeamMember, ...] = ()
) -> tuple[Action, ...]:
    """The buttons for what this person can do next on this deployment (the lead: also
    *Remove* for each person on the team)."""
    value = str(line.deployment_id)
    actions = []
    if line.status == "active" and line.role in ("head", "supporter"):
        if line.first_visit_on is None and not line.visit_skipped:
            actions.append(Action(ids.BOOK_VISIT, "Book first visit", value))
        if line.role == "supporter":
            drafted = line.agreement in ("drafted", "confirmed")
            label = "Revise the agreement" if drafted else "Draft the agreement"
            action = AGREEMENT_OPEN if drafted else ids.DRAFT_AGREEMENT  # revising: filled in
            actions.append(Action(action, label, value))
            actions.append(Action(TEAM_ACTION, "Add colleagues or a shadow", value))
            actions += [
                Action(REMOVE, f"Remove {member.name}", f"{value}:{member.slack_user_id}")
                for member in team[:MOST_REMOVE_BUTTONS]
                if member.slack_user_id
            ]
        actions.append(Action(ids.LOG_VISIT, "Log a visit", value))
    if line.status != "active" and line.role in ("head", "supporter") and not line.impact_given:
        actions.append(Action(ids.IMPACT, "Closing record", value, style="primary"))
    actions.append(Action(ids.SUMMARY, "Summary", value))
    if line.status == "active" and line.role == "coordinator":
        actions.append(Action(ids.END_SUPPORT, "End this support", value, style="danger"))
    if coordinator:
        actions.append(Action(AUDIT_TRAIL, "Audit trail", str(line.request_id)))
    return tuple(actions)


def home_reply_and_cards(
    session: Session, ctx: TeamsContext, *, actor: str, channel: str, key: str
) -> str:
    """Owe `home`'s answer (once per message, `key`): the summary where it was asked, then a
    card per deployment in the person's own 1:1 chat (never a shared chat or channel)."""
    if already_said(session, key):
        return "home (seen)"
    services = ctx.services
    now = services.clock.now()
    home: HomeData = home_for(session, actor, now=now, vocabulary=services.vocabulary)
    owe_post(session, now=now, channel=channel, text=home_text(home), dedupe_key=key)
    coordinator = "coordinator" in home.roles
    for line in (*home.deployments, *home.others):
        team = tuple(team_members(session, line.deployment_id)) if line.role == "supporter" else ()
        text = progress_text(line) + _team_line(team)
        owe_post(
            session,
            now=now,
            channel=normal_user_id(actor),
            text=f"Request #{line.request_id}",
            view=Card((text,), progress_actions(line, coordinator=coordinator, team=team)),
            dedupe_key=f"{key}:deployment:{line.deployment_id}",
        )
    if coordinator:
        owe_post(
            session,
            now=now,
            channel=normal_user_id(actor),
            text="End a support",
            view=FIND_TO_END_CARD,
            dedupe_key=f"{key}:find",
        )
        owe_post(
            session,
            now=now,
            channel=normal_user_id(actor),
            text="Check-ins for a support",
            view=FIND_FOR_CHECKINS_CARD,
            dedupe_key=f"{key}:find_checkins",
        )
    for place in home.team_places:
        owe_post(
            session,
            now=now,
            channel=normal_user_id(actor),
            text=f"Request #{place.request_id}",
            view=place_card(place),
            dedupe_key=f"{key}:place:{place.deployment_id}",
        )
    return "home"


def find_to_end(
    session: Session, ctx: TeamsContext, actor: str, _value: str, data: dict[str, Any]
) -> Element:
    """*Search* on *End a support…*: the supports under way that match, at most a few, each
    with *End this support* (coordinators only)."""
    query = str(data.get("query") or "")
    search = find_active_supports(session, actor=actor, query=query, limit=FOUND_SHOWN)
    return found_supports_card(search, query)


def find_for_checkins(
    session: Session, ctx: TeamsContext, actor: str, _value: str, data: dict[str, Any]
) -> Element:
    """*Search* on *Check-ins for a support…*: the supports under way that match, at most a
    few, each saying how its check-ins stand, with *Resume* when paused, else *Pause* and
    *Snooze* (coordinators only)."""
    query = str(data.get("query") or "")
    search = find_active_supports(
        session,
        actor=actor,
        query=query,
        limit=FOUND_SHOWN,
        refusal=NOT_A_CHECKINS_COORDINATOR,
    )
    return found_for_checkins_card(
        search, query, ctx.services.settings.tz, ctx.services.clock.now()
    )


def change_found_checkins(
    session: Session, ctx: TeamsContext, actor: str, value: str, _data: dict[str, Any]
) -> str:
    """*Pause*, *Resume* or *Snooze* on a support found (value `"12:pause"`): the same core
    step as Slack's form; what happened is the answer."""
    deployment_id, change = target(value)
    return change_checkins(
        session, ctx.services.context(), actor=actor, deployment_id=deployment_id, change=change
    )


FIND_STEPS: dict[str, Step] = {
    ids.FIND_TO_END: find_to_end,
    ids.FIND_FOR_CHECKINS: find_for_checkins,
    ids.CHANGE_CHECKINS: change_found_checkins,
}


def _team_line(team: tuple[TeamMember, ...]) -> str:
    if not team:
        return ""
    who = ", ".join(f"{escape(m.name)} ({ROLE_WORDS.get(m.role, m.role)})" for m in team)
    return f"\nTeam: {who}"


def place_card(place: TeamPlace) -> Card:
    """A deployment someone is on as a colleague or shadow, with *Step off*."""
    school = escape(place.school or "") or "a school"
    lead = f" led by <@{place.lead}>" if place.lead else ""
    needs = ", ".join(escape(n) for n in place.needs)
    text = (
        f"You're on the support for *{school}*{lead} as a {ROLE_WORDS.get(place.role, place.role)}"
        f" · request #{place.request_id}" + (f"\nNeeds: {needs}" if needs else "")
    )
    step_off = Action(REMOVE, "Step off", f"{place.deployment_id}:self", style="danger")
    return Card((text,), (step_off,))
