"""The team form's submission listener, called as Bolt calls it."""

from __future__ import annotations

import json
from unittest.mock import MagicMock

from bot.entry.runtime import Runtime
from bot.outbox.owing import HOME_PUBLISH
from handlers.slack.listeners.views import teamwork
from tests.handlers.slack.listeners.conftest import Ack, owed, submission
from tests.handlers.slack.listeners.team_world import nadias_deployment, on_team


def _form(user: str, deployment_id: int, colleagues: list[str]) -> dict:
    values = {
        "colleagues": {
            "type": "multi_static_select",
            "selected_options": [{"value": c} for c in colleagues],
        }
    }
    return submission(user, "team_add", values, json.dumps({"deployment_id": deployment_id}))


def test_on_team_submitted_saves_before_the_ack(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    deployment_id = nadias_deployment(ctx)
    ack.check = lambda: on_team(ctx, deployment_id)
    teamwork.on_team_submitted(
        ctx, ack=ack, body=_form("UNLE1", deployment_id, ["UOAK1"]), client=client
    )
    assert ack.once == {}
    assert ack.seen == [[("colleague", True)]]
    client.views_publish.assert_not_called()  # the refreshed Home tab is owed, paced
    assert [m.channel for m in owed(ctx) if m.method == HOME_PUBLISH] == ["UNLE1"]


def test_on_team_submitted_shows_problems_on_the_form(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id = nadias_deployment(ctx)
    teamwork.on_team_submitted(ctx, ack=ack, body=_form("UNLE1", deployment_id, []), client=client)
    assert ack.once["response_action"] == "errors"
    refused = Ack()
    teamwork.on_team_submitted(
        ctx, ack=refused, body=_form("USLE1", deployment_id, ["UOAK1"]), client=client
    )
    assert refused.once["response_action"] == "update"
    garbled = Ack()
    teamwork.on_team_submitted(
        ctx, ack=garbled, body=submission("UNLE1", "team_add", {}, "nonsense"), client=client
    )
    assert garbled.once["response_action"] == "update"
    assert on_team(ctx, deployment_id) == []
