"""The Home tab buttons' listeners, called as Bolt calls them."""

from __future__ import annotations

from unittest.mock import MagicMock

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from bot.outbox.owing import HOME_PUBLISH
from handlers.slack.blocks.audit import AUDIT_TRAIL_ACTION
from handlers.slack.blocks.home import ASK_ACTION, AVAILABILITY_ACTION, AVAILABLE, AWAY
from handlers.slack.listeners.actions import home
from storage.models import OutboxMessage, Person
from tests.handlers.slack.listeners.conftest import COORDINATOR, HEAD, Ack, click, new_request, owed
from tests.support.blockkit import texts


def _available(ctx: Runtime, user: str) -> bool:
    with Session(ctx.engine) as session:
        person = session.exec(select(Person).where(Person.slack_user_id == user)).one()
        return bool(person.available)


def test_on_ask_opens_the_request_form(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    home.on_ask(ctx, ack=ack, body=click(HEAD, ASK_ACTION), client=client)
    assert ack.once == {}
    view = client.views_open.call_args.kwargs["view"]
    assert view["callback_id"] == "request_new"
    assert '"source": "home"' in view["private_metadata"]
    assert '"private": true' in view["private_metadata"]


def _owed_homes(ctx: Runtime) -> list[OutboxMessage]:
    return [m for m in owed(ctx) if m.method == HOME_PUBLISH]


def test_on_availability_saves_with_the_home_tab_owed_before_the_ack(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    ack.check = lambda: (_available(ctx, "USLE1"), [m.channel for m in _owed_homes(ctx)])
    home.on_availability(
        ctx, ack=ack, body=click("USLE1", AVAILABILITY_ACTION, AWAY), client=client
    )
    assert ack.once == {}
    assert ack.seen == [(False, ["USLE1"])]
    client.views_publish.assert_not_called()  # through the outbox, paced
    [page] = _owed_homes(ctx)
    assert "*Away*" in texts(page.payload["home"]["blocks"])
    home.on_availability(
        ctx, ack=Ack(), body=click("USLE1", AVAILABILITY_ACTION, AVAILABLE), client=client
    )
    assert _available(ctx, "USLE1")
    [newer] = _owed_homes(ctx)  # the queued page is replaced, not sent as well
    assert "*Away*" not in texts(newer.payload["home"]["blocks"])


def test_on_availability_refuses_a_garbled_value(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    home.on_availability(
        ctx, ack=ack, body=click("USLE1", AVAILABILITY_ACTION, "maybe"), client=client
    )
    assert ack.once == {}
    assert _available(ctx, "USLE1")
    assert _owed_homes(ctx) == []


def test_on_audit_trail_opens_the_requests_trail_for_a_coordinator(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id = new_request(ctx)
    home.on_audit_trail(
        ctx, ack=ack, body=click(COORDINATOR, AUDIT_TRAIL_ACTION, str(request_id)), client=client
    )
    assert ack.once == {}
    view = client.views_open.call_args.kwargs["view"]
    assert view["title"]["text"] == f"Audit trail #{request_id}"
    assert "offered the request to" in texts(view["blocks"])


def test_on_audit_trail_refuses_a_head_and_opens_nothing(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    request_id = new_request(ctx)
    home.on_audit_trail(
        ctx, ack=ack, body=click(HEAD, AUDIT_TRAIL_ACTION, str(request_id)), client=client
    )
    assert ack.once == {}
    client.views_open.assert_not_called()
    assert any("Only coordinators" in str(m.payload) for m in owed(ctx))
