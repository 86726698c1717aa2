"""Saved Slack events in the database: claimed once, replayed after their lease, forgotten."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.inbound.service import (
    EVENT_LEASE,
    EVENT_MEMORY,
    MAX_ATTEMPTS,
    Claim,
    ClaimLost,
    claim_saved_event,
    forget_old_events,
    give_up_on_exhausted,
    keep_claim,
    mark_handled,
    receive_event,
    release_after_failure,
)
from storage.db import SessionFactory, transaction
from storage.models import InboundEvent

BODY = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "message", "text": "hi"}}


def _row(sessions: SessionFactory, event_id: str = "Ev1") -> InboundEvent:
    with sessions() as session:
        return session.exec(select(InboundEvent).where(InboundEvent.event_id == event_id)).one()


def test_a_second_delivery_is_not_handled_while_the_first_is_in_hand(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    first = receive_event(sessions, event_id="Ev1", body=BODY, now=clock.now())
    assert first is not None
    assert receive_event(sessions, event_id="Ev1", body=BODY, now=clock.now()) is None
    assert claim_saved_event(sessions, now=clock.now()) is None, "not while its lease runs"
    later = clock.advance(EVENT_LEASE)
    assert receive_event(sessions, event_id="Ev1", body=BODY, now=later) == Claim(first.row_id, 2)
    assert _row(sessions).attempts == 2


def test_a_handled_event_keeps_its_id_but_not_its_text(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    claim = receive_event(sessions, event_id="Ev1", body=BODY, now=clock.now())
    assert claim is not None
    mark_handled(sessions, claim, now=clock.now())
    row = _row(sessions)
    assert row.outcome == "handled" and row.body is None
    later = clock.advance(EVENT_LEASE * 10)
    assert receive_event(sessions, event_id="Ev1", body=BODY, now=later) is None
    assert claim_saved_event(sessions, now=later) is None


def test_two_processes_never_replay_the_same_event(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    for n in range(6):
        receive_event(sessions, event_id=f"Ev{n}", body=BODY, now=clock.now())
    later = clock.advance(EVENT_LEASE)
    won: list[str] = []
    lock = threading.Lock()

    def replayer() -> None:
        while (saved := claim_saved_event(sessions, now=later)) is not None:
            with lock:
                won.append(saved.event_id)

    threads = [threading.Thread(target=replayer) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(won) == [f"Ev{n}" for n in range(6)]


def test_an_event_cut_short_on_its_last_attempt_is_given_up(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    receive_event(sessions, event_id="Ev1", body=BODY, now=clock.now())
    for _ in range(MAX_ATTEMPTS - 1):
        assert claim_saved_event(sessions, now=clock.advance(EVENT_LEASE)) is not None
    assert give_up_on_exhausted(sessions, now=clock.now()) == 0, "its last lease still runs"
    later = clock.advance(EVENT_LEASE)
    assert claim_saved_event(sessions, now=later) is None
    assert give_up_on_exhausted(sessions, now=later) == 1
    row = _row(sessions)
    assert row.outcome == "gave_up" and row.body is None


def test_events_are_forgotten_after_a_week(sessions: SessionFactory, clock: FixedClock) -> None:
    receive_event(sessions, event_id="Ev-old", body=BODY, now=clock.now())
    receive_event(sessions, event_id="Ev-new", body=BODY, now=clock.advance(days=1))
    assert forget_old_events(sessions, now=clock.now() + EVENT_MEMORY - timedelta(hours=12)) == 1
    with sessions() as session:
        assert [r.event_id for r in session.exec(select(InboundEvent))] == ["Ev-new"]


def test_a_claim_kept_renewed_is_not_taken_over(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    claim = receive_event(sessions, event_id="Ev1", body=BODY, now=clock.now())
    assert claim is not None
    with transaction(sessions) as session:
        keep_claim(session, claim, now=clock.advance(EVENT_LEASE / 2))
    assert claim_saved_event(sessions, now=clock.advance(EVENT_LEASE * 0.9)) is None
    assert claim_saved_event(sessions, now=clock.advance(EVENT_LEASE)) is not None


def test_a_claim_taken_over_is_lost_and_changes_nothing(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    first = receive_event(sessions, event_id="Ev1", body=BODY, now=clock.now())
    assert first is not None
    taken = claim_saved_event(sessions, now=clock.advance(EVENT_LEASE))
    assert taken is not None and taken.claim == Claim(first.row_id, 2)
    with pytest.raises(ClaimLost), transaction(sessions) as session:
        keep_claim(session, first, now=clock.now())
    mark_handled(sessions, first, now=clock.now())
    assert release_after_failure(sessions, first, now=clock.now()) is False
    row = _row(sessions)
    assert row.processed_at is None and row.body == BODY, "still the new owner's to handle"
    mark_handled(sessions, taken.claim, now=clock.now())
    assert _row(sessions).outcome == "handled"
    with pytest.raises(ClaimLost), transaction(sessions) as session:
        keep_claim(session, taken.claim, now=clock.now())
