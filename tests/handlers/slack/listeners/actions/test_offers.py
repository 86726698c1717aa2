"""Each offer and deployment button's listener, called as Bolt calls it."""

from __future__ import annotations

from unittest.mock import MagicMock

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from handlers.slack.listeners.actions import offers
from storage.models import Deployment
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


def _first_offer(ctx: Runtime) -> tuple[int, int, str]:
    request_id = new_request(ctx)
    offer_id, supporter, _ = offers_of(ctx, request_id)[0]
    return request_id, offer_id, supporter


def test_on_accept_acks_only_after_the_acceptance_is_committed(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id, offer_id, supporter = _first_offer(ctx)
    ack.check = lambda: request_status(ctx, request_id)
    offers.on_accept(
        ctx, ack=ack, body=click(supporter, "offer_accept", str(offer_id)), client=client
    )
    assert ack.once == {}
    assert ack.seen == ["accepted"]
    assert ctx.deliverer.kicks >= 1  # type: ignore[attr-defined]


def test_on_accept_of_a_garbled_button_tells_the_person_and_changes_nothing(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id, _, supporter = _first_offer(ctx)
    before = len(owed(ctx))
    offers.on_accept(ctx, ack=ack, body=click(supporter, "offer_accept", "nope"), client=client)
    assert ack.once == {}
    assert request_status(ctx, request_id) == "offered"
    assert len(owed(ctx)) == before + 1  # the friendly message, owed through the outbox


def test_on_decline_opens_the_reason_form(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    _, offer_id, supporter = _first_offer(ctx)
    offers.on_decline(
        ctx, ack=ack, body=click(supporter, "offer_decline", str(offer_id)), client=client
    )
    assert ack.once == {}
    view = client.views_open.call_args.kwargs["view"]
    assert view["callback_id"] == "offer_decline"
    assert view["private_metadata"] == str(offer_id)


def test_on_decline_by_someone_else_opens_nothing(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    _, offer_id, _ = _first_offer(ctx)
    offers.on_decline(ctx, ack=ack, body=click(HEAD, "offer_decline", str(offer_id)), client=client)
    assert ack.once == {}
    client.views_open.assert_not_called()


def test_on_suggest_owes_the_reply_with_the_change(ctx: Runtime, ack: Ack) -> None:
    _, offer_id, supporter = _first_offer(ctx)
    colleague = next(u for u in ("USLE1", "USLE2", "UNLE1", "USPEC1") if u != supporter)
    before = len(owed(ctx))
    body = click(
        supporter, "offer_suggest", "", block_id=f"suggest:{offer_id}", selected_user=colleague
    )
    ack.check = lambda: len(owed(ctx))
    offers.on_suggest(ctx, ack=ack, body=body)
    assert ack.once == {}
    assert ack.seen[0] > before  # owed before the ack


def test_on_show_full_hides_the_school_before_acceptance(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    _, offer_id, supporter = _first_offer(ctx)
    offers.on_show_full(
        ctx, ack=ack, body=click(supporter, "offer_show_full", str(offer_id)), client=client
    )
    assert ack.once == {}
    shown = str(client.views_open.call_args.kwargs["view"])
    assert "EHCP reviews" in shown
    assert "Mere Green" not in shown


def test_on_release_acks_after_the_release_is_committed(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id, offer_id, supporter = _first_offer(ctx)
    offers.on_accept(
        ctx, ack=Ack(), body=click(supporter, "offer_accept", str(offer_id)), client=client
    )
    with Session(ctx.engine) as session:
        deployment = session.exec(
            select(Deployment).where(Deployment.request_id == request_id)
        ).one()
    ack.check = lambda: request_status(ctx, request_id)
    offers.on_release(ctx, ack=ack, body=click(supporter, "deployment_release", str(deployment.id)))
    assert ack.once == {}
    assert ack.seen != ["accepted"]


def test_on_assign_opens_the_form_for_coordinators_only(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id = new_request(ctx)
    offers.on_assign(
        ctx, ack=ack, body=click(HEAD, "request_assign", str(request_id)), client=client
    )
    client.views_open.assert_not_called()
    offers.on_assign(
        ctx, ack=Ack(), body=click(COORDINATOR, "request_assign", str(request_id)), client=client
    )
    assert client.views_open.call_args.kwargs["view"]["callback_id"] == "assign"
