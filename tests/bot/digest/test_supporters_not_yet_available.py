"""Supporters who start later (`available_from` after today) are not free to take a request
today: routing offers them nothing, so the digest and the term's gaps don't count them as
supply either. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.core.clock import FixedClock
from bot.digest.service import build_digest, digest_week
from bot.insight.service import term_insight
from tests.support.checkin_world import World, make_world

# The only SEND supporter starts in January; today is Monday 23 November 2026.
DIRECTORY = "\n".join(
    [
        "slack_user_id,name,email,roles,school,school_urn,phase,region,expertise,capacity,"
        "available_from",
        "UHEAD1,Hannah Head,,head,Mere Green Primary School,103413,primary,West Midlands,,1,",
        "UCOORD,Chris Coordinator,,coordinator,,,,West Midlands,,0,",
        "USPEC1,Priya Senco,,specialist,Ash Primary School,103800,primary,West Midlands,"
        "send,1,2027-01-04",
    ]
)


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock, directory=DIRECTORY + "\n") as world:
        yield world


def test_a_need_only_a_supporter_starting_later_covers_is_unmet_demand(world: World) -> None:
    request_id = world.request(tags=("send",), confirm=True)
    ctx = world.runtime.context()
    with world.runtime.sessions() as session:
        digest = build_digest(session, ctx, digest_week(ctx, ctx.now.date()))
    [waiting] = digest.coordinators.awaiting
    assert (waiting.request_id, waiting.escalated) == (request_id, True), "nobody offered it"
    send = world.runtime.vocabulary.label("send")
    assert [(d.label, d.waiting) for d in digest.coordinators.unmet_demand] == [(send, 1)]


def test_a_supporter_starting_later_is_no_free_place_in_the_term_gaps(world: World) -> None:
    world.request(tags=("send",), confirm=True)
    ctx = world.runtime.context()
    with world.runtime.sessions() as session:
        insight = term_insight(session, ctx.calendar, ctx.now)
    [cell] = [c for c in insight.cells if c.tag == "send"]
    assert (cell.region, cell.unmet, cell.supply) == ("West Midlands", 1, 0)
