"""Routing again after a deployment ends: whoever supported the request before is not
offered it back. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.core.clock import FixedClock
from bot.routing.service import release_deployment
from storage.db import transaction
from storage.models import Offer, Person
from tests.support.checkin_world import World, make_world


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock) as world:
        yield world


def release(world: World, deployment_id: int, *, actor: str) -> None:
    with transaction(world.runtime.sessions) as session:
        release_deployment(
            session, world.runtime.context(), actor=actor, deployment_id=deployment_id
        )


def offered_to(world: World) -> set[str]:
    """The Slack ids of everyone the request has been offered to."""
    with world.runtime.sessions() as session:
        return set(
            session.exec(
                select(Person.slack_user_id).join(Offer, col(Offer.supporter_id) == col(Person.id))
            )
        )


def test_a_supporter_who_releases_a_hand_assigned_deployment_is_not_offered_it_back(
    world: World,
) -> None:
    deployment = world.deploy(supporter="USLE1")  # assigned by a coordinator: no offer
    release(world, deployment, actor="USLE1")
    offered = offered_to(world)
    assert offered, "routing started again"
    assert "USLE1" not in offered


def test_a_supporter_reassigned_away_is_not_offered_the_request_again(world: World) -> None:
    request = world.request()
    world.assign(request, "USLE1")
    second = world.assign(request, "USPEC1")  # reassigned: USLE1's deployment ends
    release(world, second, actor="USPEC1")
    offered = offered_to(world)
    assert offered == {"UNLE1"}, "the one send supporter who never had it"
