"""The open-classroom button listeners, called as Bolt calls them."""

from __future__ import annotations

import io
from unittest.mock import MagicMock

from sqlmodel import select

from bot.directory.service import import_directory
from bot.entry.runtime import Runtime
from bot.visits.service import ask_to_visit
from bot.visits.views import VisitDraft
from handlers.slack.listeners.actions import visits
from storage.db import transaction
from storage.models import Person, VisitOffer, VisitRequest, VisitStatus
from tests.handlers.slack.listeners.conftest import HEAD, Ack, click, owed
from tests.support.visit_world import MATHS_VISIT, VISIT_DIRECTORY


def _asked(ctx: Runtime) -> tuple[int, int]:
    """A visit offered to Nadia: (visit id, her offer's id)."""
    import_directory(ctx.sessions, io.StringIO(VISIT_DIRECTORY), now=ctx.clock.now())
    with transaction(ctx.sessions) as session:
        summary = ask_to_visit(
            session, ctx.context(), actor=HEAD, draft=VisitDraft(MATHS_VISIT), source_key="k1"
        )
        nadia = session.exec(select(Person).where(Person.slack_user_id == "UNLE1")).one()
        offer = session.exec(
            select(VisitOffer).where(
                VisitOffer.visit_id == summary.id, VisitOffer.host_id == nadia.id
            )
        ).one()
        return summary.id, offer.id or 0


def _status(ctx: Runtime, visit_id: int) -> str:
    with ctx.sessions() as session:
        found = session.get(VisitRequest, visit_id)
        assert found is not None
        return found.status


def test_on_accept_saves_before_the_ack(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    visit_id, offer_id = _asked(ctx)
    ack.check = lambda: _status(ctx, visit_id)
    body = click("UNLE1", "visit_accept", str(offer_id))
    visits.on_accept(ctx, ack=ack, body=body, client=client)
    assert ack.once == {}
    assert ack.seen == [VisitStatus.ACCEPTED]


def test_on_accept_of_a_broken_value_is_told_politely(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    body = click("UNLE1", "visit_accept", "not-an-id")
    visits.on_accept(ctx, ack=ack, body=body, client=client)
    assert ack.once == {}
    assert any("doesn't point at a visit offer" in m.payload["text"] for m in owed(ctx))


def test_on_pick_date_opens_the_picker_for_the_host_only(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    visit_id, offer_id = _asked(ctx)
    visits.on_accept(
        ctx, ack=Ack(), body=click("UNLE1", "visit_accept", str(offer_id)), client=client
    )
    visits.on_pick_date(
        ctx, ack=ack, body=click("UNLE1", "visit_pick_date", str(visit_id)), client=client
    )
    assert ack.once == {}
    assert client.views_open.call_args.kwargs["view"]["callback_id"] == "visit_date"
    client.views_open.reset_mock()
    visits.on_pick_date(
        ctx, ack=Ack(), body=click(HEAD, "visit_pick_date", str(visit_id)), client=client
    )
    client.views_open.assert_not_called()


def test_on_useful_before_the_visit_changes_nothing(ctx: Runtime, ack: Ack) -> None:
    visit_id, _ = _asked(ctx)
    visits.on_useful(ctx, ack=ack, body=click(HEAD, "visit_useful_very", f"{visit_id}:very"))
    assert ack.once == {}
    assert any("hasn't happened yet" in m.payload["text"] for m in owed(ctx))
