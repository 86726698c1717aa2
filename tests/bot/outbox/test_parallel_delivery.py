"""The outbox with several workers, pacing and any transport: each message once, in order,
a 429 holding every worker, few transactions. SQLite and PostgreSQL; no timing asserted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine, event, update
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.outbox.delivery import Deliverer as OutboxDeliverer
from bot.outbox.owing import owe_post, owe_update
from bot.outbox.pacing import Limit, Pacer
from bot.outbox.transport import Claim, Failed, Outcome, RateLimited, Retry, Sent
from handlers.slack.sender import Deliverer, SlackRates
from handlers.slack.stand_in.fake_slack import FakeSlack, dm_channel_id
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage
from tests.bot.outbox.test_pacing import FakeTime


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as fake:
        yield fake


def slack_deliverer(
    sessions: SessionFactory, fake: FakeSlack, clock: FixedClock, **kwargs: object
) -> Deliverer:
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    return Deliverer(sessions, client, clock, jitter=lambda: 1.0, **kwargs)  # type: ignore[arg-type]  # keyword options


def rows(sessions: SessionFactory) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def owe_fanout(sessions: SessionFactory, clock: FixedClock, people: int) -> None:
    """A DM to each person, an edit of each, and a thread reply to each."""
    with transaction(sessions) as session:
        for n in range(people):
            user = f"U{n:04d}"
            owe_post(session, now=clock.now(), channel=user, text=f"offer {n}", ref=f"dm:{n}")
            owe_update(session, now=clock.now(), update_of=f"dm:{n}", text=f"taken {n}")
            owe_post(session, now=clock.now(), channel=user, text=f"more {n}", thread_of=f"dm:{n}")


def test_many_workers_send_each_message_once_and_in_order(sessions, fake, clock) -> None:
    owe_fanout(sessions, clock, people=30)
    report = slack_deliverer(sessions, fake, clock, workers=4).drain()
    assert (report.sent, report.retried, report.failed) == (90, 0, 0)
    assert {r.status for r in rows(sessions)} == {"sent"}
    posts = [c for c in fake.calls_to("chat.postMessage") if c.ok]
    assert len(posts) == 60 and len(fake.calls_to("chat.update")) == 30
    for n in range(30):
        channel = dm_channel_id(f"U{n:04d}")
        dm, reply = fake.messages(channel)
        assert dm["text"] == f"taken {n}", "the edit landed on its DM"
        assert reply["thread_ts"] == dm["ts"] and reply["text"] == f"more {n}"


def test_one_conversations_messages_go_in_the_order_owed(sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        for n in range(12):
            owe_post(session, now=clock.now(), channel="C0SUPPORT", text=f"notice {n}")
            owe_post(session, now=clock.now(), channel=f"U{n:04d}", text="hello")
    slack_deliverer(sessions, fake, clock, workers=4).drain()
    texts = [m["text"] for m in fake.messages("C0SUPPORT")]
    assert texts == [f"notice {n}" for n in range(12)]


def test_two_processes_with_several_workers_never_send_twice(sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        for n in range(60):
            owe_post(session, now=clock.now(), channel=f"U{n:04d}", text=f"m {n}", ref=f"m:{n}")
    copies = [slack_deliverer(sessions, fake, clock, workers=3) for _ in range(2)]
    barrier = threading.Barrier(len(copies))

    def run(d: Deliverer) -> None:
        barrier.wait()
        d.drain()

    threads = [threading.Thread(target=run, args=(d,)) for d in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    ids = [
        c.args["metadata"]["event_payload"]["outbox_id"] for c in fake.calls_to("chat.postMessage")
    ]
    assert sorted(ids) == [r.id for r in rows(sessions)]
    assert {r.status for r in rows(sessions)} == {"sent"}


def test_a_429_pauses_the_method_for_every_worker(sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        for n in range(5):
            owe_post(session, now=clock.now(), channel=f"U{n:04d}", text=f"m {n}")
    fake.fail_next("chat.postMessage", status=429, retry_after=10)
    fake_time = FakeTime()
    pacer = Pacer(monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    d = slack_deliverer(
        sessions, fake, clock, pacer=pacer, rates=SlackRates(messages_per_second=1000)
    )
    report = d.drain()
    assert (report.sent, report.rate_limited) == (4, 1)
    assert fake_time.slept and fake_time.slept[0] == pytest.approx(10, abs=0.01)
    refused = [c for c in fake.calls_to("chat.postMessage") if c.status == 429]
    assert len(refused) == 1, "nobody else hit the wall while it was paused"
    first = rows(sessions)[0]
    assert first.status == "pending"
    assert first.next_attempt_at == clock.now() + timedelta(seconds=10)


def test_a_long_pause_puts_the_row_back_without_counting_an_attempt(sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="U0001", text="later")
    fake_time = FakeTime()
    pacer = Pacer(monotonic=fake_time.monotonic, sleep=fake_time.sleep)
    pacer.pause(["slack:chat.postMessage"], 300)
    report = slack_deliverer(sessions, fake, clock, pacer=pacer).drain()
    assert report.retried == 1 and fake.calls_to("chat.postMessage") == []
    [row] = rows(sessions)
    assert row.attempts == 0 and row.last_error == "paced"
    assert row.next_attempt_at == clock.now() + timedelta(seconds=300)


def test_outcomes_are_recorded_many_to_a_transaction(engine: Engine, sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        for n in range(40):
            owe_post(session, now=clock.now(), channel=f"U{n:04d}", text=f"m {n}")
    commits: list[int] = []
    event.listen(engine, "commit", lambda connection: commits.append(1))
    slack_deliverer(sessions, fake, clock, workers=1).drain()
    assert {r.status for r in rows(sessions)} == {"sent"}
    # Two a message before: a claim and a record each. Now one claim per batch of 16, and a
    # record per quarter second or 50 outcomes.
    assert len(commits) <= 40 // 4, f"{len(commits)} transactions for 40 messages"


# --- the neutral deliverer with a transport of a test's own ---------------------------------
class RecordingTransport:
    """A platform that answers as told, by the row's text."""

    platform = "teams"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []
        self.paced: list[Limit] = []

    def send(self, claim: Claim) -> Outcome:
        text = claim.message.payload["text"]
        claim.pace(Limit("teams:conversation", 100))
        if text == "refuse":
            return Failed("conversation_gone")
        if text == "busy":
            raise RateLimited(7, ["teams:conversation"])
        if text == "boom":
            raise ConnectionError("reset")
        ts = claim.original.ts if claim.original else None
        self.sent.append((text, ts))
        return Sent(claim.message.channel, f"id-{claim.message.id}")

    def classify(self, message: OutboxMessage, exc: Exception) -> Outcome | None:
        return Retry("unreachable") if isinstance(exc, ConnectionError) else None


def test_any_platform_plugs_in_through_the_transport_protocol(sessions, clock) -> None:
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="19:chat", text="hello", ref="hello")
        owe_post(session, now=clock.now(), channel="19:chat", text="reply", thread_of="hello")
        for text in ("refuse", "busy"):
            owe_post(session, now=clock.now(), channel="19:chat", text=text, ref=text)
        # Another chat: "busy" holds up the rest of its own (order per conversation).
        owe_post(session, now=clock.now(), channel="19:other", text="boom", ref="boom")
        owe_post(session, now=clock.now(), channel="C0SLACK", text="for slack")
        session.flush()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.channel.startswith("19:"))  # type: ignore[attr-defined]
            .values(platform="teams")
        )
    transport = RecordingTransport()
    reported: list[tuple[int, str]] = []
    deliverer = OutboxDeliverer(
        sessions,
        clock,
        [transport],
        workers=2,
        on_permanent_failure=lambda row_id, error: reported.append((row_id, error)),
        jitter=lambda: 1.0,
    )
    report = deliverer.drain()
    assert transport.sent == [("hello", None), ("reply", "id-1")]
    assert (report.sent, report.failed, report.retried, report.rate_limited) == (2, 1, 2, 1)
    by_text = {r.payload["text"]: r for r in rows(sessions)}
    assert by_text["refuse"].status == "failed" and reported == [(3, "conversation_gone")]
    assert by_text["busy"].next_attempt_at == clock.now() + timedelta(seconds=7)
    assert by_text["boom"].status == "pending" and by_text["boom"].last_error == "unreachable"
    assert by_text["for slack"].status == "pending", "another platform's row is left alone"


def test_stopping_gives_back_the_rows_claimed_but_not_started(sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        for n in range(10):
            owe_post(session, now=clock.now(), channel="C0SUPPORT", text=f"m {n}")
    d = slack_deliverer(sessions, fake, clock, workers=1)
    report = d.drain(stopping=lambda: len(fake.calls_to("chat.postMessage")) >= 3)
    sent = [r.id for r in rows(sessions) if r.status == "sent"]
    assert report.sent == 3 and len(sent) == 3
    left = [r for r in rows(sessions) if r.status != "sent"]
    assert {(r.status, r.attempts, r.claim_token) for r in left} == {("pending", 0, None)}
    assert d.drain().sent == 7, "and they go next time, not in doubt"
    assert fake.calls_to("conversations.history") == []
