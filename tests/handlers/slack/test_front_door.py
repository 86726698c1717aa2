"""The front door: nothing unverified goes further than the signature check.

A request with any fault in its signature headers gets 401 and causes nothing: no listener,
no apology from the error handler, no call to Slack, no row in the database, and one log line
with the reason and the size, never the text.
"""

from __future__ import annotations

import logging
import time
import urllib.error
import urllib.request

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from handlers.slack.front_door import signature_problem
from handlers.slack.stand_in.signing import (
    FORM,
    JSON,
    event_callback_body,
    interaction_body,
    message_event,
    sign,
    slash_command_body,
)
from tests.handlers.slack.conftest import SIGNING_SECRET, SUPPORT_CHANNEL, SlackWorld

SECRET_TEXT = "Mrs Example's capability case in Year 4"
BAD_TIMESTAMPS = {
    "letters": "abc",
    "exponent": "1e3",
    "empty": "",
    "huge": "9" * 5000,
    "too big for a clock": "99999999999999999999",
    "negative": "-1",
    "padded": " 1700000000",
    "decimal": "1700000000.5",
}


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code


def _rows(slack: SlackWorld) -> dict[str, int]:
    """How many rows each table holds."""
    with slack.runtime.sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in SQLModel.metadata.sorted_tables
        }


def _event_naming_a_person() -> bytes:
    """A post that, were it acted on, would name a user and channel to the error handler."""
    event = message_event("UHEAD1", f"SEND help please. {SECRET_TEXT}", SUPPORT_CHANNEL)
    return event_callback_body(event)


def _refused_without_a_trace(slack: SlackWorld, body: bytes, headers: dict[str, str]) -> None:
    slack.import_directory()
    before, calls_before = _rows(slack), len(slack.fake.calls)
    assert _post(slack.url, body, headers) == 401
    slack.settle()
    assert len(slack.fake.calls) == calls_before, "nothing reached Slack"
    assert _rows(slack) == before, "nothing changed in the database"
    assert not slack.errors, "the error handler never saw it"


@pytest.mark.parametrize("timestamp", BAD_TIMESTAMPS.values(), ids=BAD_TIMESTAMPS.keys())
def test_a_malformed_timestamp_is_refused_and_causes_nothing(
    slack: SlackWorld, timestamp: str
) -> None:
    body = _event_naming_a_person()
    headers = {
        "Content-Type": JSON,
        **sign(body, SIGNING_SECRET),
        "X-Slack-Request-Timestamp": timestamp,
    }
    _refused_without_a_trace(slack, body, headers)


@pytest.mark.parametrize("missing", ["X-Slack-Request-Timestamp", "X-Slack-Signature"])
def test_a_missing_header_is_refused_and_causes_nothing(slack: SlackWorld, missing: str) -> None:
    body = slash_command_body("/support", SECRET_TEXT, user_id="UHEAD1")
    headers = {"Content-Type": FORM, **sign(body, SIGNING_SECRET)}
    del headers[missing]
    _refused_without_a_trace(slack, body, headers)


@pytest.mark.parametrize(
    "signature",
    ["", "v0=", "v1=" + "0" * 64, "v0=" + "é" * 64, "v0=zz"],
    ids=["empty", "bare", "other-scheme", "not-ascii", "not-hex"],
)
def test_a_malformed_signature_is_refused_and_causes_nothing(
    slack: SlackWorld, signature: str
) -> None:
    payload = {"type": "block_actions", "user": {"id": "UHEAD1"}, "actions": [{}]}
    body = interaction_body(payload)
    headers = {"Content-Type": FORM, **sign(body, SIGNING_SECRET), "X-Slack-Signature": signature}
    _refused_without_a_trace(slack, body, headers)


@pytest.mark.parametrize("offset", [-6 * 60, 6 * 60], ids=["stale", "future"])
def test_a_request_signed_outside_five_minutes_is_refused(slack: SlackWorld, offset: int) -> None:
    body = _event_naming_a_person()
    headers = {"Content-Type": JSON, **sign(body, SIGNING_SECRET, int(time.time()) + offset)}
    _refused_without_a_trace(slack, body, headers)


def test_refusals_are_one_line_each_with_reason_and_size_never_the_text(
    slack: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = _event_naming_a_person()
    now = int(time.time())
    attempts = {
        "wrong signature": sign(body, "not-the-secret"),
        "stale timestamp": sign(body, SIGNING_SECRET, now - 600),
        "timestamp in the future": sign(body, SIGNING_SECRET, now + 600),
        "malformed timestamp": {**sign(body, SIGNING_SECRET), "X-Slack-Request-Timestamp": "1e3"},
    }
    for headers in attempts.values():
        assert _post(slack.url, body, {"Content-Type": JSON, **headers}) == 401
    slack.settle()

    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals == [
        f"refused a Slack request: {reason} ({len(body)} bytes)" for reason in attempts
    ]
    assert SECRET_TEXT not in caplog.text
    assert "capability" not in caplog.text and "UHEAD1" not in caplog.text


def test_a_library_line_about_a_signed_request_keeps_no_text(
    slack: SlackWorld, caplog: pytest.LogCaptureFixture
) -> None:
    # Bolt warns about a request no listener handles, quoting what the person typed.
    caplog.set_level(logging.DEBUG)
    payload = {
        "type": "block_suggestion",
        "user": {"id": "UHEAD1"},
        "action_id": "no_such_menu",
        "block_id": "b1",
        "value": SECRET_TEXT,
    }
    status, _, _ = slack.sender.post(interaction_body(payload), FORM)
    assert status == 404
    slack.settle()
    bolt_lines = [r for r in caplog.records if r.name.startswith("slack_bolt")]
    assert any(r.getMessage().startswith("Unhandled request") for r in bolt_lines)
    assert SECRET_TEXT not in caplog.text


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({}, "no timestamp"),
        (
            {"x-slack-request-timestamp": "1e3", "x-slack-signature": "v0=" + "0" * 64},
            "malformed timestamp",
        ),
        ({"x-slack-request-timestamp": "100"}, "no signature"),
        (
            {"x-slack-request-timestamp": "100", "x-slack-signature": "v0=abc"},
            "malformed signature",
        ),
        (
            {"x-slack-request-timestamp": "100", "x-slack-signature": "v0=" + "0" * 64},
            "stale timestamp",
        ),
        (
            {"x-slack-request-timestamp": "99999999999", "x-slack-signature": "v0=" + "0" * 64},
            "timestamp in the future",
        ),
        (
            {"x-slack-request-timestamp": "1000", "x-slack-signature": "v0=" + "0" * 64},
            "wrong signature",
        ),
    ],
)
def test_signature_problem_names_each_fault(headers: dict[str, str], problem: str) -> None:
    assert signature_problem("secret", headers, b"body", now=1000) == problem


def test_signature_problem_accepts_slacks_own_signature() -> None:
    headers = {k.lower(): v for k, v in sign(b"body", "secret", 1000).items()}
    assert signature_problem("secret", headers, b"body", now=1000) is None
    assert signature_problem("secret", headers, b"body!", now=1000) == "wrong signature"
