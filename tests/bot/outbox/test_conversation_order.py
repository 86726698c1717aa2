"""One conversation's messages arrive in the order owed, across retries and running copies;
a message that fails for good does not hold up the ones after it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.outbox.owing import owe_post, owe_update
from handlers.slack.sender import Deliverer
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import SessionFactory, make_engine, make_session_factory, transaction
from storage.models import OutboxMessage
from tests.support.sql_trace import sqlite_plan, statements_sent

COORDINATORS = "G0COORDS"


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as fake:
        yield fake


def deliverer(sessions: SessionFactory, fake: FakeSlack, clock: FixedClock) -> Deliverer:
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    return Deliverer(sessions, client, clock, jitter=lambda: 1.0)


def owe(sessions: SessionFactory, clock: FixedClock, *texts: str, channel: str = COORDINATORS):
    with transaction(sessions) as session:
        for text in texts:
            owe_post(session, now=clock.now(), channel=channel, text=text)


def texts(fake: FakeSlack, channel: str = COORDINATORS) -> list[str]:
    return [m["text"] for m in fake.messages(channel)]


def test_a_retried_post_is_not_overtaken_by_the_next_in_its_conversation(
    sessions, fake, clock
) -> None:
    owe(sessions, clock, "New request #5", "Request #5 accepted")
    fake.fail_next("chat.postMessage", status=503)  # Slack hiccups once
    d = deliverer(sessions, fake, clock)
    d.drain()
    assert texts(fake) == [], "the second waits for the first"
    clock.advance(seconds=5)
    d.drain()
    assert texts(fake) == ["New request #5", "Request #5 accepted"]


def test_another_copy_does_not_overtake_a_retried_post(sessions, fake, clock) -> None:
    owe(sessions, clock, "New request #5", "Request #5 accepted")
    fake.fail_next("chat.postMessage", status=503)
    deliverer(sessions, fake, clock).drain()
    assert deliverer(sessions, fake, clock).drain().sent == 0, "a second copy waits too"
    clock.advance(seconds=5)
    deliverer(sessions, fake, clock).drain()
    assert texts(fake) == ["New request #5", "Request #5 accepted"]


def test_other_conversations_are_not_held_up(sessions, fake, clock) -> None:
    owe(sessions, clock, "New request #5")
    owe(sessions, clock, "Your offer", channel="UNLE1")
    fake.fail_next("chat.postMessage", status=503)
    deliverer(sessions, fake, clock).drain()
    assert texts(fake, "UNLE1") == ["Your offer"]


def test_a_message_that_failed_for_good_does_not_hold_up_the_next(sessions, fake, clock) -> None:
    owe(sessions, clock, "Refused", "Next")
    fake.fail_next("chat.postMessage", status=400, error="invalid_blocks")
    report = deliverer(sessions, fake, clock).drain()
    assert (report.failed, texts(fake)) == (1, ["Next"])


def test_an_edit_is_not_held_up_by_a_retried_post(sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="UNLE1", text="Offer", ref="offer:1")
    d = deliverer(sessions, fake, clock)
    d.drain()
    owe(sessions, clock, "Another offer", channel="UNLE1")
    with transaction(sessions) as session:
        owe_update(session, now=clock.now(), update_of="offer:1", text="Taken by Anna")
    fake.fail_next("chat.postMessage", status=503)
    d.drain()
    assert texts(fake, "UNLE1") == ["Taken by Anna"]


def test_a_conversation_waits_for_the_whole_backoff(sessions, fake, clock) -> None:
    owe(sessions, clock, "one", "two", "three")
    fake.fail_next("chat.postMessage", status=503, times=3)
    d = deliverer(sessions, fake, clock)
    for _ in range(4):
        d.drain()
        with sessions() as session:
            first = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert first is not None
        clock.set(first.next_attempt_at)
    d.drain()
    d.drain()
    assert texts(fake) == ["one", "two", "three"]


def test_the_background_loop_sleeps_until_the_held_up_conversation_can_go(
    sessions, fake, clock
) -> None:
    owe(sessions, clock, "one", "two")
    fake.fail_next("chat.postMessage", status=503, times=3)
    d = deliverer(sessions, fake, clock)
    for _ in range(3):  # "one" backs off 1, 2, then 4 s; "two" is due but held up behind it
        d.drain()
        with sessions() as session:
            first = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).first()
        assert first is not None
        clock.set(first.next_attempt_at)
    clock.advance(seconds=-3)
    # It wakes when "one" is due, not every 50 ms to claim nothing.
    assert d._seconds_until_next_due() == pytest.approx(3.0)


def test_the_claim_finds_earlier_messages_through_an_index(tmp_path, clock) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    from bot.entry.runtime import prepare_database

    prepare_database(engine)
    sessions = make_session_factory(engine)
    owe(sessions, clock, "one", "two")
    with FakeSlack(clock=clock) as fake:
        d = deliverer(sessions, fake, clock)
        with statements_sent(engine) as statements:
            d._claim(8, "plan")
    claims = [s for s in statements if "outbox_message" in s[0] and s[0].startswith("SELECT")]
    plan = sqlite_plan(engine, claims)
    engine.dispose()
    assert not [step for step in plan if re.search(r"\bSCAN outbox_message\b", step)], plan
    # The look for an earlier message reads the conversation's rows alone, not every earlier
    # row of the outbox (as it did through the `update_of` index).
    earlier = [step for step in plan if re.search(r"\boutbox_message_\d\b", step)]
    assert earlier, plan
    assert all("ix_outbox_conversation (platform=? AND channel=?" in s for s in earlier), plan
