"""The Slack harness for tests: `slack` is a running bot (see `bot.entry.stand_in`).

uvicorn serves the real Bolt app at `POST /slack/events` on a free port; its `WebClient`
points (via SLACK_API_URL) at a `FakeSlack`; `slack.sender` signs requests like Slack;
`slack.settle()` waits for listeners to finish and the outbox to drain. A listener that
crashes into the global error handler fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.clock import FixedClock
from bot.entry.stand_in import SIGNING_SECRET, SlackWorld, running_world

SUPPORT_CHANNEL = "C0SUPPORT"
COORDINATOR_CHANNEL = "G0COORDS"
DIRECTORY = (Path(__file__).parents[2] / "fixtures" / "slack_directory.csv").read_text()

__all__ = ["COORDINATOR_CHANNEL", "DIRECTORY", "SIGNING_SECRET", "SUPPORT_CHANNEL", "SlackWorld"]


@pytest.fixture
def slack_settings_env(db_url: str) -> dict[str, str]:
    """Settings for a bot talking to the fake (SLACK_API_URL is filled in by `slack`)."""
    return {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": db_url,
        "SUPPORT_CHANNEL_ID": SUPPORT_CHANNEL,
        "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
        "SCHEDULER_ENABLED": "false",
    }


@pytest.fixture
def slack(slack_settings_env: dict[str, str], clock: FixedClock) -> Iterator[SlackWorld]:
    """The running world; see the module docstring."""
    with running_world(slack_settings_env, clock, directory=DIRECTORY) as world:
        yield world
    unexpected = [record.getMessage() for record in world.errors]
    assert not unexpected, f"a listener failed: {unexpected}"
