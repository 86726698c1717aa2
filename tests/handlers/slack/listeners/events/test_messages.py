"""The `message` event listener, called as Bolt calls it."""

from __future__ import annotations

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from handlers.slack.listeners.events import messages
from storage.models import SupportRequest
from tests.handlers.slack.conftest import SUPPORT_CHANNEL
from tests.handlers.slack.listeners.conftest import HEAD


def _requests(ctx: Runtime) -> list[tuple[str | None, str]]:
    with Session(ctx.engine) as session:
        return [(r.message_ts, r.status) for r in session.exec(select(SupportRequest))]


def test_on_message_captures_a_post_once(ctx: Runtime) -> None:
    event = {
        "type": "message",
        "channel": SUPPORT_CHANNEL,
        "channel_type": "channel",
        "user": HEAD,
        "ts": "1700000000.000100",
        "text": "Could someone help with SEND reviews this term?",
    }
    messages.on_message(ctx, event=event)
    messages.on_message(ctx, event=event)  # a replay changes nothing more
    assert [ts for ts, _ in _requests(ctx)] == ["1700000000.000100"]
    assert ctx.deliverer.kicks >= 1  # type: ignore[attr-defined]


def test_on_message_ignores_other_channels_and_bots(ctx: Runtime) -> None:
    messages.on_message(
        ctx,
        event={"type": "message", "channel": "C0OTHER", "user": HEAD, "ts": "1.2", "text": "help"},
    )
    messages.on_message(
        ctx,
        event={
            "type": "message",
            "channel": SUPPORT_CHANNEL,
            "bot_id": "B1",
            "user": HEAD,
            "ts": "1.3",
            "text": "x",
        },
    )
    assert _requests(ctx) == []
