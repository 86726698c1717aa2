"""Many `/support` commands at once on a slow Slack: the bot against a bare Bolt app.

Both are served the same way (our Starlette app under uvicorn, the same listener-pool size)
against the same fake Web API answering every call after `latency` seconds. The bare app's
one listener acks and calls `views.open` with a tiny modal; the bot drafts the request and
builds its real form. The ratios show what the bot adds to Bolt's own cost under a burst.
"""

from __future__ import annotations

import statistics
import tempfile
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bench.burst import SLACK_DEADLINE, Sent, modal_lateness, percentile, send_at_once
from bench.table import Row
from bot.core.clock import FixedClock, SystemClock
from bot.entry.stand_in import SIGNING_SECRET, running_world, start_server
from bot.entry.web import create_web_app
from handlers.slack.app import listener_pool
from handlers.slack.front_door import slack_events_endpoint
from handlers.slack.stand_in.fake_slack import FakeSlack
from handlers.slack.stand_in.signing import SlackSender, new_trigger_id, slash_command_body

TINY_MODAL = {
    "type": "modal",
    "title": {"type": "plain_text", "text": "Support"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Hello"}}],
}


@dataclass(frozen=True)
class Burst:
    """What one burst of simultaneous commands cost: ack times and modal lateness."""

    ack_p50: float
    ack_p99: float
    late_p99: float
    late_count: int
    failed: int


def bare_bolt_app(fake: FakeSlack, threads: int) -> App:
    """A Bolt app with one `/support` listener that acks and opens a tiny modal."""
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(token="xoxb-bench", base_url=fake.url),
        token_verification_enabled=False,
        listener_executor=listener_pool(threads),
    )

    @app.command("/support")
    def on_support(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=TINY_MODAL)

    return app


def burst(sender: SlackSender, fake: FakeSlack, at_once: int, latency: float) -> Burst:
    """Send `at_once` /support commands together while Slack answers after `latency` s."""
    bodies = []
    for n in range(at_once):
        trigger_id = new_trigger_id()
        text = "our SENCO is off and EHCP reviews are due" if n % 2 else ""
        bodies.append((trigger_id, slash_command_body("/support", text, trigger_id=trigger_id)))
    fake.clear()
    fake.response_delay = latency
    try:
        sent: list[Sent] = send_at_once(sender, bodies)
        late = list(modal_lateness(fake, [s for s in sent if s.status == 200]).values())
    finally:
        fake.response_delay = 0.0
    acks = [s.ack_seconds for s in sent]
    return Burst(
        ack_p50=percentile(acks, 0.5),
        ack_p99=percentile(acks, 0.99),
        late_p99=percentile(late, 0.99) if late else float("inf"),
        late_count=sum(1 for v in late if v >= SLACK_DEADLINE),
        failed=sum(1 for s in sent if s.status != 200),
    )


def median_burst(bursts: list[Burst]) -> Burst:
    """Each figure's median over the bursts (the counts: the worst, so none is hidden)."""
    return Burst(
        ack_p50=statistics.median(b.ack_p50 for b in bursts),
        ack_p99=statistics.median(b.ack_p99 for b in bursts),
        late_p99=statistics.median(b.late_p99 for b in bursts),
        late_count=max(b.late_count for b in bursts),
        failed=max(b.failed for b in bursts),
    )


def measure(at_once: int = 50, latency: float = 0.2, repeats: int = 3) -> tuple[Burst, Burst]:
    """(the bot, the bare Bolt app): medians of `repeats` bursts each, interleaved, this run."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "SCHEDULER_ENABLED": "false",
        }
        with running_world(env, FixedClock(SystemClock().now())) as world:
            threads = world.runtime.settings.slack_listener_threads
            app = bare_bolt_app(world.fake, threads)
            server, thread, port = start_server(
                create_web_app(
                    world.runtime,
                    slack_events_endpoint(app, world.runtime.settings.slack_signing_secret),
                )
            )
            bare_sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
            real: list[Burst] = []
            bare: list[Burst] = []
            try:
                for _ in range(repeats):
                    bare.append(burst(bare_sender, world.fake, at_once, latency))
                    real.append(burst(world.sender, world.fake, at_once, latency))
                    world.settle(timeout=60)
            finally:
                server.should_exit = True
                thread.join(timeout=10)
    return median_burst(real), median_burst(bare)


def report_burst(at_once: int = 50, latency: float = 0.2, repeats: int = 3) -> list[Row]:
    """Ack p50/p99 and views.open lateness under a burst, against the bare Bolt app."""
    real, bare = measure(at_once, latency, repeats)
    what = f"{at_once} /support at once, Slack at {latency * 1000:g} ms a call"
    late = (
        f"past 3 s: bot {real.late_count + real.failed}/{at_once}, "
        f"bare {bare.late_count + bare.failed}/{at_once}"
    )
    return [
        Row("burst: ack p50", real.ack_p50, bare.ack_p50, "s", "≤ 2× bare Bolt", what),
        Row("burst: ack p99", real.ack_p99, bare.ack_p99, "s", "≤ 2× bare Bolt, < 3 s", what),
        Row("burst: views.open late p99", real.late_p99, bare.late_p99, "s", "< 3 s", late),
    ]
