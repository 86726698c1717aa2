"""The visits tests' world: the bot on Monday 23 November 2026 with the 2026-27 term dates."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.core.clock import FixedClock
from bot.core.school_calendar import EXAMPLE_HOLIDAYS_FILE
from tests.support.checkin_world import World, make_world
from tests.support.visit_world import VISIT_DIRECTORY


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    """The bot on Monday 23 November 2026 with the 2026-27 example term dates."""
    with make_world(
        engine, clock, directory=VISIT_DIRECTORY, HOLIDAYS_FILE=str(EXAMPLE_HOLIDAYS_FILE)
    ) as world:
        yield world
