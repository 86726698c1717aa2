"""Slow Slack and many people at once: every ack and every `views.open` within Slack's 3 s.

Slack gives a request 3 seconds for its acknowledgement, and a trigger id expires 3 seconds
after the click or command. With the Web API answering every call after 2 s, 50 people using
`/support` (or a modal-opening button) at the same moment must all be acknowledged, and have
their modal opened, within that window. These are Slack's correctness deadlines, not
performance targets: the timings come from this process's monotonic clock, as recorded by
the sender and by the fake Web API when each call arrived (see bench/ for the ratios).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.testing.burst import SLACK_DEADLINE, Sent, modal_lateness, send_at_once
from bot.testing.signing import (
    block_actions_payload,
    interaction_body,
    message_event,
    new_trigger_id,
    slash_command_body,
)
from storage.models import Offer, Person
from tests.slack.conftest import SUPPORT_CHANNEL, SlackWorld

pytestmark = pytest.mark.slow

AT_ONCE = 50
WEB_API_LATENCY = 2.0


def assert_within_slacks_deadlines(slack: SlackWorld, sent: list[Sent]) -> None:
    assert [s.status for s in sent] == [200] * len(sent)
    slowest_ack = max(s.ack_seconds for s in sent)
    assert slowest_ack < SLACK_DEADLINE, f"slowest ack took {slowest_ack:.2f}s"
    lateness = modal_lateness(slack.fake, sent)
    assert sorted(lateness) == sorted(s.trigger_id for s in sent), "one modal per trigger"
    late = sorted(round(v, 2) for v in lateness.values() if v >= SLACK_DEADLINE)
    assert not late, f"{len(late)} of {len(sent)} modals opened after their trigger expired: {late}"
    assert all(call.ok for call in slack.fake.calls_to("views.open"))


def with_slow_slack(slack: SlackWorld, run: Callable[[], list[Sent]]) -> list[Sent]:
    """Run `run` while every Web API call takes WEB_API_LATENCY seconds to answer."""
    slack.fake.clear()
    slack.fake.response_delay = WEB_API_LATENCY
    try:
        return run()
    finally:
        slack.fake.response_delay = 0.0


def test_fifty_simultaneous_commands_are_all_acked_and_opened_in_time(slack: SlackWorld) -> None:
    slack.import_directory()
    users = ["UHEAD1", "UHEAD2", "UCOORD", "UNLE1", "USLE1"]
    bodies = []
    for n in range(AT_ONCE):
        trigger_id = new_trigger_id()
        text = ["", "maths help for year 6", "our SENCO is off, EHCPs due"][n % 3]
        body = slash_command_body(
            "/support", text, user_id=users[n % len(users)], trigger_id=trigger_id
        )
        bodies.append((trigger_id, body))
    sent = with_slow_slack(slack, lambda: send_at_once(slack.sender, bodies))
    assert_within_slacks_deadlines(slack, sent)
    slack.settle(timeout=60)


def offered_request(slack: SlackWorld) -> dict[str, int]:
    """One request offered to supporters; returns the open offer id of each supporter."""
    slack.import_directory()
    slack.sender.event(message_event("UHEAD1", "SEND help please, EHCPs overdue", SUPPORT_CHANNEL))
    slack.settle()
    slack.sender.interact(
        block_actions_payload("UHEAD1", "request_confirm", "1", channel_id=SUPPORT_CHANNEL)
    )
    slack.settle()
    with slack.runtime.sessions() as session:
        rows = session.exec(
            select(Person.slack_user_id, Offer.id).join(Offer, Offer.supporter_id == Person.id)
        ).all()
    assert rows, "the request was offered"
    return {user: offer_id for user, offer_id in rows}


def test_fifty_simultaneous_modal_clicks_are_all_acked_and_opened_in_time(
    slack: SlackWorld,
) -> None:
    offers = offered_request(slack)
    clicks = [
        ("UHEAD1", "request_show_full", "1"),
        ("UCOORD", "request_show_full", "1"),
        ("UHEAD1", "request_edit", "1"),
        ("UCOORD", "request_assign", "1"),
    ] + [(user, "offer_show_full", str(offer)) for user, offer in offers.items()]
    clicks += [(user, "offer_decline", str(offer)) for user, offer in offers.items()]
    bodies = []
    for n in range(AT_ONCE):
        user, action, value = clicks[n % len(clicks)]
        trigger_id = new_trigger_id()
        payload = block_actions_payload(
            user, action, value, channel_id=SUPPORT_CHANNEL, trigger_id=trigger_id
        )
        bodies.append((trigger_id, interaction_body(payload)))
    sent = with_slow_slack(slack, lambda: send_at_once(slack.sender, bodies))
    assert_within_slacks_deadlines(slack, sent)
    slack.settle(timeout=60)
