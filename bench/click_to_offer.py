"""Click to first offer: from a head pressing *Find support* to the first offer DM reaching
Slack, at 10 / 10,000 / 100,000 supporters, against one hand-written ranking query.

The whole bot runs as in production (signed HTTP into the Bolt app, the outbox worker
delivering to the local fake Web API); the directory is generated in bulk first. The time is
on this process's monotonic clock: the click leaves, the fake notes the DM's arrival.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select, text
from sqlmodel import col

from bench.directory import _advance_sequences, _bulk, generate_directory
from bench.routing import BASELINE, analyze, fresh_engine, median_of
from bench.table import Row
from bot.core.clock import FixedClock, SystemClock
from bot.entry.stand_in import SlackWorld, running_world
from handlers.slack.stand_in.fake_slack import BOT_ID, BOT_USER_ID, Call
from handlers.slack.stand_in.signing import block_actions_payload
from storage.db import make_session_factory, transaction
from storage.models import (
    OutboxMessage,
    OutboxStatus,
    Person,
    PersonExpertise,
    PersonRole,
    RequestTag,
    SupportRequest,
)

GOAL = "≤ 2× the smallest at 10,000; linear beyond"
CARD_CHANNEL = "C0REQUESTS"


def _is_offer_dm(call: Call) -> bool:
    return (
        call.method == "chat.postMessage"
        and call.ok
        and str(call.args.get("channel", "")).startswith("U")
        and "offer_accept" in json.dumps(call.args.get("blocks") or [])
    )


def open_requests(engine: Engine, count: int) -> list[tuple[int, str]]:
    """`count` open requests by person 1, each for a tag a free supporter holds: (id, user)."""
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        tags = (
            session.execute(
                select(PersonExpertise.tag_slug)
                .join(Person, col(Person.id) == col(PersonExpertise.person_id))
                .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
                .where(
                    col(PersonRole.role).in_(["nle", "sle", "specialist"]),
                    col(Person.available).is_(True),
                    Person.capacity > 1,
                    col(Person.erased_at).is_(None),
                    Person.id != 1,
                )
                .order_by(PersonExpertise.person_id)
                .limit(count)
            )
            .scalars()
            .all()
        )
        head = session.get(Person, 1)
        assert tags and head is not None, "the generated directory has no free supporter"
        first = (session.execute(select(func.max(SupportRequest.id))).scalar_one() or 0) + 1
        wanted = [(first + n, tags[n % len(tags)]) for n in range(count)]
        _bulk(session, SupportRequest, [_open_request(i, now) for i, _ in wanted])
        _bulk(session, RequestTag, [{"request_id": i, "tag_slug": t} for i, t in wanted])
        _advance_sequences(session, ["support_request"])
        for request_id, _ in wanted:
            session.add(_posted_card(request_id, now))
    return [(i, head.slack_user_id) for i, _ in wanted]


def _posted_card(request_id: int, now: datetime) -> OutboxMessage:
    """The request's card as the bot would have posted it, so *Find support* edits it in
    place as in a live deployment (rather than owing an edit of a message never sent)."""
    return OutboxMessage(
        method="chat.postMessage",
        channel=CARD_CHANNEL,
        payload={"text": "A request"},
        ref=f"request:{request_id}:card",
        status=OutboxStatus.SENT,
        sent_channel=CARD_CHANNEL,
        sent_ts=_card_ts(request_id),
        sent_at=now,
        created_at=now,
        next_attempt_at=now,
    )


def _card_ts(request_id: int) -> str:
    return f"1700000000.{request_id:06d}"


def post_cards(world: SlackWorld, requests: list[tuple[int, str]]) -> None:
    """Put the requests' cards in the fake's channel, where the bot's edits will find them."""
    for request_id, _ in requests:
        world.fake.add_message(
            CARD_CHANNEL, "A request", user=BOT_USER_ID, ts=_card_ts(request_id), bot_id=BOT_ID
        )


def _open_request(request_id: int, now: datetime) -> dict:
    return {
        "id": request_id,
        "requester_id": 1,
        "title": "",
        "description": "",
        "urgency": "routine",
        "status": "open",
        "source": "cli",
        "awaiting_profile": False,
        "offer_round": 0,
        "created_at": now,
        "updated_at": now,
    }


def click_to_first_offer(world: SlackWorld, request_id: int, user: str) -> float:
    """Seconds from a *Find support* click leaving to its first offer DM reaching Slack."""
    world.fake.clear()
    start = time.monotonic()
    world.sender.interact(block_actions_payload(user, "request_confirm", str(request_id)))
    offers = world.fake.wait_for(_is_offer_dm, count=1, timeout=60)  # more may be in already
    elapsed = min(call.at for call in offers) - start
    world.settle(timeout=60)
    return elapsed


def time_click_to_offer(
    url: str | None, folder: str, size: int, repeats: int
) -> tuple[float, float]:
    """(click to first offer, the baseline ranking query), median seconds, one directory."""
    engine = fresh_engine(url, folder, f"c{size}")
    with transaction(make_session_factory(engine)) as session:
        generate_directory(session, size)
    requests = open_requests(engine, repeats)
    analyze(engine)
    with engine.connect() as connection:
        tag = connection.execute(text("SELECT tag_slug FROM request_tag LIMIT 1")).scalar_one()
        base = median_of(lambda: connection.execute(text(BASELINE), {"tag": tag}).all(), repeats)
    engine.dispose()
    env = {
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "DATABASE_URL": url or f"sqlite:///{folder}/c{size}.db",
        "SCHEDULER_ENABLED": "false",
        # As a deployment of this size would have: without it, a notice to coordinators
        # would be a DM to each of them, a sixth of the generated directory.
        "COORDINATOR_CHANNEL_ID": "G0COORDS",
    }
    with running_world(env, FixedClock(SystemClock().now())) as world:
        post_cards(world, requests)
        world.runtime.deliverer.start()
        try:
            real = statistics.median(click_to_first_offer(world, i, u) for i, u in requests)
        finally:
            world.runtime.deliverer.stop()
        _check_nothing_failed(world)
    return real, base


def _check_nothing_failed(world: SlackWorld) -> None:
    """A failed message means the run did work a live deployment wouldn't: not a figure."""
    with world.runtime.sessions() as session:
        failed = session.scalar(
            select(func.count()).where(col(OutboxMessage.status) == OutboxStatus.FAILED)
        )
    if failed:
        raise RuntimeError(f"click to offer: {failed} outbox messages failed")


def report_click_to_offer(
    sizes: list[int], *, postgres_url: str | None = None, repeats: int = 5
) -> list[Row]:
    """One row per database and size: click to first offer against the baseline query."""
    rows = []
    for label, url in [("SQLite", None), ("PostgreSQL", postgres_url)]:
        if label == "PostgreSQL" and url is None:
            continue
        first: float | None = None
        with tempfile.TemporaryDirectory() as folder:
            for size in sizes:
                real, base = time_click_to_offer(url, folder, size, repeats)
                first = first or real
                rows.append(
                    Row(
                        f"click to offer {size:,} ({label})",
                        real,
                        base,
                        "s",
                        GOAL,
                        f"{real / first:.1f}× the {sizes[0]:,} time; baseline one ranking query",
                    )
                )
    return rows
