"""The team buttons' listeners, called as Bolt calls them."""

from __future__ import annotations

from unittest.mock import MagicMock

from bot.entry.runtime import Runtime
from handlers.slack.listeners.actions import teamwork
from tests.handlers.slack.listeners.conftest import Ack, click
from tests.handlers.slack.listeners.team_world import nadias_deployment, on_team


def test_on_open_team_opens_the_form_for_the_lead_only(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id = nadias_deployment(ctx)
    teamwork.on_open_team(
        ctx, ack=ack, body=click("UNLE1", "team_open", str(deployment_id)), client=client
    )
    assert ack.once == {}
    assert client.views_open.call_args.kwargs["view"]["callback_id"] == "team_add"
    client.views_open.reset_mock()
    teamwork.on_open_team(
        ctx, ack=Ack(), body=click("USLE1", "team_open", str(deployment_id)), client=client
    )
    client.views_open.assert_not_called()


def test_on_shadow_pick_saves_before_the_ack(ctx: Runtime, ack: Ack) -> None:
    deployment_id = nadias_deployment(ctx)
    ack.check = lambda: on_team(ctx, deployment_id)
    body = click(
        "UNLE1",
        "team_shadow_pick",
        block_id=f"shadow_invite:{deployment_id}",
        type="static_select",
        selected_option={"value": "UASP2"},
    )
    body["actions"][0].pop("value")
    teamwork.on_shadow_pick(ctx, ack=ack, body=body)
    assert ack.once == {}
    assert ack.seen == [[("shadow", True)]]


def test_on_remove_saves_before_the_ack_and_refuses_garbled_values(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id = nadias_deployment(ctx)
    body = click(
        "UNLE1",
        "team_shadow_pick",
        block_id=f"shadow_invite:{deployment_id}",
        selected_option={"value": "UASP2"},
    )
    body["actions"][0].pop("value")
    teamwork.on_shadow_pick(ctx, ack=Ack(), body=body)
    teamwork.on_remove(
        ctx, ack=Ack(), body=click("UNLE1", "team_remove:0", "x:<!channel>"), client=client
    )
    assert on_team(ctx, deployment_id) == [("shadow", True)]
    ack.check = lambda: on_team(ctx, deployment_id)
    teamwork.on_remove(
        ctx,
        ack=ack,
        body=click("UNLE1", "team_remove:0", f"{deployment_id}:UASP2"),
        client=client,
    )
    assert ack.once == {}
    assert ack.seen == [[("shadow", False)]]


def test_on_shadow_decline_acknowledges_once(ctx: Runtime, ack: Ack) -> None:
    deployment_id = nadias_deployment(ctx)
    teamwork.on_shadow_decline(
        ctx, ack=ack, body=click("UNLE1", "team_shadow_decline", str(deployment_id))
    )
    assert ack.once == {}
    assert on_team(ctx, deployment_id) == []
