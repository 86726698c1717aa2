"""Erasing a head whose request is waiting for a coordinator to assign it by hand: the
request is cancelled like any other not yet under way. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.core.clock import FixedClock
from bot.privacy.service import erase_person
from storage.db import transaction
from storage.models import SupportRequest
from tests.support.checkin_world import COORDINATOR_CHANNEL, World, make_world


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock) as world:
        yield world


def status_of(world: World, request_id: int) -> str:
    with world.runtime.sessions() as session:
        request = session.get(SupportRequest, request_id)
        assert request is not None
        return request.status


def test_an_escalated_request_of_an_erased_head_is_cancelled(world: World) -> None:
    # Nobody in the directory has governance: the request goes straight to the coordinators.
    request_id = world.request(head="UHEAD1", tags=("governance",), confirm=True)
    assert status_of(world, request_id) == "expired"

    with transaction(world.runtime.sessions) as session:
        report = erase_person(session, world.runtime.context(), "UHEAD1")
    world.runtime.deliverer.drain()

    assert report is not None and report.requests_cancelled == [request_id]
    assert status_of(world, request_id) == "cancelled", "no longer waiting to be assigned"
    [notice] = [
        m for m in world.fake.messages(COORDINATOR_CHANNEL) if "data was erased" in m["text"]
    ]
    assert f"cancelled: #{request_id}" in notice["text"]
