"""A claim never lapses mid-send: each paced call first renews it, and a send whose claim
another copy has taken is abandoned, so two copies never both post one message."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import update
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.outbox.owing import owe_post
from bot.outbox.pacing import Limit, Pacer
from handlers.slack.sender import LEASE, Deliverer
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as fake:
        yield fake


class BusyWorkspace(Pacer):
    """Slack's limits are busy: each call waits (at most the 20 s a worker waits), then
    something else happens (`meanwhile`)."""

    def __init__(
        self, clock: FixedClock, meanwhile: Callable[[], None], waits: list[float] | None = None
    ) -> None:
        super().__init__()
        self.clock, self.meanwhile, self.waits = clock, meanwhile, waits or []

    def acquire(self, limits: Iterable[Limit], *, max_wait: float = 30.0) -> float:
        wait = self.waits.pop(0) if self.waits else max_wait
        self.clock.advance(seconds=wait)
        self.meanwhile()
        return wait


class SlowSlack(WebClient):
    """Every Web API call takes a second."""

    def __init__(self, fake: FakeSlack, clock: FixedClock) -> None:
        super().__init__(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        self.clock = clock

    def api_call(self, api_method: str, **kwargs: Any) -> Any:
        self.clock.advance(seconds=1)
        return super().api_call(api_method, **kwargs)


def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])


def dm_in_doubt(sessions: SessionFactory, clock: FixedClock) -> int:
    """An offer DM a dead process was sending (Slack never got it): in doubt once claimed."""
    with transaction(sessions) as session:
        dm = owe_post(session, now=clock.now(), channel="UHEAD1", text="You have an offer")
        session.flush()
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == dm.id)  # type: ignore[arg-type]  # a column
            .values(status="sending", claim_token="dead", attempts=1, claimed_until=clock.now())
        )
        assert dm.id is not None
        return dm.id


def test_a_slow_send_in_doubt_keeps_its_claim_so_another_copy_cannot_post_too(
    sessions, fake, clock
) -> None:
    with transaction(sessions) as session:
        for n in range(3):
            owe_post(session, now=clock.now(), channel=f"C0NOTICE{n}", text="earlier notice")
    dm_in_doubt(sessions, clock)
    clock.advance(seconds=1)
    other_copy = Deliverer(sessions, client(fake), clock)
    # Three notices take 57 s of the two-minute claim, so the DM starts inside the margin;
    # its calls (open, history, post) then take 63 s, while the other copy keeps draining.
    busy = BusyWorkspace(clock, other_copy.drain, waits=[19, 19, 19])
    Deliverer(sessions, SlowSlack(fake, clock), clock, pacer=busy).drain()
    assert [m["text"] for m in fake.messages("UHEAD1")] == ["You have an offer"]


def test_a_send_whose_claim_was_taken_is_abandoned(sessions, fake, clock) -> None:
    message_id = dm_in_doubt(sessions, clock)
    clock.advance(seconds=1)

    def taken_by_another_copy() -> None:
        clock.advance(LEASE)  # this process stalled past its lease, and another copy claimed
        with transaction(sessions) as session:
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == message_id)  # type: ignore[arg-type]  # a column
                .values(claim_token="another copy", claimed_until=clock.now() + LEASE)
            )

    report = Deliverer(
        sessions, client(fake), clock, pacer=BusyWorkspace(clock, taken_by_another_copy)
    ).drain()
    assert (report.sent, fake.calls_to("chat.postMessage")) == (0, [])
    with sessions() as session:
        row = session.exec(select(OutboxMessage)).one()
    assert (row.status, row.claim_token) == ("sending", "another copy"), "left to its owner"
