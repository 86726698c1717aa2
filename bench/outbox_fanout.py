"""Fan-out: thousands of owed DMs delivered against a fake Web API that enforces a rate.

The fake answers 429 with `Retry-After` once `chat.postMessage` comes faster than `rate` a
second workspace-wide (or about one a second into one channel), after `latency` seconds a
call. Every tenth DM also owes a reply in its thread, so order per message is checked too.
The bot runs as it does in production: `OUTBOX_WORKERS` threads, paced per Slack tier.

A third run sets the bot to twice the fake's limit: the pause every worker takes after a
429 is then all that keeps the refusals few. The baseline is the allowed rate itself
(throughput is printed as a fraction of it), and a bare loop of slack_sdk calls against the
same fake in the same run (what one thread that waits for each answer manages). The crash
run SIGKILLs a delivering process half-way, restarts it once its claims have lapsed, and
counts every message posted exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine, func, select

from bench.routing import fresh_engine
from bench.table import Row, render
from bot.outbox.delivery import LEASE
from bot.outbox.owing import owe_post
from bot.outbox.pacing import Pacer
from bot.outbox.shared_pacing import SharedPacer
from handlers.slack.sender import Deliverer, SlackRates
from handlers.slack.stand_in.fake_slack import Call, FakeSlack, dm_channel_id
from storage.db import make_engine, make_session_factory, transaction
from storage.models import OutboxMessage, OutboxStatus

REPLY_EVERY = 10  # every tenth DM owes a reply in its thread


@dataclass(frozen=True)
class Fanout:
    """What one fan-out came to."""

    messages: int  # owed
    seconds: float  # from the first call Slack took to the last
    calls: int  # chat.postMessage calls, refused ones included
    refused: int  # answered 429
    lost: int
    duplicated: int
    out_of_order: int  # thread replies not posted after (and under) their parent
    in_doubt: int = 0  # history lookups before a re-send (after a crash)

    def fraction_of(self, rate: float) -> float:
        """Throughput as a fraction of `rate` messages a second."""
        return self.messages / self.seconds / rate if self.seconds > 0 else float("inf")


class AheadClock:
    """The real time plus `ahead` (a restart standing in for waiting out the lease)."""

    def __init__(self, ahead: timedelta) -> None:
        self.ahead = ahead

    def now(self) -> datetime:
        """Now, `ahead` later."""
        return datetime.now(UTC) + self.ahead


def owe_dms(engine: Engine, count: int) -> int:
    """Owe `count` DMs to distinct people (and a thread reply to every tenth): rows owed."""
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    owed = 0
    with transaction(sessions) as session:
        for n in range(count):
            user = f"U{n:07d}"
            owe_post(session, now=now, channel=user, text=f"Offer {n}", ref=f"dm:{n}")
            owed += 1
            if n % REPLY_EVERY == 0:
                owe_post(session, now=now, channel=user, text=f"More {n}", thread_of=f"dm:{n}")
                owed += 1
    return owed


def deliverer_for(
    engine: Engine, url: str, rate: float, workers: int, clock: object, *, shared: bool = True
) -> Deliverer:
    """The bot's deliverer as `build_runtime` makes it, against the fake at `url` (with
    `shared=False`, paced per process as before the limits were kept in the database)."""
    client = WebClient(token="xoxb-bench", base_url=url, retry_handlers=[])
    sessions = make_session_factory(engine)
    return Deliverer(
        sessions,
        client,
        clock,  # type: ignore[arg-type]  # any object with now() is a Clock
        rates=SlackRates(messages_per_second=int(rate)),
        pacer=SharedPacer(sessions) if shared else Pacer(),
        workers=workers,
    )


def owed_left(engine: Engine) -> int:
    """Rows still pending or being sent."""
    with make_session_factory(engine)() as session:
        return session.execute(
            select(func.count()).where(
                OutboxMessage.status.in_((OutboxStatus.PENDING, OutboxStatus.SENDING))  # type: ignore[attr-defined]
            )
        ).scalar_one()


def count_posts(fake: FakeSlack, owed: int) -> Fanout:
    """Lost, duplicated and out-of-order messages, from what the fake holds and was asked."""
    calls = fake.calls_to("chat.postMessage")
    taken = [c for c in calls if c.ok]
    ids = Counter(c.args["metadata"]["event_payload"]["outbox_id"] for c in taken)
    out_of_order = 0
    parents = {}
    for call in taken:
        if call.args.get("thread_ts"):
            parent = parents.get((dm_channel_id(call.args["channel"]), call.args["thread_ts"]))
            out_of_order += parent is None or parent > call.index
        else:
            parents[(call.response["channel"], call.response["ts"])] = call.index
    seconds = taken[-1].at - taken[0].at if len(taken) > 1 else 0.0
    return Fanout(
        messages=owed,
        seconds=seconds,
        calls=len(calls),
        refused=sum(c.status == 429 for c in calls),
        lost=owed - len(ids),
        duplicated=sum(n - 1 for n in ids.values()),
        out_of_order=out_of_order,
        in_doubt=len(fake.calls_to("conversations.history")),
    )


def fanout(
    dms: int,
    *,
    rate: float,
    latency: float,
    workers: int,
    postgres_url: str | None = None,
    bot_rate: float | None = None,
    copies: int = 1,
    shared: bool = True,
) -> Fanout:
    """Deliver `dms` DMs (plus replies) in the background, as `serve` does; what it came to.

    The bot paces itself to `bot_rate` (default: `rate`, the fake's limit). `copies` running
    copies deliver together, each with its own engine, as separate processes would."""
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        engine = fresh_engine(postgres_url, folder, "fanout")
        owed = owe_dms(engine, dms)
        fake.limit_rates({"chat.postMessage": rate}, per_channel=1.0)
        fake.response_delay = latency
        paced = bot_rate or rate
        url = engine.url.render_as_string(hide_password=False)
        engines = [engine, *(make_engine(url) for _ in range(copies - 1))]
        deliverers = [
            deliverer_for(each, fake.url, paced, workers, AheadClock(timedelta(0)), shared=shared)
            for each in engines
        ]
        for deliverer in deliverers:
            deliverer.start()
        try:
            for deliverer in deliverers:
                deliverer.kick()
            while owed_left(engine):
                time.sleep(0.2)
        finally:
            for deliverer in deliverers:
                deliverer.stop()
            for each in engines:
                each.dispose()
        return count_posts(fake, owed)


def bare_loop(calls: int, *, rate: float, latency: float) -> float:
    """Messages a second of one thread posting with slack_sdk against the same fake."""
    with FakeSlack() as fake:
        fake.limit_rates({"chat.postMessage": rate}, per_channel=1.0)
        fake.response_delay = latency
        client = WebClient(token="xoxb-bench", base_url=fake.url, retry_handlers=[])
        start = time.perf_counter()
        sent = 0
        while sent < calls:
            try:
                client.chat_postMessage(channel=f"U{sent:07d}", text="hello")
                sent += 1
            except SlackApiError:
                time.sleep(1.0)  # the loop honours Retry-After too
        return calls / (time.perf_counter() - start)


def _deliver_process(
    db_url: str, fake_url: str, rate: float, workers: int, ahead: float
) -> subprocess.Popen[bytes]:
    argv = [db_url, fake_url, str(rate), str(workers), str(ahead)]
    return subprocess.Popen(
        [sys.executable, "-m", "bench.outbox_fanout", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def crash_and_restart(
    dms: int, *, rate: float, latency: float, workers: int, postgres_url: str | None = None
) -> Fanout:
    """Deliver in a child process, SIGKILL it half-way, restart it with the leases lapsed."""
    with tempfile.TemporaryDirectory() as folder, FakeSlack() as fake:
        engine = fresh_engine(postgres_url, folder, "crash")
        db_url = engine.url.render_as_string(hide_password=False)
        owed = owe_dms(engine, dms)
        fake.limit_rates({"chat.postMessage": rate}, per_channel=1.0)
        fake.response_delay = latency
        child = _deliver_process(db_url, fake.url, rate, workers, 0)
        try:
            fake.wait_for(_post_taken, count=owed // 2, timeout=300)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        ahead = (LEASE + timedelta(seconds=30)).total_seconds()
        restarted = _deliver_process(db_url, fake.url, rate, workers, ahead)
        restarted.wait(timeout=600)
        engine.dispose()
        return count_posts(fake, owed)


def _post_taken(call: Call) -> bool:
    return call.method == "chat.postMessage" and call.ok


GOAL_RATE = "≥ 0.9× the allowed rate, < 5 % 429s, 0 lost or duplicated"


def report_fanout(
    dms: int = 5000,
    *,
    slow_dms: int = 500,
    crash_dms: int = 600,
    over_dms: int = 1000,
    workers: int = 4,
    postgres_url: str | None = None,
) -> list[Row]:
    """Rows for `python -m bench`: fan-out at 30/s, at 10/s on a slow Slack, with the bot
    set faster than Slack allows (only the 429 pause keeps it in line), a crash, and two
    running copies each set to the whole rate (their limits shared through the database)."""
    fast = fanout(dms, rate=30, latency=0.0, workers=workers, postgres_url=postgres_url)
    slow = fanout(slow_dms, rate=10, latency=0.2, workers=workers, postgres_url=postgres_url)
    bare = bare_loop(min(slow_dms, 50), rate=10, latency=0.2)
    over = fanout(over_dms, rate=30, latency=0.0, workers=workers, bot_rate=60)
    pair = fanout(
        over_dms, rate=30, latency=0.0, workers=workers, postgres_url=postgres_url, copies=2
    )
    pair_before = fanout(
        over_dms,
        rate=30,
        latency=0.0,
        workers=workers,
        postgres_url=postgres_url,
        copies=2,
        shared=False,
    )
    crash = crash_and_restart(
        crash_dms, rate=30, latency=0.2, workers=workers, postgres_url=postgres_url
    )
    return [
        _rate_row(f"outbox fan-out, {dms} DMs", fast, 30, "allowed 30/s"),
        _rate_row(
            "outbox at 200 ms, 10/s", slow, 10, f"allowed 10/s; a bare slack_sdk loop {bare:.1f}/s"
        ),
        _rate_row(
            "outbox set to 2x Slack's 30/s", over, 30, "SLACK_MESSAGES_PER_SECOND=60, Slack 30/s"
        ),
        Row(
            "outbox killed and restarted",
            measured=crash.messages - crash.lost - crash.duplicated,
            baseline=crash.messages,
            unit="msgs",
            goal="every message exactly once",
            note=f"{_counts(crash)}; {crash.in_doubt} in doubt, found in history",
        ),
        _rate_row(
            "outbox, two copies, shared limits",
            pair,
            30,
            "allowed 30/s; each copy set to 30/s; "
            f"per-process buckets instead: {pair_before.fraction_of(30) * 30:.1f}/s, "
            f"{pair_before.refused} of {pair_before.calls} calls 429",
        ),
    ]


def _rate_row(name: str, run: Fanout, rate: float, baseline: str) -> Row:
    return Row(
        name,
        measured=run.fraction_of(rate) * rate,
        baseline=rate,
        unit="msg/s",
        goal=GOAL_RATE,
        note=f"baseline = {baseline}; {_counts(run)}",
    )


def _counts(run: Fanout) -> str:
    share = 100 * run.refused / max(run.calls, 1)
    return (
        f"{run.refused} of {run.calls} calls 429 ({share:.1f} %); lost {run.lost}, "
        f"duplicated {run.duplicated}, out of order {run.out_of_order}"
    )


def _deliver_until_done(
    db_url: str, fake_url: str, rate: float, workers: int, ahead: float
) -> None:
    """The child process: deliver everything owed, then exit."""
    engine = make_engine(db_url)
    deliverer = deliverer_for(engine, fake_url, rate, workers, AheadClock(timedelta(seconds=ahead)))
    while owed_left(engine):
        deliverer.drain(limit=1000)
        time.sleep(0.05)


if __name__ == "__main__":
    if len(sys.argv) == 6:
        db, url, per_second, threads, seconds_ahead = sys.argv[1:]
        _deliver_until_done(db, url, float(per_second), int(threads), float(seconds_ahead))
    else:
        print(render(report_fanout(int(os.environ.get("BENCH_FANOUT", "5000")))))
