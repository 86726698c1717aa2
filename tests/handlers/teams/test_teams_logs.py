"""What the served bot logs for Teams: ids only, and none of httpx's lines about each call
(the Teams SDK lowers httpx's level again on every activity)."""

from __future__ import annotations

import json

import pytest

from bot.entry.stand_in import SlackWorld
from tests.handlers.teams.conftest import HEAD, teams_user
from tests.support.logs import bot_log

REQUEST = "Our SENCO Anna Balson is off sick and EHCP reviews at Mere Green are late."


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_teams_request_is_logged_by_ids_without_a_line_per_http_call(
    teams: SlackWorld, log_format: str
) -> None:
    assert teams.teams is not None
    activity = teams.teams.message(REQUEST, user=teams_user(HEAD), aad=HEAD)
    activity["from"]["name"] = "Hannah Head"

    with bot_log(log_format) as lines:
        assert teams.teams_send(activity).status_code == 200
        teams.settle()

    logged = lines.getvalue()
    assert f"Teams message {activity['id']} in " in logged
    assert teams.teams.connector_calls(), "the bot answered through the Bot Connector"
    for word in ("Anna", "Balson", "Mere Green", "Hannah", "stand-in-secret"):
        assert word not in logged
    if log_format == "json":
        loggers = {json.loads(line)["logger"] for line in logged.splitlines()}
        assert not {"httpx", "httpcore.http11", "httpcore.connection"} & loggers
    else:
        assert " httpx: HTTP Request" not in logged and " httpcore." not in logged
