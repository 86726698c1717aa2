"""Several real processes at once, and processes killed mid-work: nothing lost, nothing twice.

These start `python -m bot …` as subprocesses against one database and a FakeSlack in this
process, so they exercise exactly what a deployment runs.
"""

from __future__ import annotations

import io
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.directory.service import import_directory
from bot.outbox.delivery import LEASE as OUTBOX_LEASE
from bot.outbox.owing import owe_post
from handlers.slack.stand_in.fake_slack import FakeSlack
from handlers.slack.stand_in.signing import (
    SlackSender,
    block_actions_payload,
    message_event,
    new_event_id,
)
from storage.db import SessionFactory, make_engine, make_session_factory, transaction
from storage.models import (
    Deployment,
    InboundEvent,
    Offer,
    OutboxMessage,
    Person,
    SupportRequest,
)
from tests.support.checkin_world import make_world

ROOT = Path(__file__).resolve().parents[2]
SECRET = "robustness-secret"
SUPPORT = "C0SUPPORT"
DIRECTORY = (ROOT / "tests" / "fixtures" / "slack_directory.csv").read_text()

pytestmark = pytest.mark.slow


def bot_env(db_url: str, fake: FakeSlack, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": db_url,
        "SLACK_API_URL": fake.url,
        "SLACK_BOT_TOKEN": "xoxb-robust",
        "SLACK_SIGNING_SECRET": SECRET,
        "SUPPORT_CHANNEL_ID": SUPPORT,
        "COORDINATOR_CHANNEL_ID": "G0COORDS",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def run_bot(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def posted_ids(fake: FakeSlack) -> Counter[int]:
    """How many times Slack holds each outbox id (from message metadata)."""
    seen: Counter[int] = Counter()
    for channel in fake.channels():
        for message in fake.messages(channel):
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if "outbox_id" in payload:
                seen[int(payload["outbox_id"])] += 1
    return seen


def sessions_for(db_url: str) -> Iterator[SessionFactory]:
    engine = make_engine(db_url)
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture
def db_sessions(db_url: str) -> Iterator[SessionFactory]:
    yield from sessions_for(db_url)


def test_killed_mid_delivery_then_restarted_sends_each_message_once(
    db_url: str, db_sessions: SessionFactory
) -> None:
    start = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with FakeSlack(clock=FixedClock(start)) as fake:
        with transaction(db_sessions) as session:
            for n in range(24):
                owe_post(
                    session, now=start, channel=SUPPORT if n % 2 else f"UHEAD{n}", text=f"m{n}"
                )
        fake.response_delay = 0.15  # Slack has the message; the bot hasn't heard back yet
        env = bot_env(db_url, fake)
        first = run_bot("jobs", "run-due", "--now", start.isoformat(), env=env)
        fake.wait_for(lambda c: c.method == "chat.postMessage" and c.ok, count=6, timeout=60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL
        fake.response_delay = 0.0
        with db_sessions() as session:
            in_flight = [
                m.id
                for m in session.exec(
                    select(OutboxMessage).where(OutboxMessage.status == "sending")
                )
            ]
        assert in_flight, "the kill landed while a message was being sent"

        later = (start + timedelta(minutes=3)).isoformat()  # past the two-minute claim
        second = run_bot("jobs", "run-due", "--now", later, env=env)
        _, err = second.communicate(timeout=120)
        assert second.returncode == 0, err
        with db_sessions() as session:
            statuses = Counter(m.status for m in session.exec(select(OutboxMessage)))
        assert statuses == {"sent": 24}
        counts = posted_ids(fake)
        assert len(counts) == 24 and set(counts.values()) == {1}, counts


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited: {process.stderr.read() if process.stderr else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("serve did not become healthy")


def wait_until(check, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.fixture
def pg_sessions(postgres_url: str) -> Iterator[SessionFactory]:
    yield from sessions_for(postgres_url)


def test_two_servers_and_two_job_loops_do_everything_exactly_once(
    postgres_url: str, pg_sessions: SessionFactory
) -> None:
    db_url, db_sessions = postgres_url, pg_sessions
    report = import_directory(db_sessions, io.StringIO(DIRECTORY), now=datetime.now(UTC))
    assert report.ok
    with FakeSlack() as fake:
        ports = [free_port(), free_port()]
        servers = [
            run_bot("serve", env=bot_env(db_url, fake, PORT=str(port), SCHEDULER_ENABLED="true"))
            for port in ports
        ]
        loop = (
            "import time\nfrom bot.entry.cli import main\n"
            "for _ in range(200):\n    main(['jobs', 'run-due'])\n    time.sleep(0.05)\n"
        )
        loops = [
            subprocess.Popen(
                [sys.executable, "-c", loop],
                cwd=ROOT,
                env=bot_env(db_url, fake),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            for port, server in zip(ports, servers, strict=True):
                wait_healthy(port, server)
            senders = [
                SlackSender(
                    f"http://127.0.0.1:{p}/slack/events",
                    SECRET,
                    response_urls=fake.new_response_url,
                )
                for p in ports
            ]

            def both(send) -> None:  # type: ignore[no-untyped-def]
                threads = [threading.Thread(target=send, args=(s,)) for s in senders]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(timeout=30)

            # A burst of posts, each delivered to both copies (and once more under a new id).
            texts = [
                f"Request {n}: we need SEND support and help with EHCP reviews" for n in range(8)
            ]
            for n, text in enumerate(texts):
                event = message_event("UHEAD1" if n % 2 else "UHEAD2", text, SUPPORT)
                event_id = new_event_id()
                both(lambda s, e=event, i=event_id: s.event(e, event_id=i))
                senders[n % 2].event(event, event_id=new_event_id())
            with db_sessions() as session:
                wait_until(lambda: len(list(session.exec(select(SupportRequest)))) >= 8)
            time.sleep(1)
            with db_sessions() as session:
                requests = list(session.exec(select(SupportRequest)))
                heads = {p.id: p.slack_user_id for p in session.exec(select(Person))}
            assert len(requests) == 8

            # Each head double-clicks Find support, on both copies at once.
            for request in requests:
                value = str(request.id)
                user = heads[request.requester_id]
                both(
                    lambda s, u=user, v=value: s.interact(
                        block_actions_payload(u, "request_confirm", v, channel_id=SUPPORT)
                    )
                )

            def all_offered() -> bool:
                with db_sessions() as session:
                    return all(r.status != "open" for r in session.exec(select(SupportRequest)))

            wait_until(all_offered)
            with db_sessions() as session:
                offers = list(session.exec(select(Offer)))
            # Every supporter clicks Accept on every offer, on a random copy, all at once.
            clicks = []
            for offer in offers:
                user = heads[offer.supporter_id]
                payload = block_actions_payload(user, "offer_accept", str(offer.id))
                clicks.append((random.choice(senders), payload))
            threads = [threading.Thread(target=s.interact, args=(p,)) for s, p in clicks]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)

            def quiet() -> bool:
                with db_sessions() as session:
                    return not list(
                        session.exec(
                            select(OutboxMessage).where(
                                OutboxMessage.status.in_(("pending", "sending"))
                            )
                        )
                    )  # type: ignore[attr-defined]

            wait_until(quiet, timeout=120)
        finally:
            for process in servers + loops:
                process.send_signal(signal.SIGTERM)
            for process in servers + loops:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()

        with db_sessions() as session:
            requests = list(session.exec(select(SupportRequest)))
            deployments = list(session.exec(select(Deployment)))
            people = {p.id: p for p in session.exec(select(Person))}
            outbox = list(session.exec(select(OutboxMessage)))
        assert len(requests) == 8, "each post captured once"
        per_request = Counter(d.request_id for d in deployments if d.status == "active")
        assert all(n == 1 for n in per_request.values())
        per_supporter = Counter(d.supporter_id for d in deployments if d.status == "active")
        assert all(n <= people[s].capacity for s, n in per_supporter.items())
        accepted = [r for r in requests if r.status == "accepted"]
        assert len(accepted) == len(per_request) and accepted
        # Every message owed was posted exactly once.
        # (A reply to whoever acted is a post too when it had to go by DM: it then has a ts.)
        replies = ("response_url", "chat.postEphemeral")
        posts = [
            m
            for m in outbox
            if m.method == "chat.postMessage" or (m.method in replies and m.sent_ts)
        ]
        counts = posted_ids(fake)
        assert {m.id for m in posts} == set(counts), "every owed post reached Slack"
        assert set(counts.values()) == {1}, "and none twice"
        cards = [
            c
            for c in fake.calls_to("chat.postMessage")
            if c.ok and c.args.get("thread_ts") and "request_confirm" in str(c.args.get("blocks"))
        ]
        assert len(cards) == 8, "one card per request, whatever the retries"


def test_killed_mid_checkin_run_then_restarted_sends_each_checkin_once(
    engine: Engine, db_url: str, clock: FixedClock
) -> None:
    with make_world(engine, clock) as world:
        pairs = [
            ("UHEAD1", "USLE1"),
            ("UHEAD2", "USLE2"),
            ("UHEAD1", "USPEC1"),
            ("UHEAD2", "UNLE1"),
        ]
        deployments = [world.deploy(head=h, supporter=s) for h, s in pairs * 2]
        world.runtime.deliverer.drain()
        due = world.checkins(deployments[0])[0].due_at  # Monday 30 November, 09:30
        fake = world.fake
        fake.response_delay = 0.15
        env = bot_env(db_url, fake)
        first = run_bot("jobs", "run-due", "--now", due.isoformat(), env=env)
        fake.wait_for(
            lambda c: (
                c.method == "chat.postMessage"
                and c.ok
                and "How is the support going" in str(c.args.get("blocks"))
            ),
            count=4,
            timeout=60,
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        fake.response_delay = 0.0
        second = run_bot(
            "jobs", "run-due", "--now", (due + timedelta(minutes=3)).isoformat(), env=env
        )
        _, err = second.communicate(timeout=120)
        assert second.returncode == 0, err

        with world.runtime.sessions() as session:
            owed = list(
                session.exec(
                    select(OutboxMessage).where(OutboxMessage.method == "chat.postMessage")
                )
            )
        first_round = [c for d in deployments for c in world.checkins(d) if c.sequence == 1]
        assert {c.status for c in first_round} == {"sent"}
        checkin_dms = [m for m in owed if (m.ref or "").startswith("checkin:")]
        assert len(checkin_dms) == 2 * len(deployments), "one DM to each head and supporter"
        counts = posted_ids(fake)
        wrong = {m.id: (m.ref, counts[m.id]) for m in owed if counts[m.id] != 1}
        assert not wrong, f"every owed message posted exactly once: {wrong}"
        assert all(m.status == "sent" for m in owed)


def _serve(db_url: str, fake: FakeSlack, port: int) -> subprocess.Popen[str]:
    server = run_bot("serve", env=bot_env(db_url, fake, PORT=str(port), SCHEDULER_ENABLED="false"))
    wait_healthy(port, server)
    return server


def test_events_acknowledged_then_killed_are_all_handled_after_a_restart(
    db_url: str, db_sessions: SessionFactory
) -> None:
    """Post N messages, SIGKILL the server once it owes replies it has not sent, restart: N
    requests, N thread replies, none twice. The restarted copy's scheduler replays what the
    dead one left once its leases lapse; `jobs run-due`, run alongside the restarted copy with
    its clock just past every lease the dead copy took, stands in for that wait. (No further:
    a clock past the live copy's leases too would take over rows it is still sending, which
    no deployment's clocks do; with a backlog owed at the kill, that posted some twice.)"""
    posts = 20
    with FakeSlack() as fake:
        port = free_port()
        server = _serve(db_url, fake, port)
        # Slack is slow today (replies go out about one a second), and it stalls on the names
        # of the second half of the new heads, so their posts are still being handled at the
        # kill however fast the first half go (timing alone, 0.2 s and then 1 s a call, once
        # let every post be handled first on a loaded machine).
        fake.response_delay = 1.0
        stalled = {f"UNEW{n:02d}" for n in range(posts // 2, posts)}
        fake.hold(only=lambda method, args: method == "users.info" and args.get("user") in stalled)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", SECRET)
        events = [
            message_event(f"UNEW{n:02d}", f"Request {n}: we need SEND support, EHCPs due", SUPPORT)
            for n in range(posts)
        ]
        try:
            for event in events:
                assert sender.event(event, event_id=new_event_id())[0] == 200
            # Replies owed and not yet sent (posts go about one a second into the channel):
            # the restarted copy sends them while `jobs run-due` runs.
            wait_until(lambda: _unsent_replies(db_sessions) >= 2, timeout=60)
        finally:
            server.send_signal(signal.SIGKILL)
            server.wait(timeout=30)
        killed_at = datetime.now(UTC)  # every claim of the dead copy was taken before this
        with db_sessions() as session:
            saved = list(session.exec(select(InboundEvent)))
            captured_before = len(list(session.exec(select(SupportRequest))))
        assert len(saved) == posts, "every acknowledged post was saved before its 200"
        assert captured_before < posts, "the kill landed before every post was handled"

        fake.response_delay = 0.0
        fake.release()
        server = _serve(db_url, fake, port)
        try:
            # Past the dead copy's leases (the outbox's two minutes, the events' one), not
            # past any the restarted copy takes: it takes them all after `killed_at`.
            later = (killed_at + OUTBOX_LEASE).isoformat()
            _run_due(db_url, fake, later)
            # What `jobs run-due` owed (replaying the dead copy's events) it owed at its own
            # clock, `later`. If it left some unsent (they wait behind a message of the same
            # channel that the restarted copy was sending), the restarted copy would reach them
            # only when its clock does, two minutes on: another pass at `later` sends them.
            deadline = time.monotonic() + 120
            while _owed(db_sessions):
                assert time.monotonic() < deadline, "messages still owed after two minutes"
                time.sleep(0.5)
                _run_due(db_url, fake, later)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

        with db_sessions() as session:
            requests = list(session.exec(select(SupportRequest)))
            outcomes = Counter(e.outcome for e in session.exec(select(InboundEvent)))
        assert len(requests) == posts and outcomes == {"handled": posts}
        replies = Counter(
            c.args["thread_ts"]
            for c in fake.calls_to("chat.postMessage")
            if c.ok and c.args.get("thread_ts")
        )
        assert sorted(replies) == sorted(e["ts"] for e in events), "a reply to every post"
        assert set(replies.values()) == {1}, "and none twice"
        assert set(posted_ids(fake).values()) == {1}


def _run_due(db_url: str, fake: FakeSlack, now: str) -> None:
    due = run_bot("jobs", "run-due", "--now", now, env=bot_env(db_url, fake))
    _, err = due.communicate(timeout=180)
    assert due.returncode == 0, err


def _unsent_replies(db_sessions: SessionFactory) -> int:
    with db_sessions() as session:
        return len(
            session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending")).all()
        )


def _owed(db_sessions: SessionFactory) -> bool:
    with db_sessions() as session:
        return (
            session.exec(
                select(OutboxMessage).where(OutboxMessage.status.in_(("pending", "sending")))  # type: ignore[attr-defined]
            ).first()
            is not None
        )
