"""Slow Slack and many people at once: every ack and every `views.open` within Slack's 3 s.

Slack gives a request 3 seconds for its acknowledgement, and a trigger id expires 3 seconds
after the click or command. With the Web API answering every call after 2 s, 50 people using
`/support` (or a modal-opening button) at the same moment must all be acknowledged, and have
their modal opened, within that window. These are Slack's correctness deadlines, not
performance targets (see bench/ for the ratios).

The bot runs as production runs it, `python -m bot serve` in its own process, so it shares
no interpreter with Slack's side of the test: the senders and the fake Web API here. Times
are on this process's monotonic clock: when each request left and its ack came back, and
when each `views.open` reached the fake (`Call.at`).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlmodel import select

from bench.burst import SLACK_DEADLINE, Sent, modal_lateness, send_at_once
from bot.core.clock import SystemClock
from bot.directory.service import import_directory
from handlers.slack.stand_in.fake_slack import FakeSlack
from handlers.slack.stand_in.signing import (
    FORM,
    SlackSender,
    block_actions_payload,
    interaction_body,
    message_event,
    new_trigger_id,
    slash_command_body,
)
from storage.db import make_engine, make_session_factory
from storage.models import Offer, Person, SupportRequest
from tests.handlers.slack.conftest import DIRECTORY, SIGNING_SECRET, SUPPORT_CHANNEL
from tests.robustness.test_processes import free_port, wait_healthy, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.deadline]

ROOT = Path(__file__).resolve().parents[3]
AT_ONCE = 50
WEB_API_LATENCY = 2.0


@dataclass
class ServedBot:
    """`python -m bot serve` on a free port, talking to `fake`; `sender` signs like Slack."""

    fake: FakeSlack
    sender: SlackSender
    db_url: str
    log: Path


@pytest.fixture
def served(db_url: str, tmp_path: Path) -> Iterator[ServedBot]:
    engine = make_engine(db_url)
    import_directory(make_session_factory(engine), io.StringIO(DIRECTORY), now=SystemClock().now())
    engine.dispose()
    port = free_port()
    log = tmp_path / "serve.log"
    with FakeSlack() as fake, log.open("w") as stderr:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": db_url,
            "SLACK_API_URL": fake.url,
            "SLACK_BOT_TOKEN": "xoxb-burst",
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SUPPORT_CHANNEL_ID": SUPPORT_CHANNEL,
            "SCHEDULER_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "PORT": str(port),
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stderr=stderr, text=True
        )
        try:
            wait_healthy(port, process)
            url = f"http://127.0.0.1:{port}/slack/events"
            yield ServedBot(fake, SlackSender(url, SIGNING_SECRET, timeout=30), db_url, log)
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert "unhandled" not in log.read_text(), log.read_text()[-3000:]


def assert_within_slacks_deadlines(fake: FakeSlack, sent: list[Sent]) -> None:
    assert [s.status for s in sent] == [200] * len(sent)
    slowest_ack = max(s.ack_seconds for s in sent)
    assert slowest_ack < SLACK_DEADLINE, f"slowest ack took {slowest_ack:.2f}s"
    lateness = modal_lateness(fake, sent)
    assert sorted(lateness) == sorted(s.trigger_id for s in sent), "one modal per trigger"
    late = sorted(round(v, 2) for v in lateness.values() if v >= SLACK_DEADLINE)
    assert not late, f"{len(late)} of {len(sent)} modals opened after their trigger expired: {late}"
    assert all(call.ok for call in fake.calls_to("views.open"))


def burst_on_slow_slack(bot: ServedBot, bodies: list[tuple[str, bytes]]) -> list[Sent]:
    """Send `bodies` at once, after one untimed warm-up, while each Web API call takes 2 s."""
    warm_up = new_trigger_id()
    assert bot.sender.post(slash_command_body("/support", trigger_id=warm_up), FORM)[0] == 200
    bot.fake.wait_for(lambda c: c.args.get("trigger_id") == warm_up)
    bot.fake.clear()
    bot.fake.response_delay = WEB_API_LATENCY
    try:
        return send_at_once(bot.sender, bodies)
    finally:
        bot.fake.response_delay = 0.0


def test_fifty_simultaneous_commands_are_all_acked_and_opened_in_time(served: ServedBot) -> None:
    users = ["UHEAD1", "UHEAD2", "UCOORD", "UNLE1", "USLE1"]
    bodies = []
    for n in range(AT_ONCE):
        trigger_id = new_trigger_id()
        text = ["", "maths help for year 6", "our SENCO is off, EHCPs due"][n % 3]
        body = slash_command_body(
            "/support", text, user_id=users[n % len(users)], trigger_id=trigger_id
        )
        bodies.append((trigger_id, body))
    sent = burst_on_slow_slack(served, bodies)
    assert_within_slacks_deadlines(served.fake, sent)


def offered_request(bot: ServedBot) -> dict[str, int]:
    """One request offered to supporters; returns the open offer id of each supporter."""
    engine = make_engine(bot.db_url)
    sessions = make_session_factory(engine)

    def rows() -> list[tuple[str, int]]:
        with sessions() as session:
            query = select(Person.slack_user_id, Offer.id).join(
                Offer, Offer.supporter_id == Person.id
            )
            return list(session.exec(query).all())

    def requested() -> bool:
        with sessions() as session:
            return session.exec(select(SupportRequest)).first() is not None

    try:
        bot.sender.event(
            message_event("UHEAD1", "SEND help please, EHCPs overdue", SUPPORT_CHANNEL)
        )
        wait_until(requested)
        bot.sender.interact(
            block_actions_payload("UHEAD1", "request_confirm", "1", channel_id=SUPPORT_CHANNEL)
        )
        wait_until(lambda: bool(rows()))
        return dict(rows())
    finally:
        engine.dispose()


def test_fifty_simultaneous_modal_clicks_are_all_acked_and_opened_in_time(
    served: ServedBot,
) -> None:
    offers = offered_request(served)
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
    sent = burst_on_slow_slack(served, bodies)
    assert_within_slacks_deadlines(served.fake, sent)
