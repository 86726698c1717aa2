"""The outbox gives up on a message Slack fails every time, once it has been failing for
`OUTBOX_GIVE_UP_HOURS` and tried a few times: failed and reported like any refusal, its
conversation goes on. A downtime, or Slack asking us to wait, never gives a message up. A send
that raises unexpectedly (a bug) is a failed attempt like a 5xx: backed off, in doubt if Slack
may have taken the message, and in time given up."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.metrics import DatabaseCollector
from bot.outbox.delivery import Deliverer
from bot.outbox.giving_up import MIN_ATTEMPTS, GiveUp, failing_since
from bot.outbox.transport import Failed, Retry, Sent
from handlers.slack import sender
from handlers.slack.sender import IN_DOUBT_FOUND, LEASE
from handlers.slack.sender import Deliverer as SlackDeliverer
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import SessionFactory, transaction
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


PERSON = "Sam Secret"  # must never be logged
# A view the renderer chokes on (say owed by a newer version of the bot), quoting a person.
UNKNOWN_VIEW = {"name": "request.card.v9", "data": {"text": f"{PERSON} needs cover"}}


def outbox_log(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("bot.outbox")]


def test_a_send_that_raises_every_time_backs_off_then_is_given_up_and_the_next_goes(
    sessions, fake, clock, caplog
) -> None:
    first, _ = owe(sessions, clock, n=2)
    with transaction(sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == first)
            .values(payload={"text": PERSON, "view": UNKNOWN_VIEW})
        )
    d = deliverer(sessions, fake, clock)
    start = clock.now()
    waits: list[timedelta] = []

    def not_yet() -> None:
        assert fake.messages("C0SUPPORT") == [], "the next message waits its turn meanwhile"

    def given_up(row: OutboxMessage) -> bool:
        if row.status == "failed":
            return True
        # Backed off from its attempt, not left "sending" till its lease lapses.
        assert row.status == "pending" and row.failing_since == start, row.status
        assert row.last_error == "unexpected UnknownView" and not row.in_doubt
        waits.append(row.next_attempt_at - clock.now())
        return False

    with caplog.at_level(logging.INFO):
        row = retry_until(sessions, clock, d, not_yet, given_up)

    assert waits[:3] == [timedelta(seconds=s) for s in (1, 2, 4)], waits
    assert LIMIT <= clock.now() - start < LIMIT + timedelta(minutes=31)
    assert row.attempts >= MIN_ATTEMPTS
    assert row.last_error == (
        f"gave up after {row.attempts} attempts over 24 hours: unexpected UnknownView"
    )
    assert fake.calls_to("conversations.history") == [], "never in doubt: nothing reached Slack"
    # The conversation goes on, and the coordinators are told once.
    assert [m["text"] for m in fake.messages("C0SUPPORT")] == ["message 1"]
    [notice] = fake.messages("G0COORDS")
    assert "<#C0SUPPORT>" in notice["text"] and "the bot kept failing" in notice["text"]
    assert row.last_error in notice["text"]
    with sessions() as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "message.failed"))
    assert entry.subject_id == str(first) and entry.detail["error"] == row.last_error
    failed = {m.name: m for m in DatabaseCollector(sessions().get_bind(), clock).collect()}
    assert failed["school_support_outbox_failed_messages"].samples[0].value == 1
    # Logged by id and type, never the payload.
    logged = [r.getMessage() for r in outbox_log(caplog) if r.levelno == logging.ERROR]
    assert sum(f"outbox {first}: sending raised UnknownView" in m for m in logged) == row.attempts
    assert not any(PERSON in r.getMessage() for r in outbox_log(caplog))


def test_a_send_that_raises_once_then_works_is_delivered_once(
    sessions, fake, clock, caplog, monkeypatch
) -> None:
    ids = owe(sessions, clock, n=2)
    render = sender.slack_payload
    raised: list[int] = []

    def choke_once(payload: dict[str, Any]) -> dict[str, Any]:
        if not raised:
            raised.append(1)
            raise KeyError(PERSON)  # a bug whose message quotes a person
        return render(payload)

    monkeypatch.setattr(sender, "slack_payload", choke_once)
    d = deliverer(sessions, fake, clock)
    with caplog.at_level(logging.INFO):
        report = d.drain()
    assert (report.sent, report.retried) == (0, 1), "the next waits for the first"
    first = rows(sessions)[0]
    assert (first.status, first.attempts, first.in_doubt) == ("pending", 1, False)
    assert first.next_attempt_at == clock.now() + timedelta(seconds=1), "backed off, not leased"
    assert first.failing_since == clock.now() and first.last_error == "unexpected KeyError"
    assert not any(PERSON in r.getMessage() for r in outbox_log(caplog))

    clock.set(first.next_attempt_at)
    assert d.drain().sent == 2
    assert posted_ids(fake) == ids
    assert [m["text"] for m in fake.messages("C0SUPPORT")] == ["message 0", "message 1"]
    assert fake.calls_to("conversations.history") == [], "nothing reached Slack: not in doubt"
    assert [r.status for r in rows(sessions)] == ["sent", "sent"]


class DatabaseFailsAfterPosting(WebClient):
    """Slack takes the post, then the database fails under the send (a lock, a failover)."""

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(token="xoxb-test", base_url=fake.url, retry_handlers=[])

    def chat_postMessage(self, **kwargs: Any) -> Any:  # slack_sdk's name
        super().chat_postMessage(**kwargs)
        raise OperationalError("UPDATE outbox_message", {}, Exception("database is locked"))


def test_a_database_failure_mid_send_waits_out_the_lease_counting_no_failure(
    sessions, fake, clock
) -> None:
    [message_id] = owe(sessions, clock, channel="UHEAD1")
    d = SlackDeliverer(sessions, DatabaseFailsAfterPosting(fake), clock, jitter=lambda: 1.0)
    d.drain()
    [row] = rows(sessions)
    # Not a bug in the bot, nor the platform failing: left claimed, as after a crash.
    assert (row.status, row.failing_since, row.last_error) == ("sending", None, None)
    clock.advance(LEASE + timedelta(seconds=1))
    assert (
        SlackDeliverer(
            sessions, WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[]), clock
        )
        .drain()
        .sent
        == 1
    )
    assert posted_ids(fake) == [message_id], "found in Slack's history, not posted again"


class RaisesAfterPosting(WebClient):
    """Slack takes each post, then the client raises on its answer (a bug) `times` times."""

    def __init__(self, fake: FakeSlack, times: int) -> None:
        super().__init__(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        self.times = times

    def chat_postMessage(self, **kwargs: Any) -> Any:  # slack_sdk's name
        response = super().chat_postMessage(**kwargs)
        if self.times > 0:
            self.times -= 1
            raise KeyError(PERSON)
        return response


def test_a_send_that_raises_after_slack_took_it_is_in_doubt_and_not_posted_again(
    sessions, fake, clock
) -> None:
    ids = owe(sessions, clock, n=2, channel="UHEAD1")
    d = SlackDeliverer(sessions, RaisesAfterPosting(fake, times=1), clock, jitter=lambda: 1.0)
    assert d.drain().retried == 1
    first = rows(sessions)[0]
    assert (first.status, first.in_doubt) == ("pending", True), "Slack may have it: in doubt"
    assert first.next_attempt_at == clock.now() + timedelta(seconds=1) < clock.now() + LEASE
    assert len(fake.messages("UHEAD1")) == 1, "the next message waits for the first"

    clock.set(first.next_attempt_at)
    assert d.drain().sent == 2
    assert posted_ids(fake) == ids, "found in Slack's history, not posted again"
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert fake.calls_to("conversations.history"), "history was checked first"
    first = rows(sessions)[0]
    assert first.last_error == IN_DOUBT_FOUND
    assert first.sent_ts == fake.messages("UHEAD1")[0]["ts"]


def test_a_send_that_always_raises_after_slack_took_it_is_given_up_in_doubt(
    sessions, fake, clock
) -> None:
    [message_id] = owe(sessions, clock, channel="UHEAD1")
    d = SlackDeliverer(sessions, RaisesAfterPosting(fake, times=1), clock, jitter=lambda: 1.0)
    with transaction(sessions) as session:  # failing for a day already, tried often enough
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(attempts=MIN_ATTEMPTS, failing_since=clock.now() - LIMIT)
        )
    assert d.drain().failed == 1
    [row] = rows(sessions)
    assert row.status == "failed" and row.last_error == (
        f"gave up after {MIN_ATTEMPTS + 1} attempts over 24 hours: unexpected KeyError "
        "(in doubt: it may have been delivered)"
    )
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
