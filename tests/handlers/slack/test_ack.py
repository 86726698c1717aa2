"""Slack hears back at once whatever the Web API is doing: slow work happens after the ack.

The fake Web API is held (every call waits) while Slack-shaped requests arrive; each must
still be answered. If a handler called the Web API before acking, its HTTP response would
wait for the release and the sender would time out.
"""

from __future__ import annotations

import json

from sqlmodel import select

from handlers.slack.stand_in.signing import (
    SlackSender,
    block_actions_payload,
    message_event,
    view_submission_payload,
)
from storage.models import SupportRequest
from tests.handlers.slack.conftest import SIGNING_SECRET, SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_intake import request_form


def test_requests_are_acknowledged_while_the_web_api_stalls(slack: SlackWorld) -> None:
    slack.import_directory()
    # Held calls wait until release, so a handler that waited on one would time out here.
    impatient = SlackSender(
        slack.url, SIGNING_SECRET, timeout=10, response_urls=slack.fake.new_response_url
    )
    slack.fake.hold()
    try:
        assert (
            impatient.event(message_event("UHEAD1", "SEND help please", SUPPORT_CHANNEL))[0] == 200
        )
        assert impatient.command("/support", "maths", user_id="UHEAD1")[0] == 200
        status, body, _ = impatient.interact(
            view_submission_payload(
                "UHEAD1",
                "request_new",
                request_form(areas=["maths"]),
                private_metadata=json.dumps({"source": "command"}),
            )
        )
        assert status == 200 and body in (b"", b"{}")
        assert (
            impatient.interact(
                block_actions_payload("UHEAD1", "request_confirm", "1", channel_id=SUPPORT_CHANNEL)
            )[0]
            == 200
        )
        assert slack.fake.calls_to("chat.postMessage") == [], "nothing reached Slack yet"
    finally:
        slack.fake.release()
    slack.settle(timeout=30)
    with slack.runtime.sessions() as session:
        assert len(list(session.exec(select(SupportRequest)))) == 2
    assert slack.fake.calls_to("views.open"), "the modal was opened once Slack answered"
    assert slack.fake.calls_to("chat.postMessage"), "and the owed messages went out"
