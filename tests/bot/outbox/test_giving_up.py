"""The outbox gives up on a message Slack fails every time, once it has been failing for
`OUTBOX_GIVE_UP_HOURS` and tried a few times: failed and reported like any refusal, its
conversation goes on. A downtime, or Slack asking us to wait, never gives a message up."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.metrics import DatabaseCollector
from bot.outbox.delivery import Deliverer
from bot.outbox.giving_up import MIN_ATTEMPTS, GiveUp, failing_since
from bot.outbox.transport import Failed, Retry, Sent
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import SessionFactory
from storage.models import AuditEntry, OutboxMessage
from tests.bot.outbox.test_delivery import deliverer, owe, posted_ids, rows

LIMIT = timedelta(hours=24)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
GAVE_UP = re.compile(
    r"gave up after (\d+) attempts over 24 hours: internal_error "
    r"\(in doubt: it may have been delivered\)"
)


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as fake:
        yield fake


def retry_until(
    sessions: SessionFactory,
    clock: FixedClock,
    d: Deliverer,
    before_each: Callable[[], None],
    done: Callable[[OutboxMessage], bool],
) -> OutboxMessage:
    """Drain at each of the first row's retry times, calling `before_each` first, until
    `done(row)`; the row then (any platform's deliverer)."""
    for _ in range(500):
        before_each()
        d.drain()
        row = rows(sessions)[0]
        if done(row):
            return row
        assert row.status == "pending", row.last_error
        clock.set(row.next_attempt_at)
    raise AssertionError("never done")


def test_a_message_failing_for_ever_is_given_up_and_the_next_goes(sessions, fake, clock) -> None:
    first, _ = owe(sessions, clock, n=2)
    d = deliverer(sessions, fake, clock)
    start = clock.now()

    def fail_its_post() -> None:
        assert fake.messages("C0SUPPORT") == [], "the next message waits its turn meanwhile"
        fake.fail_next("chat.postMessage", status=500)  # every try of the first: a 500

    row = retry_until(sessions, clock, d, fail_its_post, lambda row: row.status == "failed")

    assert LIMIT <= clock.now() - start < LIMIT + timedelta(minutes=31)
    match = GAVE_UP.fullmatch(row.last_error or "")
    assert match and int(match[1]) == row.attempts >= MIN_ATTEMPTS, row.last_error
    # In the same drain: the conversation goes on, and the coordinators are told.
    assert [m["text"] for m in fake.messages("C0SUPPORT")] == ["message 1"]
    assert posted_ids(fake)[0] != first
    [notice] = fake.messages("G0COORDS")
    assert "<#C0SUPPORT>" in notice["text"] and "Slack kept failing" in notice["text"]
    assert row.last_error in notice["text"]
    with sessions() as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "message.failed"))
    assert entry.subject_id == str(first) and entry.detail["error"] == row.last_error
    failed = {m.name: m for m in DatabaseCollector(sessions().get_bind(), clock).collect()}
    assert failed["school_support_outbox_failed_messages"].samples[0].value == 1


def test_a_message_owed_before_a_long_downtime_gets_the_whole_limit(sessions, fake, clock) -> None:
    [message_id] = owe(sessions, clock)
    clock.advance(hours=48)  # the bot was down for two days
    d = deliverer(sessions, fake, clock)
    fails = MIN_ATTEMPTS + 5  # more tries than giving up needs, all within the limit

    def fail_some() -> None:
        if len(fake.calls_to("chat.postMessage")) < fails:
            fake.fail_next("chat.postMessage", status=500)

    row = retry_until(sessions, clock, d, fail_some, lambda row: row.status != "pending")
    assert row.status == "sent" and row.attempts == fails + 1
    assert posted_ids(fake) == [message_id]


def test_429s_for_longer_than_the_limit_do_not_give_it_up(sessions, fake, clock) -> None:
    [message_id] = owe(sessions, clock)
    d = deliverer(sessions, fake, clock)
    start = clock.now()
    fake.fail_next("chat.postMessage", status=500)  # one failure first: its clock starts

    def wait_then_fail_again() -> None:
        waited = clock.now() - start
        if waited <= LIMIT + timedelta(hours=1):
            fake.fail_next("chat.postMessage", status=429, retry_after=1800)
        elif waited <= LIMIT + timedelta(hours=2):  # and fails a little more
            fake.fail_next("chat.postMessage", status=500)

    row = retry_until(sessions, clock, d, wait_then_fail_again, lambda r: r.status != "pending")
    assert row.status == "sent", row.last_error
    assert clock.now() - start > LIMIT + timedelta(hours=2)
    assert row.attempts > MIN_ATTEMPTS, "tried often enough, failing long enough, to give up"
    assert posted_ids(fake) == [message_id]


def overdue(**columns: object) -> OutboxMessage:
    """A row failing for exactly the limit, tried `MIN_ATTEMPTS` times (unless told)."""
    values = {"attempts": MIN_ATTEMPTS, "failing_since": NOW - LIMIT, **columns}
    return OutboxMessage(method="chat.postMessage", channel="C0SUPPORT", **values)


def test_only_a_failed_attempt_of_an_overdue_message_gives_it_up() -> None:
    failure = Retry("service_unavailable")
    given_up = Failed(f"gave up after {MIN_ATTEMPTS} attempts over 24 hours: service_unavailable")
    assert GiveUp().judge(overdue(), failure, NOW) == given_up
    for row in (
        overdue(attempts=MIN_ATTEMPTS - 1),
        overdue(failing_since=NOW - LIMIT + timedelta(seconds=1)),
        overdue(failing_since=None),
    ):
        assert GiveUp().judge(row, failure, NOW) is failure
    waiting = Retry("ratelimited", after=timedelta(seconds=30), count=False)
    assert GiveUp().judge(overdue(), waiting, NOW) is waiting
    assert GiveUp().judge(overdue(), Sent("C0SUPPORT", "1.2"), NOW) == Sent("C0SUPPORT", "1.2")


def test_a_message_given_up_in_doubt_says_it_may_have_been_delivered() -> None:
    doubt = "(in doubt: it may have been delivered)"
    # Slack may have taken its last post; or its lookup in Slack's history failed.
    for row, failure in (
        (overdue(), Retry("internal_error", in_doubt=True)),
        (overdue(in_doubt=True), Retry("internal_error")),
    ):
        outcome = GiveUp().judge(row, failure, NOW)
        assert isinstance(outcome, Failed) and outcome.error.endswith(f"internal_error {doubt}")
    outcome = GiveUp(after=timedelta(hours=1)).judge(
        overdue(failing_since=NOW - timedelta(minutes=90)), Retry("HTTP 503"), NOW
    )
    assert outcome == Failed(f"gave up after {MIN_ATTEMPTS} attempts over 1 hour: HTTP 503")


def test_a_wait_moves_the_clock_on_and_the_first_failure_starts_it() -> None:
    started = NOW - timedelta(hours=3)
    wait = timedelta(seconds=30)
    assert failing_since(overdue(failing_since=None), Retry("internal_error"), wait, NOW) == NOW
    row = overdue(failing_since=started)
    assert failing_since(row, Retry("internal_error"), wait, NOW) == started
    asked_to_wait = Retry("ratelimited", after=wait, count=False)
    assert failing_since(row, asked_to_wait, wait, NOW) == started + wait
    assert failing_since(overdue(failing_since=None), asked_to_wait, wait, NOW) is None
