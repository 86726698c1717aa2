"""The personal digest on Teams, through `/api/messages` and the fake Bot Connector: besides
what someone leads or is supported by, the deployments they are on as a colleague or shadow
and their open-classroom visits (visiting or hosting), as Slack's digest lists them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.digest.service import send_weekly_digest
from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from bot.members.service import SHADOW, add_member
from storage.db import transaction
from storage.models import Deployment, Person
from tests.handlers.teams.conftest import HEAD, NLE, ON_TEAMS, teams_world
from tests.handlers.teams.programme import cards_to, deployed, press_on_card
from tests.handlers.teams.test_teams_flows import card_texts
from tests.handlers.teams.test_teams_visits import MATHS, say
from tests.support.visit_world import VISIT_DIRECTORY

HARRY = "66666666-6666-4666-8666-666666666666"  # Harry Head, an aspiring leader, on Teams


@pytest.fixture
def world(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """Hannah, Nadia (Oak Hill hosts visits) and Harry on Teams."""
    on_teams = {**ON_TEAMS, "UHEAD2": HARRY}
    with teams_world(db_url, clock, directory=VISIT_DIRECTORY, on_teams=on_teams) as running:
        yield running


def shadow(world: SlackWorld, deployment_id: int, aad: str) -> None:
    """`aad` joins the deployment as a shadow (as the lead's team form does)."""
    with transaction(world.runtime.sessions) as session:
        deployment = session.get(Deployment, deployment_id)
        person = session.exec(select(Person).where(Person.teams_user_id == aad)).one()
        assert deployment is not None
        add_member(
            session,
            deployment=deployment,
            person=person,
            role=SHADOW,
            added_by=None,
            actor=NLE,
            now=world.clock.now(),
        )


def digest_to(world: SlackWorld, aad: str) -> str:
    [digest] = [
        card_texts(c)
        for c in cards_to(world, aad)
        if "Your week in school-to-school support" in card_texts(c)
    ]
    return digest


def test_the_teams_digest_lists_team_places_and_visits(world: SlackWorld) -> None:
    shadow(world, deployed(world), HARRY)
    say(world, HEAD, MATHS)  # Hannah asks to visit; Nadia hosts on Tuesday 8 December
    press_on_card(world, NLE, "visit_accept")
    press_on_card(world, NLE, "visit_pick_date", date="2026-12-08")
    ctx = world.runtime.context()
    week = ctx.calendar.local(ctx.now).date()
    assert send_weekly_digest(world.runtime.sessions, ctx, week_start=week).sent
    run_due(world.runtime)
    world.settle()

    harry = digest_to(world, HARRY)
    assert "You're shadowing Nadia Leader supporting **Mere Green Primary School**" in harry
    hannah = digest_to(world, HEAD)
    assert "Nadia Leader is supporting your school" in hannah
    assert (
        "You're visiting Oak Hill Primary School to see **Maths** on "
        "**Tuesday 8 December 2026**." in hannah
    )
    nadia = digest_to(world, NLE)
    assert "You're supporting #" in nadia
    assert (
        "You're hosting Hannah Head (Mere Green Primary School) to see **Maths** on "
        "**Tuesday 8 December 2026**." in nadia
    )
    assert "<@" not in harry + hannah + nadia
