"""The Teams harness: `teams` is a running bot serving Slack and Teams (see
`bot.entry.stand_in`) with Teams' side played by a `FakeMicrosoft`; `teams_only` serves Teams
alone. In the directory, Hannah Head and Nadia Leader are on Teams; everyone else on Slack."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import update

from bot.core.clock import FixedClock
from bot.entry.stand_in import SIGNING_SECRET, SlackWorld, running_world
from storage.models import Person
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL, DIRECTORY, SUPPORT_CHANNEL

HEAD = "11111111-1111-4111-8111-111111111111"  # Hannah Head's Entra object id
NLE = "22222222-2222-4222-8222-222222222222"  # Nadia Leader's
COORDINATOR = "33333333-3333-4333-8333-333333333333"  # Chris Coordinator's (Teams-only world)
COORDINATORS_CHANNEL = "19:coordinators@thread.tacv2"
ON_TEAMS = {"UHEAD1": HEAD, "UNLE1": NLE}


def move_to_teams(world: SlackWorld, people: dict[str, str]) -> None:
    """Give these directory entries a Teams id instead of their Slack one."""
    with world.runtime.sessions() as session:
        for slack_id, teams_id in people.items():
            session.execute(
                update(Person)
                .where(Person.slack_user_id == slack_id)
                .values(slack_user_id=None, teams_user_id=teams_id)
            )
        session.commit()


def teams_user(aad: str) -> str:
    """The `29:` id Teams gives a user in activities (any stable string for the fake)."""
    return f"29:{aad[:8]}"


def check_no_errors(world: SlackWorld) -> None:
    unexpected = [record.getMessage() for record in world.errors]
    assert not unexpected, f"a listener failed: {unexpected}"


@contextmanager
def teams_world(
    db_url: str, clock: FixedClock, directory: str = DIRECTORY, on_teams: dict[str, str] = ON_TEAMS
) -> Iterator[SlackWorld]:
    """Slack and Teams serving `directory`, with the people in `on_teams` moved to Teams."""
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": db_url,
        "SUPPORT_CHANNEL_ID": SUPPORT_CHANNEL,
        "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
        "SCHEDULER_ENABLED": "false",
        "TEAMS_COORDINATOR_CONVERSATION_ID": COORDINATORS_CHANNEL,
    }
    with running_world(env, clock, directory=directory, teams=True) as world:
        world.import_directory()
        move_to_teams(world, on_teams)
        yield world
    check_no_errors(world)


@pytest.fixture
def teams(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """Slack and Teams, one directory: Hannah Head and Nadia Leader on Teams."""
    with teams_world(db_url, clock) as world:
        yield world


@pytest.fixture
def teams_only(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """A Teams-only bot (no Slack settings at all); everyone in the directory on Teams."""
    env: dict[str, Any] = {
        "DATABASE_URL": db_url,
        "SCHEDULER_ENABLED": "false",
        "TEAMS_COORDINATOR_CONVERSATION_ID": COORDINATORS_CHANNEL,
    }
    with running_world(env, clock, directory=DIRECTORY, teams=True) as world:
        world.import_directory()
        everyone = {**ON_TEAMS, "UCOORD": COORDINATOR}
        for n, slack_id in enumerate(("UHEAD2", "USLE1", "USLE2", "USPEC1")):
            everyone[slack_id] = f"4444444{n}-4444-4444-8444-444444444444"
        move_to_teams(world, everyone)
        yield world
    check_no_errors(world)
