"""The open-classroom form listeners, called as Bolt calls them."""

from __future__ import annotations

import io
import json

from sqlmodel import select

from bot.directory.service import import_directory
from bot.entry.runtime import Runtime
from handlers.slack.listeners.views import visits
from storage.models import VisitRequest
from tests.handlers.slack.listeners.conftest import HEAD, Ack, submission
from tests.support.visit_world import MATHS_VISIT, VISIT_DIRECTORY


def _visits(ctx: Runtime) -> int:
    with ctx.sessions() as session:
        return len(session.exec(select(VisitRequest)).all())


def _form(text: str) -> dict[str, dict[str, object]]:
    return {
        "description": {"type": "plain_text_input", "value": text},
        "areas": {"type": "multi_static_select", "selected_options": []},
    }


def test_on_visit_request_saves_and_offers_before_the_ack(ctx: Runtime, ack: Ack) -> None:
    import_directory(ctx.sessions, io.StringIO(VISIT_DIRECTORY), now=ctx.clock.now())
    ack.check = lambda: _visits(ctx)
    visits.on_visit_request(
        ctx, ack=ack, body=submission(HEAD, "visit_request", _form(MATHS_VISIT))
    )
    assert ack.once == {}
    assert ack.seen == [1]
    assert ctx.deliverer.kicks == 1  # type: ignore[attr-defined]  # the counting outbox


def test_on_visit_request_without_an_area_keeps_the_form_open(ctx: Runtime, ack: Ack) -> None:
    body = submission(HEAD, "visit_request", _form("Could we look around one day?"))
    visits.on_visit_request(ctx, ack=ack, body=body)
    assert ack.once["response_action"] == "errors"
    assert set(ack.once["errors"]) == {"areas"}
    assert _visits(ctx) == 0


def test_on_visit_date_for_no_known_visit_says_so(ctx: Runtime, ack: Ack) -> None:
    body = submission(HEAD, "visit_date", {}, json.dumps({"visit_id": "x"}))
    visits.on_visit_date(ctx, ack=ack, body=body)
    assert ack.once["response_action"] == "update"
    assert "which visit" in json.dumps(ack.once["view"])
