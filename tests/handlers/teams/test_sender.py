"""The Teams sender (the outbox's Teams transport) against the fake Bot Connector: where each
message goes, updates in place, rate limits, server errors, permanent refusals, the one
re-send of a message left in doubt, and giving up on a message that never goes through (Teams
failing it, or the bot's own rendering raising every time)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.clock import FixedClock
from bot.core.messages import Card, encode_view
from bot.core.settings import load_settings
from bot.outbox.delivery import Deliverer
from bot.outbox.notify import undeliverable_reporter
from bot.outbox.owing import owe_post
from bot.outbox.transport import Claim, Failed, RateLimited, Retry, Sent, Target
from bot.reach.conversations import conversation_with
from handlers.teams import sender
from handlers.teams.config import TeamsConfig
from handlers.teams.connector import BotConnector
from handlers.teams.sender import IN_DOUBT_RESENT, TeamsTransport
from handlers.teams.stand_in.fake_microsoft import APP_ID, TENANT_ID, FakeMicrosoft
from handlers.teams.token import ClientCredentialsToken
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage
from tests.bot.outbox.test_giving_up import retry_until

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PERSON = "55555555-5555-4555-8555-555555555555"
CHANNEL = "19:heads@thread.tacv2"
COORDINATORS = "19:coordinators@thread.tacv2"


@pytest.fixture
def fake() -> Iterator[FakeMicrosoft]:
    with FakeMicrosoft() as fake:
        yield fake


@pytest.fixture
def transport(fake: FakeMicrosoft, sessions: SessionFactory) -> TeamsTransport:
    config = TeamsConfig(
        client_id=APP_ID,
        tenant_id=TENANT_ID,
        client_secret="s",
        service_url=fake.service_url,
        login_url=fake.login_url,
    )
    token = ClientCredentialsToken(
        client_id=APP_ID, client_secret="s", tenant_id=TENANT_ID, login_url=fake.login_url
    )
    return TeamsTransport(sessions, BotConnector(app_id=APP_ID, token=token), config)


def claim(
    channel: str,
    *,
    method: str = "chat.postMessage",
    original: Target | None = None,
    in_doubt: bool = False,
    **payload: Any,
) -> Claim:
    message = OutboxMessage(
        id=1,
        method=method,
        platform="teams",
        channel=channel,
        payload={"text": "Hello", "view": encode_view(Card(("*Hello*",))), **payload},
        in_doubt=in_doubt,
    )
    paced: list[Any] = []
    return Claim(
        message,
        original=original,
        now=lambda: NOW,
        pace=paced.extend,
        record=lambda _message, _values: None,
    )


def test_a_message_to_a_person_opens_their_chat_once(
    transport: TeamsTransport, fake: FakeMicrosoft, sessions: SessionFactory
) -> None:
    first = transport.send(claim(PERSON))
    second = transport.send(claim(PERSON))
    assert isinstance(first, Sent) and isinstance(second, Sent)
    chat = fake.personal_conversation(PERSON)
    assert first.channel == second.channel == chat
    assert len(fake.messages(chat or "")) == 2
    assert [c.path for c in fake.connector_calls()].count("/v3/conversations") == 1
    with sessions() as session:
        assert conversation_with(session, PERSON) is not None
    card = fake.messages(chat or "")[0]["attachments"][0]["content"]
    assert card["body"][0]["text"] == "**Hello**"


def test_a_thread_reply_in_a_channel_goes_under_its_post(
    transport: TeamsTransport, fake: FakeMicrosoft
) -> None:
    sent = transport.send(claim(CHANNEL, thread_ts="1700000000001"))
    assert isinstance(sent, Sent) and sent.channel == CHANNEL
    [call] = fake.connector_calls()
    assert call.path == f"/v3/conversations/{CHANNEL};messageid=1700000000001/activities"


def test_an_update_replaces_the_message_for_everyone(
    transport: TeamsTransport, fake: FakeMicrosoft
) -> None:
    posted = transport.send(claim(CHANNEL))
    assert isinstance(posted, Sent) and posted.ts
    target = Target(CHANNEL, posted.ts)
    updated = transport.send(claim("", method="chat.update", original=target, text="Taken"))
    assert updated == Sent(CHANNEL, posted.ts)
    [message] = fake.messages(CHANNEL)
    assert message["summary"] == "Taken"


def test_a_rate_limit_with_retry_after_pauses_the_conversation(
    transport: TeamsTransport, fake: FakeMicrosoft
) -> None:
    fake.fail_next(429, retry_after=7)
    with pytest.raises(RateLimited) as limited:
        transport.send(claim(CHANNEL))
    assert limited.value.retry_after == 7 and limited.value.keys == (
        f"teams:conversation:{CHANNEL}",
    )
    assert fake.messages(CHANNEL) == []


def test_a_rate_limit_without_retry_after_backs_off_without_counting(
    transport: TeamsTransport, fake: FakeMicrosoft
) -> None:
    fake.fail_next(429)
    outcome = transport.send(claim(CHANNEL))
    assert isinstance(outcome, Retry) and outcome.after is None and not outcome.count


def test_server_errors_are_retried_and_refusals_fail(
    transport: TeamsTransport, fake: FakeMicrosoft
) -> None:
    fake.fail_next(503)
    assert isinstance(transport.send(claim(CHANNEL)), Retry)
    fake.fail_next(403, code="ConversationBlockedByUser")
    assert transport.send(claim(CHANNEL)) == Failed("ConversationBlockedByUser")
    assert fake.messages(CHANNEL) == []


def test_a_message_in_doubt_is_sent_again_once_and_flagged(
    transport: TeamsTransport, fake: FakeMicrosoft
) -> None:
    outcome = transport.send(claim(CHANNEL, in_doubt=True))
    assert isinstance(outcome, Sent) and outcome.note == IN_DOUBT_RESENT
    assert len(fake.messages(CHANNEL)) == 1


def teams_deliverer(
    transport: TeamsTransport, sessions: SessionFactory, clock: FixedClock
) -> Deliverer:
    """The outbox delivering to Teams alone; failures reported to the coordinators' channel."""
    settings = load_settings(
        {
            "TEAMS_CLIENT_ID": APP_ID,
            "TEAMS_CLIENT_SECRET": "s",
            "TEAMS_TENANT_ID": TENANT_ID,
            "TEAMS_COORDINATOR_CONVERSATION_ID": COORDINATORS,
        },
        env_file=None,
    )
    reporter = undeliverable_reporter(sessions, settings, clock)
    return Deliverer(
        sessions, clock, [transport], jitter=lambda: 1.0, on_permanent_failure=reporter
    )


def owe_two(sessions: SessionFactory, clock: FixedClock) -> None:
    with transaction(sessions) as session:
        for text in ("first", "second"):
            owe_post(session, now=clock.now(), channel=CHANNEL, text=text)


def texts(fake: FakeMicrosoft, conversation: str) -> list[str]:
    """The text of each message (a card's is its `summary`) in a Teams conversation."""
    return [str(m.get("text") or m.get("summary") or "") for m in fake.messages(conversation)]


def test_a_message_failing_for_ever_is_given_up_and_the_next_goes(
    transport: TeamsTransport, fake: FakeMicrosoft, sessions: SessionFactory, clock: FixedClock
) -> None:
    owe_two(sessions, clock)
    d = teams_deliverer(transport, sessions, clock)
    start = clock.now()

    def fail_its_send() -> None:
        assert fake.messages(CHANNEL) == [], "the next message waits its turn meanwhile"
        fake.fail_next(500)

    row = retry_until(sessions, clock, d, fail_its_send, lambda row: row.status == "failed")
    assert timedelta(hours=24) <= clock.now() - start < timedelta(hours=24, minutes=31)
    assert row.last_error == f"gave up after {row.attempts} attempts over 24 hours: HTTP 500"
    assert texts(fake, CHANNEL) == ["second"]
    [notice] = texts(fake, COORDINATORS)
    assert "Teams kept failing" in notice and "gave up after" in notice


def test_429s_for_longer_than_the_limit_do_not_give_it_up(
    transport: TeamsTransport, fake: FakeMicrosoft, sessions: SessionFactory, clock: FixedClock
) -> None:
    owe_two(sessions, clock)
    d = teams_deliverer(transport, sessions, clock)
    start = clock.now()
    fake.fail_next(500)  # one failure first: its clock starts

    def throttle() -> None:
        if clock.now() - start <= timedelta(hours=25):  # with and without `Retry-After`
            fake.fail_next(429, retry_after=1800 if len(fake.connector_calls()) % 2 else None)

    row = retry_until(sessions, clock, d, throttle, lambda row: row.status != "pending")
    assert row.status == "sent", row.last_error
    assert texts(fake, CHANNEL) == ["first", "second"]


def test_a_message_the_renderer_chokes_on_is_backed_off_given_up_and_the_next_goes(
    transport: TeamsTransport,
    fake: FakeMicrosoft,
    sessions: SessionFactory,
    clock: FixedClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    owe_two(sessions, clock)
    render = sender.teams_activity

    def choke_on_the_first(payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("text") == "first":
            raise KeyError("first")  # a bug in the bot, not Teams' answer
        return render(payload)

    monkeypatch.setattr(sender, "teams_activity", choke_on_the_first)
    d = teams_deliverer(transport, sessions, clock)
    start = clock.now()

    def backed_off(row: OutboxMessage) -> bool:
        if row.status == "failed":
            return True
        assert row.status == "pending" and row.failing_since == start and not row.in_doubt
        assert row.next_attempt_at - clock.now() <= timedelta(minutes=30), "not its lease"
        return False

    row = retry_until(sessions, clock, d, lambda: None, backed_off)
    assert timedelta(hours=24) <= clock.now() - start < timedelta(hours=24, minutes=31)
    gave_up = f"gave up after {row.attempts} attempts over 24 hours: unexpected KeyError"
    assert row.last_error == gave_up
    assert texts(fake, CHANNEL) == ["second"]
    [notice] = texts(fake, COORDINATORS)
    assert "the bot kept failing to send it to Teams" in notice
