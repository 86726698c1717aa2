"""The decline and assign modal submissions' listeners, called as Bolt calls them."""

from __future__ import annotations

import json

from bot.entry.runtime import Runtime
from handlers.slack.listeners.views import offers
from tests.handlers.slack.listeners.conftest import (
    COORDINATOR,
    HEAD,
    Ack,
    new_request,
    offers_of,
    request_status,
    submission,
)

REASON = {"reason": {"type": "plain_text_input", "value": "No capacity this term"}}


def _status(ctx: Runtime, request_id: int, offer_id: int) -> str:
    return next(status for i, _, status in offers_of(ctx, request_id) if i == offer_id)


def test_on_decline_saves_before_the_ack(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx)
    offer_id, supporter, _ = offers_of(ctx, request_id)[0]
    ack.check = lambda: _status(ctx, request_id, offer_id)
    offers.on_decline(
        ctx, ack=ack, body=submission(supporter, "offer_decline", REASON, str(offer_id))
    )
    assert ack.once == {}
    assert ack.seen == ["declined"]


def test_on_decline_by_someone_else_is_refused(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx)
    offer_id, _, _ = offers_of(ctx, request_id)[0]
    offers.on_decline(ctx, ack=ack, body=submission(HEAD, "offer_decline", REASON, str(offer_id)))
    assert ack.once["response_action"] == "update"
    assert _status(ctx, request_id, offer_id) == "open"


def test_on_assign_saves_before_the_ack(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx)
    supporter = offers_of(ctx, request_id)[0][1]
    ack.check = lambda: request_status(ctx, request_id)
    values = {"supporter": {"type": "users_select", "selected_user": supporter}}
    body = submission(COORDINATOR, "assign", values, json.dumps({"request_id": request_id}))
    offers.on_assign(ctx, ack=ack, body=body)
    assert ack.once == {}
    assert ack.seen == ["accepted"]


def test_on_assign_without_a_supporter_asks_for_one(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx)
    body = submission(COORDINATOR, "assign", {}, json.dumps({"request_id": request_id}))
    offers.on_assign(ctx, ack=ack, body=body)
    assert ack.once == {
        "response_action": "errors",
        "errors": {"supporter": "Please choose a supporter."},
    }
    assert request_status(ctx, request_id) == "offered"
