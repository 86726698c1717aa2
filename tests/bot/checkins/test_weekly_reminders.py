"""The one reminder comes before the next check-in, whatever the cadence: with weekly
check-ins, 48 working hours (the default) ran past the next one (a school week has 45), so
nobody was ever reminded and every unanswered check-in was simply missed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.checkins.service import change_cadence
from bot.core.clock import FixedClock
from storage.db import transaction
from storage.models import Deployment
from tests.bot.checkins.test_checkins import checkin_dms, local
from tests.support.checkin_world import World, make_world, utc


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock) as world:
        yield world


def weekly(world: World) -> int:
    deployment = world.deploy()
    with transaction(world.runtime.sessions) as session:
        row = session.get(Deployment, deployment)
        assert row is not None
        row.checkin_every_days = 7
    return deployment


def test_a_weekly_checkin_is_reminded_half_way_to_the_next(world: World) -> None:
    deployment = weekly(world)
    world.at(utc(2026, 11, 30, 9, 30))  # Monday: the first check-in goes
    first, second = world.checkins(deployment)
    assert local(second.due_at) == "Mon 07 Dec 2026 09:30"
    # 45 working hours to the next; half-way is 22.5: Monday 7.5, Tuesday 9, Wednesday 6.
    assert local(first.remind_at) == "Wed 02 Dec 2026 14:00"
    assert world.at(utc(2026, 12, 2, 14, 0))["checkin_reminders"] == 1
    _asked, reminded = checkin_dms(world, "UHEAD1")
    assert reminded["text"].startswith("Reminder:")


def test_the_default_fortnightly_reminder_is_unchanged(world: World) -> None:
    deployment = world.deploy()
    world.at(utc(2026, 11, 30, 9, 30))
    assert local(world.checkins(deployment)[0].remind_at) == "Mon 07 Dec 2026 12:30"


def test_choosing_weekly_after_a_checkin_went_brings_its_reminder_forward(world: World) -> None:
    deployment = world.deploy()
    world.at(utc(2026, 11, 30, 9, 30))
    first = world.checkins(deployment)[0]
    world.clock.set(utc(2026, 11, 30, 10, 0))
    with transaction(world.runtime.sessions) as session:
        change_cadence(
            session, world.runtime.context(), actor="UHEAD1", checkin_id=first.id, days=7
        )
    first, second = world.checkins(deployment)
    assert local(second.due_at) == "Mon 07 Dec 2026 09:30"
    assert first.remind_at < second.due_at
    assert local(first.remind_at) == "Wed 02 Dec 2026 14:00"
