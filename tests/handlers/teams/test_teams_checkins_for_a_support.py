"""A coordinator's *Check-ins for a support…* on Teams, through `/api/messages`: their `home`
card unfolds a search; each support found says how its check-ins stand and has *Resume
check-ins* when they are paused, else *Pause check-ins* and *Snooze the next one a week*,
each saved (once) before the invoke is answered (a stale card's press changes nothing and
says why); the head and the supporter, both on Teams, are told in one line; nobody else can
do it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import select

from bot.core.clock import LONDON, FixedClock
from bot.deployments.checkin_control import (
    ALREADY_PAUSED,
    NOT_A_COORDINATOR,
    NOT_PAUSED,
    PAUSED,
    PAUSED_SO_NO_SNOOZE,
)
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
        assert "Check-ins: next Mon 30 Nov" in card_texts(found)
        assert changes_on(found) == [f"{deployment_id}:pause", f"{deployment_id}:snooze"]
        assert actions_on(found)[-1] == FIND  # then Search again
        pause, snooze = changes_on(found)
        resume = f"{deployment_id}:resume"

        world.clock.set(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # the first due in 6 days
        assert press(world, COORDINATOR, CHANGE, snooze)["value"] == (
            "Done: the next check-in is put off for a week. The next is on Tuesday 1 December, "
            "09:30."
        )
        found = answer_card(press(world, COORDINATOR, FIND, "home", query="mere"))
        assert "Check-ins: next Tue 1 Dec" in card_texts(found)
        assert press(world, COORDINATOR, CHANGE, pause)["value"] == PAUSED
        assert press(world, COORDINATOR, CHANGE, pause)["value"] == ALREADY_PAUSED  # twice
        assert paused(world, deployment_id)
        found = answer_card(press(world, COORDINATOR, FIND, "home", query="mere"))
        assert "Check-ins: paused" in card_texts(found)
        assert changes_on(found) == [resume]
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


def changes_on(found: dict[str, Any]) -> list[str]:
    """The values of the check-in changes a search card offers, in order."""
    return [
        a["data"]["value"]
        for element in found["body"]
        if element["type"] == "ActionSet"
        for a in element["actions"]
        if a["data"].get("action") == CHANGE
    ]


def test_a_stale_search_card_on_teams_changes_nothing_and_says_why(
    db_url: str, clock: FixedClock
) -> None:
    with teams_world(db_url, clock, on_teams={**ON_TEAMS, "UCOORD": COORDINATOR}) as world:
        deployment_id = deployed(world)
        running = answer_card(press(world, COORDINATOR, FIND, "home", query="mere"))
        pause, snooze = changes_on(running)
        assert press(world, COORDINATOR, CHANGE, pause)["value"] == PAUSED
        paused_card = answer_card(press(world, COORDINATOR, FIND, "home", query="mere"))
        [resume] = changes_on(paused_card)
        # The older card, shown before the pause, still offers *Snooze*: nothing to snooze.
        assert press(world, COORDINATOR, CHANGE, snooze)["value"] == PAUSED_SO_NO_SNOOZE
        assert press(world, COORDINATOR, CHANGE, resume)["value"].startswith("Done:")
        # And the paused card's *Resume*, pressed again once resumed, changes nothing.
        assert press(world, COORDINATOR, CHANGE, resume)["value"] == NOT_PAUSED
        assert not paused(world, deployment_id)


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


def test_a_checkins_search_card_offers_what_the_checkins_of_each_match_allow() -> None:
    started, due = datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
    matches = tuple(
        ActiveSupport(
            i, i, "Mere Green", "103413", "Sam", started, i % 2 == 1, None if i % 2 else due
        )
        for i in range(10)
    )
    card = found_for_checkins_card(SupportSearch(matches, 12), "mere", LONDON, started)
    assert actions_on(card) == [CHANGE] * 15 + [FIND]
    assert changes_on(card)[:3] == ["0:pause", "0:snooze", "1:resume"]
    text = card_texts(card)
    assert text.count("Check-ins: next Tue 8 Dec") == 5 and text.count("Check-ins: paused") == 5
    assert "…and 2 more: narrow your search." in text
