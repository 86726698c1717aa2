"""The HTTP endpoint as Slack uses it: signatures, the URL handshake, retries, health."""

from __future__ import annotations

import json
import time
import urllib.request

from sqlmodel import select

from handlers.slack.stand_in.signing import (
    JSON,
    event_callback_body,
    message_event,
    new_event_id,
    sign,
    slash_command_body,
)
from storage.models import InboundEvent, SupportRequest
from tests.handlers.slack.conftest import SIGNING_SECRET, SUPPORT_CHANNEL, SlackWorld


def _requests(slack: SlackWorld) -> list[SupportRequest]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(SupportRequest)))


def test_url_verification_challenge_is_answered(slack: SlackWorld) -> None:
    status, body, _ = slack.sender.url_verification(
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    )
    assert status == 200
    assert b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in body


def test_wrong_signature_is_refused_and_changes_nothing(slack: SlackWorld) -> None:
    slack.import_directory()
    event = message_event("UHEAD1", "We need help with SEND please", SUPPORT_CHANNEL)
    body = event_callback_body(event)
    forged = sign(body, "not-the-secret")
    status, _, _ = slack.sender.post(body, JSON, headers=forged)
    assert status == 401
    slack.settle()
    assert _requests(slack) == []
    assert slack.fake.calls_to("chat.postMessage") == []


def test_missing_signature_is_refused(slack: SlackWorld) -> None:
    body = slash_command_body("/support", "maths", user_id="UHEAD1")
    request = urllib.request.Request(
        slack.url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        urllib.request.urlopen(request, timeout=10)
        status = 200
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status == 401
    assert slack.fake.calls_to("views.open") == []


def test_stale_signature_is_refused(slack: SlackWorld) -> None:
    slack.import_directory()
    event = message_event("UHEAD1", "We need help with SEND please", SUPPORT_CHANNEL)
    six_minutes_ago = int(time.time()) - 6 * 60
    status, _, _ = slack.sender.post(event_callback_body(event), JSON, timestamp=six_minutes_ago)
    assert status == 401
    slack.settle()
    assert _requests(slack) == []


def test_tampered_body_is_refused(slack: SlackWorld) -> None:
    slack.import_directory()
    body = event_callback_body(message_event("UHEAD1", "SEND help", SUPPORT_CHANNEL))
    headers = sign(body, SIGNING_SECRET)
    status, _, _ = slack.sender.post(body.replace(b"SEND", b"HACK"), JSON, headers=headers)
    assert status == 401


def test_event_retry_is_processed_once(slack: SlackWorld) -> None:
    slack.import_directory()
    event = message_event("UHEAD1", "Our SENCO has left and EHCP reviews are due", SUPPORT_CHANNEL)
    event_id = new_event_id()
    assert slack.sender.event(event, event_id=event_id)[0] == 200
    slack.settle()
    for retry in (1, 2, 3):
        assert slack.sender.event(event, event_id=event_id, retry_num=retry)[0] == 200
    slack.settle()
    assert len(_requests(slack)) == 1
    replies = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert len(replies) == 1
    with slack.runtime.sessions() as session:
        [saved] = session.exec(select(InboundEvent).where(InboundEvent.event_id == event_id))
    assert saved.outcome == "handled" and saved.processed_at is not None
    assert saved.body is None, "the text is not kept once handled"


def test_same_message_with_a_new_event_id_is_still_captured_once(slack: SlackWorld) -> None:
    slack.import_directory()
    event = message_event("UHEAD1", "Help with KS2 maths please", SUPPORT_CHANNEL)
    slack.sender.event(event)
    slack.sender.event(event)  # Slack occasionally re-delivers under a different id
    slack.settle()
    assert len(_requests(slack)) == 1


def test_healthz_reports_the_database(slack: SlackWorld) -> None:
    health = slack.url.replace("/slack/events", "/healthz")
    with urllib.request.urlopen(health, timeout=10) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok", "database": True}


def test_unknown_paths_and_methods_are_not_served(slack: SlackWorld) -> None:
    for url, method in ((slack.url, "GET"), (slack.url.replace("/slack/events", "/x"), "POST")):
        request = urllib.request.Request(url, data=b"" if method == "POST" else None, method=method)
        try:
            urllib.request.urlopen(request, timeout=10)
            status = 200
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status in (404, 405)
