"""A coordinator's *Check-ins for a support…* on Teams, through `/api/messages`: their `home`
card unfolds a search; each support found has *Pause check-ins*, *Resume check-ins* and
*Snooze the next one a week*, each saved (once) before the invoke is answered; the head and
the supporter, both on Teams, are told in one line; nobody else can do it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.deployments.checkin_control import ALREADY_PAUSED, NOT_A_COORDINATOR, PAUSED
from bot.deployments.finding import ActiveSupport, SupportSearch
from handlers.teams.cards.forms import found_for_checkins_card
from storage.models import AuditEntry, Deployment
from tests.handlers.teams.conftest import COORDINATOR, HEAD, NLE, ON_TEAMS, teams_world
from tests.handlers.teams.programme import (
    actions_on,
    answer_card,
    card_with,
    cards_to,
    deployed,
)
from tests.handlers.teams.test_teams_flows import card_texts, press
from tests.handlers.teams.test_teams_forms import inputs
from tests.handlers.teams.test_teams_visits import say

FIND, CHANGE = "deployment_checkins_find", "deployment_checkins_change"


def paused(world: object, deployment_id: int) -> bool:
    with world.runtime.sessions() as session:  # type: ignore[attr-defined]
        found = session.get(Deployment, deployment_id)
        assert found is not None
        return bool(found.checkins_paused)


def test_a_coordinator_on_teams_finds_a_support_and_changes_its_checkins(
    db_url: str, clock: FixedClock
) -> None:
    with teams_world(db_url, clock, on_teams={**ON_TEAMS, "UCOORD": COORDINATOR}) as world:
        deployment_id = deployed(world)
        say(world, COORDINATOR, "home")
        card = card_with(world, COORDINATOR, FIND)
        assert "query" in inputs(card)
        none = answer_card(press(world, COORDINATOR, FIND, "home", query="castle vale"))
        assert "None found" in card_texts(none) and CHANGE not in actions_on(none)
        found = answer_card(press(world, COORDINATOR, FIND, "home", query="MERE green"))
        assert "Mere Green Primary School" in card_texts(found)
        assert actions_on(found) == [CHANGE, CHANGE, CHANGE, FIND]  # then Search again
        values = [b["data"]["value"] for b in found["body"][-1]["actions"]]
        assert values == [f"{deployment_id}:{change}" for change in ("pause", "resume", "snooze")]
        pause, resume, snooze = values

        world.clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # the first due in 6 days
        assert press(world, COORDINATOR, CHANGE, snooze)["value"] == (
            "Done: the next check-in is put off for a week. The next is on Tuesday 1 December, "
            "09:30."
        )
        assert press(world, COORDINATOR, CHANGE, pause)["value"] == PAUSED
        assert press(world, COORDINATOR, CHANGE, pause)["value"] == ALREADY_PAUSED  # twice
        assert paused(world, deployment_id)
        assert "back on" in press(world, COORDINATOR, CHANGE, resume)["value"]
        assert not paused(world, deployment_id)
        with world.runtime.sessions() as session:
            audited = session.exec(select(AuditEntry.action).where(AuditEntry.actor == COORDINATOR))
            actions = [a for a in audited if a.startswith("deployment.checkins")]
        assert actions == [
            "deployment.checkins_snoozed",
            "deployment.checkins_paused",
            "deployment.checkins_resumed",
        ]
        for person in (HEAD, NLE):
            told = [t for c in cards_to(world, person) if (t := card_texts(c)).startswith("A coo")]
            assert [t.split(" for the support")[0] for t in told] == [
                "A coordinator has put off the next check-in for a week",
                "A coordinator has paused the check-ins",
                "A coordinator has resumed the check-ins",
            ]


def test_only_a_coordinator_on_teams_changes_a_supports_checkins(
    db_url: str, clock: FixedClock
) -> None:
    with teams_world(db_url, clock, on_teams={**ON_TEAMS, "UCOORD": COORDINATOR}) as world:
        deployment_id = deployed(world)
        assert press(world, NLE, FIND, "home", query="mere")["value"] == NOT_A_COORDINATOR
        refused = press(world, HEAD, CHANGE, f"{deployment_id}:pause")
        assert refused["value"] == NOT_A_COORDINATOR
        forged = press(world, COORDINATOR, CHANGE, f"{deployment_id}:stop")
        assert "I don't know that change" in forged["value"]
        assert not paused(world, deployment_id)
        with world.runtime.sessions() as session:
            entries = session.exec(select(AuditEntry).where(AuditEntry.action.like("%refused")))
            assert [(e.actor, e.action) for e in entries] == [
                (NLE, "deployment.find.refused"),
                (HEAD, "checkins.pause.refused"),
            ]


def test_a_checkins_search_card_has_three_buttons_a_match() -> None:
    matches = tuple(
        ActiveSupport(i, i, "Mere Green", "103413", "Sam", datetime(2026, 11, 2, tzinfo=UTC))
        for i in range(10)
    )
    card = found_for_checkins_card(SupportSearch(matches, 12), "mere")
    assert actions_on(card) == [CHANGE] * 30 + [FIND]
    assert "…and 2 more: narrow your search." in card_texts(card)
