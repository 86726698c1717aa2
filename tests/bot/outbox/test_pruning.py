"""Delivered messages leave the outbox after OUTBOX_RETENTION_DAYS, unless still needed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from bot.outbox.owing import prune_sent_messages
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage


def _message(
    clock: FixedClock, name: str, *, sent_days_ago: int | None, **fields: object
) -> OutboxMessage:
    sent_at = clock.now() - timedelta(days=sent_days_ago) if sent_days_ago is not None else None
    return OutboxMessage(
        created_at=clock.now() - timedelta(days=400),
        next_attempt_at=clock.now(),
        method="chat.postMessage",
        channel="C1",
        payload={"text": name},
        status="sent" if sent_at else "pending",
        sent_at=sent_at,
        **fields,
    )


def test_old_sent_messages_are_pruned_and_anchors_kept(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    with transaction(sessions) as session:
        session.add_all(
            [
                _message(clock, "old notice", sent_days_ago=31),
                _message(clock, "recent notice", sent_days_ago=29),
                _message(clock, "old offer DM", sent_days_ago=90, ref="offer:1"),
                _message(clock, "old deduped", sent_days_ago=90, dedupe_key="k1"),
                _message(clock, "still owed", sent_days_ago=None),
            ]
        )
    pruned = prune_sent_messages(sessions, now=clock.now(), days=30)
    with transaction(sessions) as session:
        left = sorted(m.payload["text"] for m in session.exec(select(OutboxMessage)))
    assert pruned == 1
    assert left == ["old deduped", "old offer DM", "recent notice", "still owed"]


def test_the_retention_is_a_setting_with_a_default() -> None:
    assert load_settings({}, env_file=None).outbox_retention_days == 30
    assert load_settings({"OUTBOX_RETENTION_DAYS": "7"}, env_file=None).outbox_retention_days == 7
