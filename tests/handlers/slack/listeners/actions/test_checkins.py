"""Each check-in DM button's listener, called as Bolt calls it."""

from __future__ import annotations

from unittest.mock import MagicMock

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from handlers.slack.listeners.actions import checkins, offers
from storage.models import CheckIn, CheckInAnswer, Deployment
from tests.handlers.slack.listeners.conftest import Ack, click, new_request, offers_of, owed


def _sent_checkin(ctx: Runtime, client: MagicMock) -> tuple[int, str]:
    """A deployment whose first check-in has gone out; (check-in id, the supporter)."""
    request_id = new_request(ctx)
    offer_id, supporter, _ = offers_of(ctx, request_id)[0]
    offers.on_accept(
        ctx, ack=Ack(), body=click(supporter, "offer_accept", str(offer_id)), client=client
    )
    with Session(ctx.engine) as session:
        deployment = session.exec(
            select(Deployment).where(Deployment.request_id == request_id)
        ).one()
        checkin = session.exec(
            select(CheckIn).where(CheckIn.deployment_id == deployment.id)
        ).first()
        assert checkin is not None
        checkin.status = "sent"
        session.add(checkin)
        session.commit()
        return int(checkin.id or 0), supporter


def _checkin(ctx: Runtime, checkin_id: int) -> CheckIn:
    with Session(ctx.engine) as session:
        found = session.get(CheckIn, checkin_id)
        assert found is not None
        return found


def _answers(ctx: Runtime, checkin_id: int) -> list[str]:
    with Session(ctx.engine) as session:
        rows = session.exec(select(CheckInAnswer).where(CheckInAnswer.checkin_id == checkin_id))
        return [row.outcome for row in rows]


def _paused(ctx: Runtime, checkin_id: int) -> bool:
    with Session(ctx.engine) as session:
        checkin = session.get(CheckIn, checkin_id)
        assert checkin is not None
        deployment = session.get(Deployment, checkin.deployment_id)
        assert deployment is not None
        return bool(deployment.checkins_paused)


def test_on_track_acks_after_the_answer_is_committed(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    ack.check = lambda: _checkin(ctx, checkin_id).status
    checkins.on_track(ctx, ack=ack, body=click(supporter, "checkin_on_track", str(checkin_id)))
    assert ack.once == {}
    assert ack.seen == ["answered"]


def test_on_snooze_acks_after_the_snooze_is_committed(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    ack.check = lambda: _answers(ctx, checkin_id)
    checkins.on_snooze(ctx, ack=ack, body=click(supporter, "checkin_snooze", str(checkin_id)))
    assert ack.once == {}
    assert ack.seen == [["snoozed"]]  # saved before Slack heard back


def test_on_needs_attention_opens_the_note_form(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    body = click(supporter, "checkin_needs_attention", str(checkin_id))
    checkins.on_needs_attention(ctx, ack=ack, body=body, client=client)
    assert ack.once == {}
    assert client.views_open.call_args.kwargs["view"]["callback_id"] == "checkin_needs_attention"


def test_on_completed_opens_the_impact_form_only_for_those_involved(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    checkin_id, _ = _sent_checkin(ctx, client)
    checkins.on_completed(
        ctx, ack=ack, body=click("UHEAD2", "checkin_completed", str(checkin_id)), client=client
    )
    assert ack.once == {}
    client.views_open.assert_not_called()


def test_on_cadence_pause_pauses_before_the_ack(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    ack.check = lambda: _paused(ctx, checkin_id)
    checkins.on_cadence(
        ctx, ack=ack, body=click(supporter, "checkin_cadence", f"{checkin_id}:pause")
    )
    assert ack.once == {}
    assert ack.seen == [True]


def test_on_cadence_refuses_an_unknown_choice(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    before = len(owed(ctx))
    checkins.on_cadence(
        ctx, ack=ack, body=click(supporter, "checkin_cadence", f"{checkin_id}:often")
    )
    assert ack.once == {}
    assert not _paused(ctx, checkin_id)
    assert len(owed(ctx)) == before + 1  # "I don't know that choice."


def test_on_less_often_owes_the_reply_before_the_ack(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    before = len(owed(ctx))
    ack.check = lambda: len(owed(ctx))
    checkins.on_less_often(
        ctx, ack=ack, body=click(supporter, "checkin_less_often", str(checkin_id))
    )
    assert ack.once == {}
    assert ack.seen[0] > before


def test_on_stop_then_on_resume(ctx: Runtime, client: MagicMock) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    stop, resume = (
        Ack(check=lambda: _paused(ctx, checkin_id)),
        Ack(check=lambda: _paused(ctx, checkin_id)),
    )
    checkins.on_stop(ctx, ack=stop, body=click(supporter, "checkin_stop", str(checkin_id)))
    checkins.on_resume(ctx, ack=resume, body=click(supporter, "checkin_resume", str(checkin_id)))
    assert (stop.once, resume.once) == ({}, {})
    assert (stop.seen, resume.seen) == ([True], [False])
