"""Rate limits shared through the database by two running copies: unit tests on a fake clock,
and two deliverers against the fake Web API enforcing Slack's rate. SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest
from slack_sdk import WebClient
from sqlmodel import select

from bot.core.clock import SystemClock
from bot.outbox.owing import owe_post
from bot.outbox.pacing import Limit, TooLongAWait
from bot.outbox.shared_pacing import PRUNE_EVERY, SharedPacer
from handlers.slack.sender import Deliverer, SlackRates
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage, PaceSlot
from tests.bot.outbox.test_pacing import FakeTime

POSTS = Limit("slack:chat.postMessage", per_second=2)


def two_copies(sessions: SessionFactory, fake_time: FakeTime) -> tuple[SharedPacer, SharedPacer]:
    """Two processes' pacers on one database and one (fake) wall clock."""
    return (
        SharedPacer(sessions, wall=fake_time.monotonic, sleep=fake_time.sleep),
        SharedPacer(sessions, wall=fake_time.monotonic, sleep=fake_time.sleep),
    )


def test_two_copies_take_turns_at_one_rate(sessions) -> None:
    fake_time = FakeTime()
    first, second = two_copies(sessions, fake_time)
    waits = [pacer.acquire([POSTS]) for pacer in (first, second, first, second)]
    # Per-process buckets would let each go at once; shared, the second waits its turn.
    assert waits == [0, pytest.approx(0.5), pytest.approx(0.5), pytest.approx(0.5)]
    assert fake_time.now == pytest.approx(101.5)


def test_a_pause_in_one_copy_holds_the_other(sessions) -> None:
    fake_time = FakeTime()
    first, second = two_copies(sessions, fake_time)
    unrelated = Limit("slack:chat.postEphemeral", per_second=100)
    first.pause([POSTS.key], 30)
    second.pause([POSTS.key], 5)  # a shorter pause never cuts a longer one short
    assert second.acquire([unrelated]) == 0
    assert second.acquire([POSTS]) == pytest.approx(30)
    assert first.acquire([POSTS]) == pytest.approx(0.5)  # then the steady rate again


def test_too_long_a_wait_counts_nothing(sessions) -> None:
    fake_time = FakeTime()
    first, second = two_copies(sessions, fake_time)
    first.pause([POSTS.key], 60)
    with pytest.raises(TooLongAWait):
        second.acquire([POSTS], max_wait=20)
    with sessions() as session:
        assert session.get(PaceSlot, POSTS.key).due == 0  # no slot was reserved


def test_rows_whose_times_have_passed_are_pruned(sessions) -> None:
    fake_time = FakeTime()
    pacer, _ = two_copies(sessions, fake_time)
    for n in range(5):
        pacer.acquire([POSTS, Limit(f"slack:channel:D{n}", per_second=1, burst=3)])
    fake_time.now += PRUNE_EVERY + 5
    pacer.acquire([POSTS])
    with sessions() as session:
        assert [slot.key for slot in session.exec(select(PaceSlot))] == [POSTS.key]


def test_two_deliverers_together_keep_to_slacks_rate(sessions) -> None:
    """Two copies, each set to the whole limit, post 200 DMs against a fake that allows 50
    a second: shared, together they keep to it (with per-process buckets, the same run sent
    about 59 a second, held back only by the pauses after each 429)."""
    rate, dms = 50, 200
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        for n in range(dms):
            owe_post(session, now=now, channel=f"U{n:05d}", text=f"offer {n}")
    with FakeSlack() as fake:
        fake.limit_rates({"chat.postMessage": rate}, per_channel=1.0)
        copies = [
            Deliverer(
                sessions,
                WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[]),
                SystemClock(),
                rates=SlackRates(messages_per_second=rate),
                pacer=SharedPacer(sessions),
                workers=3,
            )
            for _ in range(2)
        ]
        threads = [threading.Thread(target=copy.drain, kwargs={"limit": dms}) for copy in copies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        for _ in range(60):  # a row put back after a 429 is due again within seconds
            if not _owed(sessions):
                break
            time.sleep(0.5)
            copies[0].drain()
        calls = fake.calls_to("chat.postMessage")
    taken = [call for call in calls if call.ok]
    counts = Counter(call.args["text"] for call in taken)
    refused = sum(call.status == 429 for call in calls)
    assert not _owed(sessions)
    assert set(counts) == {f"offer {n}" for n in range(dms)}, "none lost"
    assert max(counts.values()) == 1, "none twice"
    assert refused <= 2, f"{refused} of {len(calls)} calls refused"
    # A slow machine only lowers the rate, so this bound holds under any load.
    combined = (len(taken) - 1) / (taken[-1].at - taken[0].at)
    assert combined <= rate * 1.05, f"{combined:.1f} a second together"


def _owed(sessions: SessionFactory) -> int:
    with sessions() as session:
        return len(
            session.exec(
                select(OutboxMessage.id).where(OutboxMessage.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
            ).all()
        )
