"""*Update the request* reads the head's edited post from Slack before its acknowledgement:
when Slack can't answer (rate-limited, failing or stalled) the head is told so, in time, and
nothing changes."""

from __future__ import annotations

import threading
import time

import pytest

from handlers.slack.stand_in.signing import block_actions_payload
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_asking_places import (
    ASK,
    accepted,
    changed_event,
    click,
    requests,
    send,
)

COULD_NOT_READ = "couldn't read your post"


def edited_and_asked(slack: SlackWorld) -> int:
    """An accepted request whose post the head has edited; the bot has asked whether to update."""
    slack.import_directory()
    request, original = accepted(slack, SUPPORT_CHANNEL)
    new_text = ASK + " Update: the reviews are now next week."
    slack.fake.edit_message(SUPPORT_CHANNEL, original["ts"], new_text)
    send(slack, changed_event(SUPPORT_CHANNEL, original, new_text, "1796000001.000100"))
    return request.id or 0


@pytest.mark.parametrize("status", [429, 500])
def test_slack_failing_to_give_the_post_is_not_taken_for_a_deleted_post(
    slack: SlackWorld, status: int
) -> None:
    request_id = edited_and_asked(slack)
    slack.fake.fail_next("conversations.history", status=status)
    click(slack, "UHEAD1", "request_update_from_post", str(request_id), channel_id=SUPPORT_CHANNEL)
    told = slack.fake.replies_to("UHEAD1")
    assert any(COULD_NOT_READ in text for text in told), told
    assert not any("can't find your post" in text for text in told)
    assert requests(slack)[0].description == ASK, "nothing changed"

    click(slack, "UHEAD1", "request_update_from_post", str(request_id), channel_id=SUPPORT_CHANNEL)
    assert "next week" in requests(slack)[0].description, "pressing again works"


@pytest.mark.deadline
def test_a_stalled_slack_does_not_hold_the_acknowledgement_past_three_seconds(
    slack: SlackWorld,
) -> None:
    request_id = edited_and_asked(slack)
    payload = block_actions_payload(
        "UHEAD1", "request_update_from_post", str(request_id), channel_id=SUPPORT_CHANNEL
    )
    slack.fake.hold()
    answered: list[tuple[int, float]] = []

    def press() -> None:
        started = time.monotonic()
        status = slack.sender.interact(payload)[0]
        answered.append((status, time.monotonic() - started))

    presser = threading.Thread(target=press)
    presser.start()
    presser.join(timeout=15)
    slack.fake.release()
    slack.settle()
    [(status, took)] = answered
    assert status == 200 and took < 3.0, f"acknowledged after {took:.1f} s"
    assert any(COULD_NOT_READ in text for text in slack.fake.replies_to("UHEAD1"))
    assert requests(slack)[0].description == ASK
