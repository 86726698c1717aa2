"""Offers nobody answered expire through time, one request at a time: a request that fails
to move on is logged (ids only) and retried, and never stops the others. On SQLite and
PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.routing import service as routing
from storage.models import Offer, OfferStatus, RequestStatus, SupportRequest
from tests.support.checkin_world import World, make_world


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock) as world:
        yield world


def round_statuses(world: World, request_id: int, offer_round: int) -> set[str]:
    with world.runtime.sessions() as session:
        offers = session.exec(
            select(Offer).where(Offer.request_id == request_id, Offer.round == offer_round)
        ).all()
    return {offer.status for offer in offers}


def status_of(world: World, request_id: int) -> str:
    with world.runtime.sessions() as session:
        request = session.get(SupportRequest, request_id)
        assert request is not None
        return request.status


def failing_for(request_id: int) -> Any:
    """`offer_next_round`, except that it fails for one request."""
    real = routing.offer_next_round

    def offer_next_round(session: Any, ctx: Any, request: Any, **kw: Any) -> Any:
        if request.id == request_id:
            raise RuntimeError("a fault with this one request")
        return real(session, ctx, request, **kw)

    return offer_next_round


def test_a_request_that_fails_to_move_on_does_not_stop_the_others_expiring(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    bad = world.request(confirm=True)
    good = world.request(head="UHEAD2", confirm=True, school="Castle Vale Academy")
    monkeypatch.setattr(routing, "offer_next_round", failing_for(bad))
    later = world.clock.now() + timedelta(days=14)

    with caplog.at_level(logging.ERROR):
        results = world.at(later)

    assert results["offers_expired"] == 1
    assert round_statuses(world, good, 1) == {OfferStatus.EXPIRED}
    assert status_of(world, good) == RequestStatus.EXPIRED  # nobody left: to the coordinators
    # The failing request's own change was undone whole, not half made.
    assert round_statuses(world, bad, 1) == {OfferStatus.OPEN}
    assert status_of(world, bad) == RequestStatus.OFFERED
    failures = [r for r in caplog.records if r.name == "bot.routing.jobs"]
    assert [r.getMessage() for r in failures] == [
        f"expiring offers failed for request {bad}; next run retries"
    ]

    monkeypatch.undo()
    assert world.at(later + timedelta(minutes=1))["offers_expired"] == 1
    assert round_statuses(world, bad, 1) == {OfferStatus.EXPIRED}
    assert status_of(world, bad) == RequestStatus.EXPIRED
