"""A 200 is a promise: events are saved before they are acknowledged, and handled from there.

Slack never re-sends an event it got a 200 for. These drive the real app over signed HTTP
(and once as Socket Mode does) and check that what was acknowledged is in the database, that
an event whose handling failed or was cut short is handled by the due work, exactly once, and
that Slack's retries of a saved event neither lose it nor double it.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from slack_bolt import BoltRequest
from sqlmodel import select

import handlers.slack.listeners.events.messages as messages
from bot.entry.jobs import run_due
from bot.inbound.service import EVENT_LEASE, MAX_ATTEMPTS, receive_event
from handlers.slack.app import SORRY_GAVE_UP, SORRY_WILL_RETRY, create_app
from handlers.slack.stand_in.signing import event_callback_body, message_event, new_event_id, sign
from storage.models import InboundEvent, SupportRequest
from tests.handlers.slack.conftest import SIGNING_SECRET, SUPPORT_CHANNEL, SlackWorld

ASK = "Our SENCO has left and EHCP reviews are due"


def _requests(slack: SlackWorld) -> list[SupportRequest]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(SupportRequest)))


def _saved(slack: SlackWorld, event_id: str) -> InboundEvent:
    with slack.runtime.sessions() as session:
        [row] = session.exec(select(InboundEvent).where(InboundEvent.event_id == event_id))
        return row


def _thread_replies(slack: SlackWorld, ts: str) -> list[dict[str, Any]]:
    return [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.ok and c.args.get("thread_ts") == ts
    ]


def _replayed(slack: SlackWorld, *, later: bool = True) -> int:
    """Run the due work (a lease later, by default) and say how many events it replayed."""
    if later:
        slack.clock.advance(EVENT_LEASE)
    replayed = run_due(slack.runtime)["events_replayed"]
    slack.settle()
    return replayed


def _hold_capture(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Make the message listener wait (before it captures anything) until the event is set."""
    release = threading.Event()
    real_capture = messages.capture_message

    def held_capture(*args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=30)
        return real_capture(*args, **kwargs)

    monkeypatch.setattr(messages, "capture_message", held_capture)
    return release


def test_an_event_is_saved_before_it_is_acknowledged(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    release = _hold_capture(monkeypatch)
    event = message_event("UHEAD1", ASK, SUPPORT_CHANNEL)
    event_id = new_event_id()
    try:
        assert slack.sender.event(event, event_id=event_id)[0] == 200
        # Acknowledged while the listener is still waiting: the event is already durable.
        saved = _saved(slack, event_id)
        assert saved.processed_at is None and saved.body is not None
        assert saved.body["event"]["text"] == ASK
    finally:
        release.set()
    slack.settle()
    saved = _saved(slack, event_id)
    assert saved.outcome == "handled" and saved.body is None
    assert len(_requests(slack)) == 1


def test_a_failed_event_is_handled_by_the_due_work_once(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    real_capture = messages.capture_message
    failures = iter([RuntimeError("database exploded")])

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        for error in failures:
            raise error
        return real_capture(*args, **kwargs)

    monkeypatch.setattr(messages, "capture_message", fails_once)
    event = message_event("UHEAD1", ASK, SUPPORT_CHANNEL)
    event_id = new_event_id()
    assert slack.sender.event(event, event_id=event_id)[0] == 200
    slack.settle()
    # Told it will be tried again (not "nothing was changed, try again": that made two).
    told = [c.args["text"] for c in slack.fake.calls_to("chat.postEphemeral")]
    assert told == [SORRY_WILL_RETRY]
    assert _requests(slack) == []
    slack.errors.clear()  # the failure is the point here

    assert _replayed(slack) == 1
    assert len(_requests(slack)) == 1
    assert len(_thread_replies(slack, event["ts"])) == 1
    assert _saved(slack, event_id).outcome == "handled"

    assert _replayed(slack) == 0
    assert slack.sender.event(event, event_id=event_id, retry_num=1)[0] == 200
    slack.settle()
    assert len(_requests(slack)) == 1
    assert len(_thread_replies(slack, event["ts"])) == 1, "none twice"


def test_a_retry_of_an_event_saved_but_never_handled_is_not_lost(slack: SlackWorld) -> None:
    slack.import_directory()
    event = message_event("UHEAD1", ASK, SUPPORT_CHANNEL)
    event_id = new_event_id()
    body = json.loads(event_callback_body(event, event_id=event_id))
    # The first delivery was saved; then its process died before handling it or answering.
    runtime = slack.runtime
    assert receive_event(runtime.sessions, event_id=event_id, body=body, now=slack.clock.now())

    # Slack retries within the dead process's lease: acknowledged, not yet handled here.
    assert slack.sender.event(event, event_id=event_id, retry_num=1)[0] == 200
    slack.settle()
    assert _requests(slack) == []
    # Its next retry comes after the lease lapsed: handled now, once.
    slack.clock.advance(EVENT_LEASE)
    assert slack.sender.event(event, event_id=event_id, retry_num=2)[0] == 200
    slack.settle()
    assert len(_requests(slack)) == 1
    assert len(_thread_replies(slack, event["ts"])) == 1
    assert _replayed(slack) == 0
    assert _saved(slack, event_id).attempts == 2


def test_a_saved_event_no_retry_came_for_is_handled_by_the_due_work(slack: SlackWorld) -> None:
    slack.import_directory()
    event = message_event("UHEAD1", ASK, SUPPORT_CHANNEL)
    event_id = new_event_id()
    body = json.loads(event_callback_body(event, event_id=event_id))
    receive_event(slack.runtime.sessions, event_id=event_id, body=body, now=slack.clock.now())
    assert _replayed(slack, later=False) == 0, "not while its lease runs"
    assert _replayed(slack) == 1
    assert len(_requests(slack)) == 1
    assert len(_thread_replies(slack, event["ts"])) == 1
    assert _replayed(slack) == 0


def test_an_event_that_keeps_failing_is_given_up_with_one_apology(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(messages, "capture_message", broken)
    event_id = new_event_id()
    slack.sender.event(message_event("UHEAD1", ASK, SUPPORT_CHANNEL), event_id=event_id)
    slack.settle()
    replays = [_replayed(slack) for _ in range(MAX_ATTEMPTS + 1)]
    assert replays == [1] * (MAX_ATTEMPTS - 1) + [0, 0]
    saved = _saved(slack, event_id)
    assert saved.outcome == "gave_up" and saved.body is None
    told = [c.args["text"] for c in slack.fake.calls_to("chat.postEphemeral")]
    assert told == [SORRY_WILL_RETRY, SORRY_GAVE_UP], "told it's being retried, then the end"
    assert len(slack.errors) == MAX_ATTEMPTS
    slack.errors.clear()


def test_an_event_nothing_listens_to_is_acknowledged_and_done(slack: SlackWorld) -> None:
    event_id = new_event_id()
    event = {"type": "reaction_added", "user": "UHEAD1", "reaction": "thumbsup"}
    assert slack.sender.event(event, event_id=event_id)[0] == 200
    slack.settle()
    assert _saved(slack, event_id).outcome == "handled"
    assert _replayed(slack) == 0


def test_socket_mode_saves_the_event_before_the_socket_ack(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack.import_directory()
    app = create_app(slack.runtime, listener_executor=slack.executor)
    event = message_event("UHEAD1", ASK, SUPPORT_CHANNEL)
    body = json.loads(event_callback_body(event))
    release = _hold_capture(monkeypatch)
    try:
        # SocketModeHandler sends its acknowledgement once `dispatch` returns.
        response = app.dispatch(BoltRequest(body=body, mode="socket_mode"))
        assert response.status == 200
        assert _saved(slack, body["event_id"]).body is not None
    finally:
        release.set()
    slack.settle()
    assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200  # redelivered
    slack.settle()
    assert len(_requests(slack)) == 1
    assert len(_thread_replies(slack, event["ts"])) == 1


def test_the_error_handler_ignores_a_request_the_front_door_did_not_verify(
    slack: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Even correctly signed: only the front door's own check marks a request as verified.
    slack.import_directory()

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(messages, "capture_message", broken)
    app = create_app(slack.runtime, listener_executor=slack.executor)
    raw = event_callback_body(message_event("UHEAD1", ASK, SUPPORT_CHANNEL))
    headers = {"content-type": "application/json", **sign(raw, SIGNING_SECRET)}
    app.dispatch(BoltRequest(body=raw.decode(), headers=headers))
    slack.settle()
    assert slack.fake.calls_to("chat.postEphemeral") == []
    assert slack.fake.calls_to("chat.postMessage") == []
    assert [r.getMessage() for r in slack.errors] == [
        "unhandled RuntimeError in an unverified request; ignored"
    ]
    slack.errors.clear()
