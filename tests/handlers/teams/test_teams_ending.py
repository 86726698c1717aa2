"""A coordinator's *End this support* on Teams, through `/api/messages`: the button on their
`home` card unfolds the reason box; the invoke ends the support (once) before it is answered,
and the head and the supporter, both on Teams, are told why; nobody else can do it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.deployments.ending import ENDED
from bot.deployments.finding import ActiveSupport, SupportSearch
from handlers.teams.cards.forms import found_supports_card
from storage.models import AuditEntry, Deployment
from tests.handlers.teams.conftest import COORDINATOR, HEAD, NLE, ON_TEAMS, teams_world
from tests.handlers.teams.programme import (
    actions_on,
    answer_card,
    card_with,
    cards_to,
    deployed,
    value_of,
)
from tests.handlers.teams.test_teams_flows import card_texts, press
from tests.handlers.teams.test_teams_forms import inputs
from tests.handlers.teams.test_teams_visits import say

END, FIND = "deployment_end", "deployment_end_find"
REASON = "The school has joined a trust that supports it directly."


def test_a_coordinator_on_teams_ends_a_support_from_their_home_card(
    db_url: str, clock: FixedClock
) -> None:
    with teams_world(db_url, clock, on_teams={**ON_TEAMS, "UCOORD": COORDINATOR}) as world:
        deployment_id = deployed(world)
        say(world, COORDINATOR, "home")
        card = card_with(world, COORDINATOR, END)
        assert actions_on(card) == ["deployment_summary", END, "home_audit_trail"]
        assert inputs(card)["reason"]["maxLength"] == 300
        value = value_of(card, END)
        # Nobody else can, and a reason is required: both change nothing.
        assert "Only coordinators" in press(world, NLE, END, value, reason=REASON)["value"]
        assert (
            "Please say briefly why" in press(world, COORDINATOR, END, value, reason=" ")["value"]
        )
        with world.runtime.sessions() as session:
            assert session.get(Deployment, deployment_id).status == "active"  # type: ignore[union-attr]
        assert press(world, COORDINATOR, END, value, reason=REASON)["value"] == ENDED
        again = press(world, COORDINATOR, END, value, reason=REASON)  # a double click
        assert "already ended" in again["value"]
        with world.runtime.sessions() as session:
            ended = session.get(Deployment, deployment_id)
            assert ended is not None and (ended.status, ended.end_reason) == ("cancelled", REASON)
            audited = session.exec(select(AuditEntry.action).where(AuditEntry.actor == COORDINATOR))
            assert list(audited).count("deployment.ended") == 1
        for person in (HEAD, NLE):
            told = [c for c in cards_to(world, person) if "have ended the support" in card_texts(c)]
            assert len(told) == 1 and REASON in card_texts(told[0])
        # The head's request card says the coordinators ended it, not why, nor "cancelled".
        [request_card] = [c for c in cards_to(world, HEAD) if "as I understood it" in str(c)]
        assert "The coordinators have ended this support." in card_texts(request_card)
        assert "cancelled" not in card_texts(request_card)
        assert REASON not in card_texts(request_card)


def test_a_coordinator_on_teams_finds_any_support_and_ends_it(
    db_url: str, clock: FixedClock
) -> None:
    with teams_world(db_url, clock, on_teams={**ON_TEAMS, "UCOORD": COORDINATOR}) as world:
        deployment_id = deployed(world)
        say(world, COORDINATOR, "home")
        card = card_with(world, COORDINATOR, FIND)
        assert "query" in inputs(card)
        # Nobody else may search: told why, shown nothing.
        refused = press(world, NLE, FIND, "home", query="mere")
        assert refused["value"] == "Only coordinators can end a support."
        none = answer_card(press(world, COORDINATOR, FIND, "home", query="castle vale"))
        assert "None found" in card_texts(none) and END not in actions_on(none)
        found = answer_card(press(world, COORDINATOR, FIND, "home", query="MERE green"))
        assert "Mere Green Primary School" in card_texts(found)
        assert "Nadia Leader" in card_texts(found)
        assert actions_on(found) == [END, FIND]  # each match's End, then Search again
        assert inputs(found)["reason"]["maxLength"] == 300
        value = value_of(found, END)
        assert value == str(deployment_id)
        assert press(world, COORDINATOR, END, value, reason=REASON)["value"] == ENDED
        assert "already ended" in press(world, COORDINATOR, END, value, reason=REASON)["value"]
        with world.runtime.sessions() as session:
            ended = session.get(Deployment, deployment_id)
            assert ended is not None and (ended.status, ended.end_reason) == ("cancelled", REASON)
        again = answer_card(press(world, COORDINATOR, FIND, "home", query="mere"))
        assert END not in actions_on(again), "an ended support is not found"


def test_a_search_card_shows_a_few_and_says_how_many_more() -> None:
    long_name = "The Very Long Name of a Primary School in the West Midlands " * 2
    matches = tuple(
        ActiveSupport(
            i, i, long_name, "103413", "Sam Specialist", datetime(2026, 11, 2, tzinfo=UTC)
        )
        for i in range(10)
    )
    card = found_supports_card(SupportSearch(matches, 240), "west midlands")
    assert actions_on(card) == [END] * 10 + [FIND]
    assert "…and 230 more: narrow your search." in card_texts(card)
    assert len(json.dumps(card).encode()) < 28_000
