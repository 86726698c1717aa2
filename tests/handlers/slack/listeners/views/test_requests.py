"""The request and profile modal submissions' listeners, called as Bolt calls them."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from bot.routing.service import accept_offer
from handlers.slack.listeners.views import requests
from storage.models import AuditEntry, Person, SupportRequest
from tests.handlers.slack.listeners.conftest import (
    HEAD,
    Ack,
    new_request,
    offers_of,
    owed,
    submission,
)


def _text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def _form(title: str = "Maths lead needed") -> dict[str, Any]:
    return {
        "title": _text(title),
        "description": _text("Our maths lead leaves at Easter and we need cover."),
        "areas": {"type": "multi_static_select", "selected_options": [{"value": "maths"}]},
        "urgency": {"type": "static_select", "selected_option": {"value": "routine"}},
        "school": _text("Mere Green Primary School"),
    }


def _titles(ctx: Runtime) -> list[tuple[int, str, str]]:
    with Session(ctx.engine) as session:
        return [(r.id or 0, r.title, r.status) for r in session.exec(select(SupportRequest))]


def test_on_new_request_saves_before_the_ack_then_offers(ctx: Runtime, ack: Ack) -> None:
    ack.check = lambda: [title for _, title, _ in _titles(ctx)]
    body = submission(HEAD, "request_new", _form(), json.dumps({"source": "command"}))
    requests.on_new_request(ctx, ack=ack, body=body)
    assert ack.once == {}
    assert ack.seen == [["Maths lead needed"]]
    request_id, _, status = _titles(ctx)[0]
    assert status == "offered" and offers_of(ctx, request_id)


def test_on_new_request_with_a_missing_title_shows_the_error_and_saves_nothing(
    ctx: Runtime, ack: Ack
) -> None:
    requests.on_new_request(ctx, ack=ack, body=submission(HEAD, "request_new", _form(title="")))
    assert ack.once["response_action"] == "errors"
    assert "title" in ack.once["errors"]
    assert _titles(ctx) == []


def test_on_edit_request_saves_before_the_ack(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx)
    ack.check = lambda: [title for _, title, _ in _titles(ctx)]
    body = submission(
        HEAD, "request_edit", _form("Maths and SEND"), json.dumps({"request_id": request_id})
    )
    requests.on_edit_request(ctx, ack=ack, body=body)
    assert ack.once == {}
    assert ack.seen == [["Maths and SEND"]]


def test_on_edit_request_by_a_stranger_is_refused(ctx: Runtime, ack: Ack) -> None:
    request_id = new_request(ctx)
    body = submission(
        "UHEAD2", "request_edit", _form("Hijacked"), json.dumps({"request_id": request_id})
    )
    owed_before = len(owed(ctx))
    requests.on_edit_request(ctx, ack=ack, body=body)
    assert ack.once["response_action"] == "update"
    assert "Only the head who asked" in str(ack.once["view"])
    assert [title for _, title, _ in _titles(ctx)] == ["SENCO cover"]
    assert len(owed(ctx)) == owed_before, "said in the form, not again by DM"
    with Session(ctx.engine) as session:
        refused = session.exec(
            select(AuditEntry.actor).where(AuditEntry.action.endswith(".refused"))
        )
        assert list(refused) == ["UHEAD2"]


def test_on_edit_request_after_acceptance_keeps_the_form_and_owes_no_message(
    ctx: Runtime, ack: Ack
) -> None:
    """The edit can't be saved once a supporter has accepted: said once, inline at the top of
    the form the head is still looking at (their words stay there), never again by DM."""
    request_id = new_request(ctx)
    [(offer_id, supporter, _)] = [o for o in offers_of(ctx, request_id) if o[1] == "USLE1"]
    with ctx.sessions() as session:
        accept_offer(session, ctx.context(), actor=supporter, offer_id=offer_id)
        session.commit()
    owed_before = len(owed(ctx))
    body = submission(
        HEAD, "request_edit", _form("Maths and SEND"), json.dumps({"request_id": request_id})
    )
    requests.on_edit_request(ctx, ack=ack, body=body)
    assert ack.once["response_action"] == "errors"
    assert "Sam Specialist" in ack.once["errors"]["title"]
    assert len(owed(ctx)) == owed_before
    assert [title for _, title, _ in _titles(ctx)] == ["SENCO cover"]


def test_on_profile_saves_the_school_before_the_ack(ctx: Runtime, ack: Ack) -> None:
    def school_of_newcomer() -> int | None:
        with Session(ctx.engine) as session:
            person = session.exec(select(Person).where(Person.slack_user_id == "UNEW1")).first()
            return person.school_id if person else None

    ack.check = school_of_newcomer
    values = {
        "school": _text("Elm Tree Primary"),
        "phase": {"type": "static_select", "selected_option": {"value": "primary"}},
        "region": {"type": "static_select", "selected_option": {"value": "West Midlands"}},
    }
    requests.on_profile(ctx, ack=ack, body=submission("UNEW1", "profile", values))
    assert ack.once == {}
    assert ack.seen[0] is not None
