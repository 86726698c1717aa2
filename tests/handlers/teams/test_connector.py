"""The Bot Connector client against the fake: posts, updates, 1:1 chats, and every answer
sorted into done, retry (honouring Retry-After) or failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from handlers.teams.connector import BotConnector, Done, Failed, Retry, retry_after
from handlers.teams.stand_in.fake_microsoft import APP_ID, TENANT_ID, FakeMicrosoft
from handlers.teams.token import ClientCredentialsToken


@pytest.fixture
def fake() -> Iterator[FakeMicrosoft]:
    with FakeMicrosoft() as fake:
        yield fake


def _connector(fake: FakeMicrosoft, secret: str = "s3cret") -> BotConnector:
    token = ClientCredentialsToken(
        client_id=APP_ID, client_secret=secret, tenant_id=TENANT_ID, login_url=fake.login_url
    )
    return BotConnector(app_id=APP_ID, token=token)


def test_a_post_then_an_update_changes_the_message_for_everyone(fake: FakeMicrosoft) -> None:
    connector = _connector(fake)
    posted = connector.post(fake.service_url, "a:1:chat", {"type": "message", "text": "Open"})
    assert isinstance(posted, Done)
    updated = connector.update(fake.service_url, "a:1:chat", posted.id, {"text": "Taken"})
    assert updated == Done(posted.id)
    assert [m["text"] for m in fake.messages("a:1:chat")] == ["Taken"]
    assert fake.tokens_issued == 1  # the token is cached between calls


def test_opening_a_personal_chat_twice_gives_the_same_conversation(fake: FakeMicrosoft) -> None:
    connector = _connector(fake)
    first = connector.open_personal(fake.service_url, "aad-anna", TENANT_ID)
    second = connector.open_personal(fake.service_url, "aad-anna", TENANT_ID)
    assert isinstance(first, Done) and first == second
    body = fake.connector_calls()[0].body
    assert body["bot"] == {"id": f"28:{APP_ID}"} and body["isGroup"] is False


def test_a_rate_limit_is_retried_after_what_teams_said(fake: FakeMicrosoft) -> None:
    fake.fail_next(429, retry_after=7)
    outcome = _connector(fake).post(fake.service_url, "a:1:chat", {"text": "Hi"})
    assert outcome == Retry("HTTP 429", after=7.0)
    assert fake.messages("a:1:chat") == []


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_server_errors_are_retried_with_backoff(fake: FakeMicrosoft, status: int) -> None:
    fake.fail_next(status)
    assert _connector(fake).post(fake.service_url, "a:1:c", {"text": "Hi"}) == Retry(
        f"HTTP {status}"
    )


@pytest.mark.parametrize(
    ("status", "code"), [(403, "ConversationBlockedByUser"), (404, "NotFound"), (400, "BadCard")]
)
def test_refusals_are_permanent(fake: FakeMicrosoft, status: int, code: str) -> None:
    fake.fail_next(status, code=code)
    assert _connector(fake).post(fake.service_url, "a:1:c", {"text": "Hi"}) == Failed(code)


def test_a_refusal_whose_code_quotes_data_fails_by_its_status(fake: FakeMicrosoft) -> None:
    # Whatever sits in front of Teams may echo the message; the outbox logs and keeps this.
    fake.fail_next(403, code="ConversationBlockedByUser Anna Balson a.balson@example.org")
    assert _connector(fake).post(fake.service_url, "a:1:c", {"text": "Hi"}) == Failed("HTTP 403")


def test_a_refused_token_is_fetched_again_once(fake: FakeMicrosoft) -> None:
    connector = _connector(fake)
    fake.fail_next(401)
    assert isinstance(connector.post(fake.service_url, "a:1:c", {"text": "Hi"}), Done)
    assert fake.tokens_issued == 2
    assert len(fake.messages("a:1:c")) == 1


def test_bad_credentials_mean_retry_not_loss(fake: FakeMicrosoft) -> None:
    outcome = _connector(fake, secret="").post(fake.service_url, "a:1:c", {"text": "Hi"})
    assert isinstance(outcome, Retry) and "credentials refused" in outcome.reason
    assert fake.connector_calls() == []


def test_an_unreachable_connector_is_retried_and_not_in_doubt(fake: FakeMicrosoft) -> None:
    outcome = _connector(fake).post("http://127.0.0.1:9/", "a:1:c", {"text": "Hi"})
    assert isinstance(outcome, Retry) and not outcome.in_doubt


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert retry_after("12", now=now) == 12.0
    assert retry_after("Mon, 23 Nov 2026 09:00:30 GMT", now=now) == 30.0
    assert retry_after(None, now=now) is None and retry_after("soon", now=now) is None
