"""Many people at once: send signed requests simultaneously and time Slack's deadlines.

Used by the concurrency tests and `bench/`. Every time is on this process's monotonic clock:
the sender notes when each request left and when its ack came back, and the fake Web API
notes when each `views.open` arrived (`Call.at`), so a modal's lateness is the second minus
the first. Slack allows 3 s for both.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from handlers.slack.stand_in.fake_slack import Call, FakeSlack
from handlers.slack.stand_in.signing import FORM, SlackSender

SLACK_DEADLINE = 3.0  # seconds for an ack, and for a trigger id to be used


@dataclass(frozen=True)
class Sent:
    """One request as the sender saw it: when it left, when the ack came, and its status."""

    trigger_id: str
    sent_at: float
    acked_at: float
    status: int

    @property
    def ack_seconds(self) -> float:
        """How long Slack would have waited for the acknowledgement."""
        return self.acked_at - self.sent_at


def send_at_once(sender: SlackSender, bodies: list[tuple[str, bytes]]) -> list[Sent]:
    """POST every form-encoded (trigger id, body) at the same moment, one thread each."""
    start = threading.Barrier(len(bodies))

    def send(item: tuple[str, bytes]) -> Sent:
        trigger_id, body = item
        start.wait()
        sent_at = time.monotonic()
        status, _, _ = sender.post(body, FORM)
        return Sent(trigger_id, sent_at, time.monotonic(), status)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(send, bodies))


def modal_lateness(fake: FakeSlack, sent: list[Sent], timeout: float = 60) -> dict[str, float]:
    """Seconds from each request leaving to its `views.open` reaching Slack, by trigger id.

    Waits for one `views.open` per request; raises AssertionError if they do not all come.
    """
    sent_at = {s.trigger_id: s.sent_at for s in sent}

    def ours(call: Call) -> bool:
        return call.method == "views.open" and call.args.get("trigger_id") in sent_at

    opened = fake.wait_for(ours, count=len(sent), timeout=timeout)
    return {call.args["trigger_id"]: call.at - sent_at[call.args["trigger_id"]] for call in opened}


def percentile(values: list[float], fraction: float) -> float:
    """The value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]
