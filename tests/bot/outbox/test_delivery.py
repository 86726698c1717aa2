"""The outbox: owed in the transaction, sent once, retried as Slack asks, never twice."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.messages import Action, Card, encode_view
from bot.core.settings import load_settings
from bot.outbox.notify import undeliverable_reporter
from bot.outbox.owing import OwedFile, owe_ephemeral, owe_files, owe_post, owe_reply, owe_update
from handlers.slack.blocks.render import render_blocks
from handlers.slack.sender import IN_DOUBT_FOUND, IN_DOUBT_POSTED, LEASE, Deliverer
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import SessionFactory, transaction
from storage.models import AuditEntry, OutboxMessage, Person, PersonRole


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as fake:
        yield fake


def deliverer(sessions: SessionFactory, fake: FakeSlack, clock: FixedClock) -> Deliverer:
    settings = load_settings({"COORDINATOR_CHANNEL_ID": "G0COORDS"}, env_file=None)
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    return Deliverer(
        sessions,
        client,
        clock,
        jitter=lambda: 1.0,
        on_permanent_failure=undeliverable_reporter(sessions, settings, clock),
    )


def owe(
    sessions: SessionFactory, clock: FixedClock, n: int = 1, channel: str = "C0SUPPORT"
) -> list[int]:
    with transaction(sessions) as session:
        rows = [
            owe_post(session, now=clock.now(), channel=channel, text=f"message {i}", ref=f"m:{i}")
            for i in range(n)
        ]
        session.flush()
        return [row.id for row in rows]


def rows(sessions: SessionFactory) -> list[OutboxMessage]:
    with sessions() as session:
        return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def posted_ids(fake: FakeSlack) -> list[int]:
    """Outbox ids of the messages Slack actually holds (from their metadata)."""
    ids = []
    for channel in fake.channels():
        for message in fake.messages(channel):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if "outbox_id" in payload:
                ids.append(payload["outbox_id"])
    return sorted(ids)


def test_nothing_is_owed_when_the_transaction_rolls_back(sessions, fake, clock) -> None:
    with pytest.raises(RuntimeError), transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="C0SUPPORT", text="never")
        raise RuntimeError("the state change failed")
    assert deliverer(sessions, fake, clock).drain().sent == 0
    assert fake.calls_to("chat.postMessage") == []


def test_sent_once_with_its_ts_and_metadata(sessions, fake, clock) -> None:
    [message_id] = owe(sessions, clock)
    report = deliverer(sessions, fake, clock).drain()
    assert report.sent == 1
    [row] = rows(sessions)
    assert row.status == "sent" and row.sent_ts and row.sent_channel == "C0SUPPORT"
    [call] = fake.calls_to("chat.postMessage")
    assert call.args["metadata"]["event_payload"] == {"outbox_id": message_id}
    assert deliverer(sessions, fake, clock).drain().sent == 0
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_updates_and_thread_replies_wait_for_their_message(sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="UHEAD1", text="offer", ref="offer:1")
        owe_update(session, now=clock.now(), update_of="offer:1", text="taken")
        owe_post(session, now=clock.now(), channel="C0SUPPORT", text="parent", ref="parent")
        owe_post(session, now=clock.now(), channel="C0SUPPORT", text="reply", thread_of="parent")
        owe_ephemeral(session, now=clock.now(), channel="C0SUPPORT", user="UHEAD1", text="psst")
    fake.fail_next("chat.postMessage", status=503, times=1)  # the offer DM fails first
    d = deliverer(sessions, fake, clock)
    d.drain()
    assert fake.calls_to("chat.update") == [], "no update before the original exists"
    clock.advance(seconds=5)
    d.drain()
    [update_call] = fake.calls_to("chat.update")
    dm = fake.messages("UHEAD1")[0]
    assert update_call.args["ts"] == dm["ts"] and update_call.args["channel"] == "DHEAD1"
    assert fake.messages("UHEAD1")[0]["text"] == "taken"
    parent, reply = fake.messages("C0SUPPORT")
    assert reply["thread_ts"] == parent["ts"]
    assert fake.ephemeral_messages("C0SUPPORT")[0]["text"] == "psst"
    assert {r.status for r in rows(sessions)} == {"sent"}


def test_rate_limit_honours_retry_after(sessions, fake, clock) -> None:
    owe(sessions, clock)
    fake.fail_next("chat.postMessage", status=429, retry_after=30)
    d = deliverer(sessions, fake, clock)
    assert d.drain().retried == 1
    [row] = rows(sessions)
    assert row.status == "pending" and row.next_attempt_at == clock.now() + timedelta(seconds=30)
    assert not row.in_doubt, "a 429 is a refusal: nothing to look for"
    clock.advance(seconds=29)
    assert d.drain().sent == 0
    clock.advance(seconds=1)
    assert d.drain().sent == 1
    assert len([c for c in fake.calls_to("chat.postMessage") if c.ok]) == 1


def test_server_errors_back_off_exponentially(sessions, fake, clock) -> None:
    owe(sessions, clock)
    fake.fail_next("chat.postMessage", status=503, times=4)
    d = deliverer(sessions, fake, clock)
    delays = []
    for _ in range(4):
        start = clock.now()
        d.drain()
        [row] = rows(sessions)
        delays.append((row.next_attempt_at - start).total_seconds())
        clock.set(row.next_attempt_at)
    assert delays == [1, 2, 4, 8]
    assert d.drain().sent == 1


def test_permanent_errors_are_not_retried_and_coordinators_are_told(sessions, fake, clock) -> None:
    owe(sessions, clock, channel="UGONE")
    fake.fail_channel("UGONE", "account_inactive")
    d = deliverer(sessions, fake, clock)
    report = d.drain()
    assert report.failed == 1
    row = rows(sessions)[0]
    assert row.status == "failed" and row.last_error == "account_inactive"
    clock.advance(hours=5)
    d.drain()
    assert len([c for c in fake.calls if c.args.get("channel") == "UGONE"]) == 1
    [notice] = fake.messages("G0COORDS")
    assert "<@UGONE>" in notice["text"] and "account_inactive" in notice["text"]
    with sessions() as session:
        [entry] = session.exec(select(AuditEntry).where(AuditEntry.action == "message.failed"))
    assert entry.detail["error"] == "account_inactive"


def test_a_failing_coordinator_channel_is_reported_to_coordinators_by_dm(
    sessions, fake, clock
) -> None:
    with transaction(sessions) as session:
        person = Person(
            slack_user_id="UCOORD", name="Chris", created_at=clock.now(), updated_at=clock.now()
        )
        session.add(person)
        session.flush()
        session.add(PersonRole(person_id=person.id, role="coordinator"))
    owe(sessions, clock, channel="G0COORDS")
    fake.fail_channel("G0COORDS", "not_in_channel")
    deliverer(sessions, fake, clock).drain()
    [dm] = fake.messages("UCOORD")
    assert "not_in_channel" in dm["text"]


def test_a_message_slack_took_before_a_crash_is_not_posted_again(sessions, fake, clock) -> None:
    [message_id] = owe(sessions, clock)
    # A process claims it, Slack takes the message, and the process dies before recording.
    with transaction(sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status="sending", claim_token="dead", claimed_until=clock.now() + LEASE, attempts=1
            )
        )
    WebClient(token="xoxb-test", base_url=fake.url).chat_postMessage(
        channel="C0SUPPORT",
        text="message 0",
        metadata={
            "event_type": "school_support_outbox",
            "event_payload": {"outbox_id": message_id},
        },
    )
    d = deliverer(sessions, fake, clock)
    assert d.drain().sent == 0, "the claim has not lapsed yet"
    clock.advance(LEASE + timedelta(seconds=1))
    assert d.drain().sent == 1
    assert posted_ids(fake) == [message_id]
    [row] = rows(sessions)
    assert row.status == "sent" and row.sent_ts == fake.messages("C0SUPPORT")[0]["ts"]
    assert fake.calls_to("conversations.history")[0].args["include_all_metadata"] in (
        True,
        "true",
        "1",
        1,
    )


def _posted_then_crashed(sessions: SessionFactory, fake: FakeSlack, clock: FixedClock) -> int:
    """A row a process claimed and Slack took, the process dying before it recorded it."""
    [message_id] = owe(sessions, clock)
    with transaction(sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status="sending", claim_token="dead", claimed_until=clock.now() + LEASE, attempts=1
            )
        )
    WebClient(token="xoxb-test", base_url=fake.url).chat_postMessage(
        channel="C0SUPPORT",
        text="message 0",
        metadata={
            "event_type": "school_support_outbox",
            "event_payload": {"outbox_id": message_id},
        },
    )
    clock.advance(LEASE + timedelta(seconds=1))
    return message_id


def test_a_message_in_doubt_given_back_unstarted_is_still_looked_for(sessions, fake, clock) -> None:
    message_id = _posted_then_crashed(sessions, fake, clock)
    d = deliverer(sessions, fake, clock)
    asked = []  # stopping before the claimed row is started: it is given back unchecked
    report = d.drain(stopping=lambda: asked.append(1) or len(asked) > 1)
    assert report.sent == 0 and fake.calls_to("conversations.history") == []
    [row] = rows(sessions)
    assert (row.status, row.claim_token, row.in_doubt) == ("pending", None, True)
    assert d.drain().sent == 1
    assert posted_ids(fake) == [message_id], "found in Slack, not posted again"


def test_a_message_in_doubt_whose_lookup_failed_is_looked_for_again(sessions, fake, clock) -> None:
    message_id = _posted_then_crashed(sessions, fake, clock)
    fake.fail_next("conversations.history", status=503)
    d = deliverer(sessions, fake, clock)
    assert d.drain().retried == 1
    [row] = rows(sessions)
    assert row.status == "pending" and row.in_doubt
    clock.set(row.next_attempt_at)
    assert d.drain().sent == 1
    assert posted_ids(fake) == [message_id], "found in Slack, not posted again"


@pytest.mark.parametrize("status", [500, 503])
def test_a_post_slack_took_but_answered_with_a_server_error_is_not_posted_again(
    sessions, fake, clock, status
) -> None:
    [message_id] = owe(sessions, clock, channel="UHEAD1")
    fake.fail_next("chat.postMessage", status=status, acted_on=True)
    d = deliverer(sessions, fake, clock)
    assert d.drain().retried == 1
    [row] = rows(sessions)
    assert row.status == "pending" and row.in_doubt, "Slack may have it: in doubt"
    clock.set(row.next_attempt_at)
    assert d.drain().sent == 1
    assert posted_ids(fake) == [message_id], "found in Slack, not posted again"
    assert len(fake.calls_to("chat.postMessage")) == 1
    [row] = rows(sessions)
    assert row.sent_ts == fake.messages("UHEAD1")[0]["ts"]
    assert row.last_error == IN_DOUBT_FOUND


def test_a_post_whose_answer_timed_out_is_not_posted_again(sessions, fake, clock) -> None:
    [message_id] = owe(sessions, clock, channel="UHEAD1")
    client = WebClient(token="xoxb-test", base_url=fake.url, timeout=0.2, retry_handlers=[])
    d = Deliverer(sessions, client, clock, jitter=lambda: 1.0)
    fake.response_delay = 0.5  # Slack takes the post; its answer comes too late
    assert d.drain().retried == 1
    fake.response_delay = 0.0
    [row] = rows(sessions)
    assert row.status == "pending" and row.in_doubt
    clock.set(row.next_attempt_at)
    assert d.drain().sent == 1
    assert posted_ids(fake) == [message_id]
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_a_post_refused_with_a_server_error_is_looked_for_then_sent(sessions, fake, clock) -> None:
    [message_id] = owe(sessions, clock)
    fake.fail_next("chat.postMessage", status=503)
    d = deliverer(sessions, fake, clock)
    d.drain()
    clock.set(rows(sessions)[0].next_attempt_at)
    assert d.drain().sent == 1
    assert len(fake.calls_to("conversations.history")) == 1, "looked in Slack first"
    assert posted_ids(fake) == [message_id]
    [row] = rows(sessions)
    assert row.last_error == IN_DOUBT_POSTED


def test_files_slack_shared_but_answered_with_a_server_error_are_not_shared_again(
    sessions, fake, clock
) -> None:
    with transaction(sessions) as session:
        owe_files(
            session,
            now=clock.now(),
            channel="C0SUPPORT",
            files=[OwedFile("digest.csv", "Digest", b"week,requests\n", "The week")],
        )
    fake.fail_next("files.completeUploadExternal", status=500, acted_on=True)
    d = deliverer(sessions, fake, clock)
    assert d.drain().retried == 1
    assert rows(sessions)[0].in_doubt
    clock.set(rows(sessions)[0].next_attempt_at)
    assert d.drain().sent == 1
    assert len(fake.files("C0SUPPORT")) == 1
    assert len(fake.calls_to("files.completeUploadExternal")) == 1


def test_a_message_lost_in_a_crash_before_slack_took_it_is_sent(sessions, fake, clock) -> None:
    [message_id] = owe(sessions, clock, channel="UHEAD1")
    with transaction(sessions) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status="sending", claim_token="dead", claimed_until=clock.now() + LEASE, attempts=1
            )
        )
    clock.advance(LEASE + timedelta(seconds=1))
    assert deliverer(sessions, fake, clock).drain().sent == 1
    assert posted_ids(fake) == [message_id]


def test_an_outage_then_rate_limits_deliver_everything_exactly_once(sessions, fake, clock) -> None:
    ids = owe(sessions, clock, n=30)
    d = deliverer(sessions, fake, clock)
    fake.outage(503)
    for _ in range(20):  # ten simulated minutes of outage
        d.drain()
        clock.advance(seconds=30)
    fake.end_outage()
    fake.fail_next("chat.postMessage", status=429, retry_after=5, times=10)
    for _ in range(200):
        d.drain()
        if all(r.status == "sent" for r in rows(sessions)):
            break
        clock.advance(seconds=30)
    assert posted_ids(fake) == sorted(ids)
    assert all(r.status == "sent" for r in rows(sessions))


def test_several_deliverers_at_once_send_each_message_once(sessions, fake, clock) -> None:
    ids = owe(sessions, clock, n=40)
    workers = [deliverer(sessions, fake, clock) for _ in range(4)]
    barrier = threading.Barrier(len(workers))

    def run(d: Deliverer) -> None:
        barrier.wait()
        d.drain()

    threads = [threading.Thread(target=run, args=(d,)) for d in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert posted_ids(fake) == sorted(ids)
    assert len(fake.calls_to("chat.postMessage")) == 40


def test_an_edit_of_a_message_that_failed_for_good_is_dropped(sessions, fake, clock) -> None:
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="UGONE", text="offer", ref="offer:9")
        owe_update(session, now=clock.now(), update_of="offer:9", text="taken")
        owe_update(session, now=clock.now(), update_of="offer:never", text="orphan")
    fake.fail_channel("UGONE", "user_not_found")
    d = deliverer(sessions, fake, clock)
    d.drain()
    clock.advance(minutes=1)
    d.drain()
    assert [r.status for r in rows(sessions)[:3]] == ["failed", "failed", "failed"]
    assert rows(sessions)[1].last_error == "original_not_sent"
    assert fake.calls_to("chat.update") == []


def test_a_reply_whose_message_another_copy_just_sent_waits_for_it(sessions, fake, clock) -> None:
    """Two running copies: the reply looked for its message just before the other copy
    recorded it as sent. It waits and goes in the thread; it is not dropped as never sent."""
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="U1", text="offer", ref="dm:1")
    other_copy = deliverer(sessions, fake, clock)
    other_copy.drain()
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="U1", text="more", thread_of="dm:1")
    d = deliverer(sessions, fake, clock)
    looked = d._sent_target
    d._sent_target = lambda ref, platform: None  # type: ignore[method-assign]  # looked too early
    d.drain()
    assert rows(sessions)[1].status == "pending"
    d._sent_target = looked  # type: ignore[method-assign]
    clock.advance(minutes=1)
    d.drain()
    parent, reply = rows(sessions)
    assert reply.status == "sent" and reply.last_error is None
    [posted] = [c for c in fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert posted.args["thread_ts"] == parent.sent_ts


def test_an_older_edit_retried_after_a_newer_one_does_not_overwrite_it(
    sessions, fake, clock
) -> None:
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="C0SUPPORT", text="card v0", ref="card:1")
    d = deliverer(sessions, fake, clock)
    d.drain()
    with transaction(sessions) as session:
        owe_update(session, now=clock.now(), update_of="card:1", text="card v1")
    fake.fail_next("chat.update", status=503)
    assert d.drain().retried == 1  # v1 backs off
    with transaction(sessions) as session:
        owe_update(session, now=clock.now(), update_of="card:1", text="card v2")
    d.drain()  # v2 goes out while v1 waits
    clock.advance(minutes=5)
    d.drain()  # v1's retry is due: v2 already says more recent things
    [card] = fake.messages("C0SUPPORT")
    assert card["text"] == "card v2"
    assert [c.args["text"] for c in fake.calls_to("chat.update") if c.ok] == ["card v2"]
    assert {r.status for r in rows(sessions)} == {"sent"}


# --- replies to whoever acted ----------------------------------------------------------------


def owe_a_reply(sessions: SessionFactory, clock: FixedClock, url: str, text: str = "psst") -> int:
    with transaction(sessions) as session:
        row = owe_reply(
            session,
            now=clock.now(),
            user="UHEAD1",
            channel="C0STAFFROOM",
            response_url=url,
            text=text,
        )
        session.flush()
        return row.id


def test_a_reply_goes_through_its_response_url_and_forgets_it(
    sessions, fake, clock, caplog
) -> None:
    url = fake.new_response_url("actions", user="UHEAD1", channel="C0STAFFROOM")
    owe_a_reply(sessions, clock, url)
    fake.fail_next("response_url", status=503)
    d = deliverer(sessions, fake, clock)
    with caplog.at_level(logging.DEBUG):
        assert d.drain().retried == 1
        clock.advance(seconds=5)
        assert d.drain().sent == 1

    [reply] = fake.responses("UHEAD1")
    assert reply["text"] == "psst" and reply["response_type"] == "ephemeral"
    assert not reply["replace_original"], "the message they clicked on stays as it was"
    assert fake.messages("UHEAD1") == []
    [row] = rows(sessions)
    assert row.status == "sent" and row.response_url is None
    # A response_url is a capability: it never reaches a log line, even at DEBUG.
    key = url.rsplit("/", 1)[-1]
    assert caplog.records and not any(key in r.getMessage() for r in caplog.records)


def test_an_ephemeral_where_the_bot_is_not_a_member_goes_by_dm(sessions, clock) -> None:
    with FakeSlack(clock=clock, bot_channels=["C0SUPPORT"]) as fake:
        with transaction(sessions) as session:
            owe_ephemeral(session, now=clock.now(), channel="C0STAFFROOM", user="UHEAD1", text="a")
            owe_ephemeral(session, now=clock.now(), channel="G0HEADS", user="UHEAD1", text="b")
            owe_ephemeral(session, now=clock.now(), channel="C0SUPPORT", user="UHEAD1", text="c")
        report = deliverer(sessions, fake, clock).drain()

        assert report.sent == 3 and report.failed == 0
        refusals = [c.error for c in fake.calls_to("chat.postEphemeral") if not c.ok]
        assert refusals == ["not_in_channel", "channel_not_found"]
        assert [m["text"] for m in fake.messages("UHEAD1")] == ["a", "b"]
        assert [m["text"] for m in fake.ephemeral_messages("C0SUPPORT")] == ["c"]
        assert [r.sent_channel for r in rows(sessions)] == ["DHEAD1", "DHEAD1", "C0SUPPORT"]


def test_a_reply_whose_dm_fails_for_good_is_marked_failed(sessions, fake, clock) -> None:
    url = fake.new_response_url("actions", user="UHEAD1", channel="C0STAFFROOM")
    clock.advance(minutes=31)
    owe_a_reply(sessions, clock, url)
    fake.fail_channel("UHEAD1", "account_inactive")

    report = deliverer(sessions, fake, clock).drain()

    assert report.failed == 1
    row = rows(sessions)[0]  # coordinators are owed a notice about it
    assert row.status == "failed" and row.last_error == "account_inactive"
    assert row.response_url is None


def test_a_view_is_stored_neutral_and_sent_as_block_kit(sessions, fake, clock) -> None:
    view = Card(("Hello *there*",), (Action("say_hi", "Say hi", "1", style="primary"),))
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel="C0SUPPORT", text="Hello", view=view)
    [owed] = rows(sessions)
    assert owed.platform == "slack" and "blocks" not in owed.payload
    assert owed.payload["view"] == encode_view(view)
    assert deliverer(sessions, fake, clock).drain().sent == 1
    [call] = fake.calls_to("chat.postMessage")
    blocks = call.args["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert blocks == render_blocks(view) and "view" not in call.args
    [sent] = rows(sessions)
    assert sent.status == "sent" and sent.payload == owed.payload, "the stored row stays neutral"
