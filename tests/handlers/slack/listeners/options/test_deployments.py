"""The menus of *End a support…* and *Check-ins for a support…*, called as Bolt calls them: a
coordinator's typing answered with the matching supports (in the check-ins menu, each saying
how its check-ins stand); anyone else with one line saying why."""

from __future__ import annotations

from typing import Any
from unittest.mock import MagicMock

from bot.directory.people import person_by_user_id
from bot.entry.runtime import Runtime
from handlers.slack.listeners.options import deployments
from handlers.slack.stand_in.fake_slack import options_problems
from tests.handlers.slack.listeners.actions.test_deployments import deployed
from tests.handlers.slack.listeners.conftest import COORDINATOR, HEAD, Ack


def typed(user: str, value: str) -> dict[str, Any]:
    """A block_suggestion payload: `value` typed into the menu."""
    return {
        "type": "block_suggestion",
        "user": {"id": user, "name": user.lower()},
        "action_id": "deployment_end_pick",
        "block_id": "support",
        "value": value,
        "view": {"id": "V1", "type": "modal", "callback_id": "deployment_end_any_form"},
    }


def test_a_coordinator_gets_the_matching_supports(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, supporter = deployed(ctx, client)
    with ctx.sessions() as session:
        found = person_by_user_id(session, supporter)
        assert found is not None
        name = found.name
    # Part of each word of their name, in another case.
    typed_name = " ".join(word[:3].upper() for word in name.split())
    deployments.on_pick_to_end(ctx, ack=ack, body=typed(COORDINATOR, typed_name))
    assert options_problems(ack.once) == []
    [option] = ack.once["options"]
    assert option["value"] == str(deployment_id)
    assert option["text"]["text"] == f"School not known — {name} · #1"
    deployments.on_pick_to_end(ctx, ack=(nothing := Ack()), body=typed(COORDINATOR, "nobody"))
    assert nothing.once == {"options": []}


def test_anyone_else_is_told_why_in_the_menu(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    deployed(ctx, client)
    deployments.on_pick_to_end(ctx, ack=ack, body=typed(HEAD, "sam"))
    [option] = ack.once["options"]
    assert option["text"]["text"] == "Only coordinators can end a support."
    assert option["value"] == "none"


def test_the_checkins_menu_finds_the_same_supports(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, _ = deployed(ctx, client)
    body = {**typed(COORDINATOR, "#1"), "action_id": "deployment_checkins_pick"}
    deployments.on_pick_for_checkins(ctx, ack=ack, body=body)
    assert options_problems(ack.once) == []
    [option] = ack.once["options"]
    assert option["value"] == str(deployment_id)
    assert option["text"]["text"].endswith(" · #1 · next Mon 30 Nov")


def test_anyone_else_is_told_why_in_the_checkins_menu(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployed(ctx, client)
    deployments.on_pick_for_checkins(ctx, ack=ack, body=typed(HEAD, "sam"))
    [option] = ack.once["options"]
    assert option["text"]["text"] == "Only coordinators can change a support's check-ins."
    assert option["value"] == "none"
