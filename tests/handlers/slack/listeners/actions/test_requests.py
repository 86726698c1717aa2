"""Each request-card button's listener, called as Bolt calls it."""

from __future__ import annotations

from unittest.mock import MagicMock

from bot.entry.runtime import Runtime
from bot.requests.post_changes import UPDATE_ACTION
from handlers.slack.listeners.actions import requests
from tests.handlers.slack.listeners.conftest import (
    COORDINATOR,
    HEAD,
    Ack,
    click,
    new_request,
    offers_of,
    owed,
    request_status,
)


def test_on_update_from_post_without_a_post_says_so_and_changes_nothing(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id = new_request(ctx)
    before = len(owed(ctx))
    requests.on_update_from_post(
        ctx, ack=ack, body=click(HEAD, UPDATE_ACTION, str(request_id)), client=client
    )
    assert ack.once == {}
    client.conversations_history.assert_not_called()
    assert request_status(ctx, request_id) == "offered"
    assert len(owed(ctx)) == before + 1


def test_on_confirm_offers_the_request_before_the_ack(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx, offered=False)
    ack.check = lambda: request_status(ctx, request_id)
    requests.on_confirm(ctx, ack=ack, body=click(HEAD, "request_confirm", str(request_id)))
    assert ack.once == {}
    assert ack.seen == ["offered"]
    assert offers_of(ctx, request_id)


def test_on_cancel_cancels_before_the_ack(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx)
    ack.check = lambda: request_status(ctx, request_id)
    requests.on_cancel(ctx, ack=ack, body=click(HEAD, "request_cancel", str(request_id)))
    assert ack.once == {}
    assert ack.seen == ["cancelled"]


def test_on_cancel_by_a_stranger_is_refused(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx)
    requests.on_cancel(ctx, ack=ack, body=click("UHEAD2", "request_cancel", str(request_id)))
    assert ack.once == {}
    assert request_status(ctx, request_id) == "offered"


def test_on_edit_opens_the_filled_in_form(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    request_id = new_request(ctx)
    requests.on_edit(
        ctx, ack=ack, body=click(COORDINATOR, "request_edit", str(request_id)), client=client
    )
    assert ack.once == {}
    view = client.views_open.call_args.kwargs["view"]
    assert view["callback_id"] == "request_edit"
    assert "SENCO cover" in str(view)


def test_on_edit_by_a_stranger_opens_nothing(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    request_id = new_request(ctx)
    requests.on_edit(
        ctx, ack=ack, body=click("USLE1", "request_edit", str(request_id)), client=client
    )
    assert ack.once == {}
    client.views_open.assert_not_called()


def test_on_profile_opens_the_form_for_the_head_only(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id = new_request(ctx)
    requests.on_profile(
        ctx, ack=ack, body=click(COORDINATOR, "request_profile", str(request_id)), client=client
    )
    client.views_open.assert_not_called()
    requests.on_profile(
        ctx, ack=Ack(), body=click(HEAD, "request_profile", str(request_id)), client=client
    )
    assert client.views_open.call_args.kwargs["view"]["callback_id"] == "profile"


def test_on_show_full_shows_the_request_to_the_head_not_to_strangers(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id = new_request(ctx)
    requests.on_show_full(
        ctx, ack=ack, body=click("UHEAD2", "request_show_full", str(request_id)), client=client
    )
    client.views_open.assert_not_called()
    requests.on_show_full(
        ctx, ack=Ack(), body=click(HEAD, "request_show_full", str(request_id)), client=client
    )
    assert "EHCP reviews" in str(client.views_open.call_args.kwargs["view"])
