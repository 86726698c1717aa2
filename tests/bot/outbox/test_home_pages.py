"""Home pages through the outbox: only the newest owed to a person is published, across a
crash too; rate limits and outages delay one, never lose it; one refused is not reported."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.outbox.owing import HOME_PUBLISH, owe_home
from handlers.slack.sender import LEASE
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage
from tests.bot.outbox.test_delivery import deliverer, rows


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as fake:
        yield fake


def page(text: str) -> dict[str, object]:
    """A tiny Home page saying `text`."""
    return {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


def owe_page(sessions: SessionFactory, clock: FixedClock, text: str, user: str = "USLE1") -> int:
    with transaction(sessions) as session:
        row = owe_home(session, now=clock.now(), user=user, page=page(text))
        session.flush()
        return row.id or 0


def shown(fake: FakeSlack, user: str = "USLE1") -> str:
    view = fake.home_view(user)
    assert view is not None
    return str(view["blocks"][0]["text"]["text"])


def test_a_newer_page_replaces_one_still_queued(sessions, fake, clock) -> None:
    owe_page(sessions, clock, "v1")
    owe_page(sessions, clock, "v2")
    owe_page(sessions, clock, "other", user="UNLE1")
    assert [
        (r.channel, r.payload["home"]["blocks"][0]["text"]["text"]) for r in rows(sessions)
    ] == [
        ("USLE1", "v2"),
        ("UNLE1", "other"),
    ]
    assert deliverer(sessions, fake, clock).drain().sent == 2
    assert [c.args["user_id"] for c in fake.calls_to("views.publish")] == ["USLE1", "UNLE1"]
    assert shown(fake) == "v2" and shown(fake, "UNLE1") == "other"


def test_a_page_claimed_by_a_process_that_died_is_not_published_over_a_newer_one(
    sessions, fake, clock
) -> None:
    old = owe_page(sessions, clock, "v1")
    with transaction(sessions) as session:  # claimed, then the process died mid-send
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == old)
            .values(status="sending", claim_token="dead", claimed_until=clock.now() + LEASE)
        )
    owe_page(sessions, clock, "v2")  # owed meanwhile: the claimed one can't be dropped
    assert len(rows(sessions)) == 2
    clock.advance(LEASE + timedelta(seconds=1))
    assert deliverer(sessions, fake, clock).drain().sent == 2
    assert [
        c.args["view"]["blocks"][0]["text"]["text"] for c in fake.calls_to("views.publish")
    ] == ["v2"]
    first, second = rows(sessions)
    assert (first.status, first.last_error) == ("sent", "superseded")
    assert (second.status, second.last_error) == ("sent", None)


def test_a_rate_limited_or_failed_publish_is_retried_then_sent_once(sessions, fake, clock) -> None:
    owe_page(sessions, clock, "v1")
    d = deliverer(sessions, fake, clock)
    fake.fail_next("views.publish", status=429, retry_after=7)
    assert d.drain().rate_limited == 1
    [row] = rows(sessions)
    assert row.status == "pending" and row.next_attempt_at == clock.now() + timedelta(seconds=7)
    clock.advance(seconds=7)
    fake.fail_next("views.publish", status=503)
    assert d.drain().retried == 1
    clock.advance(minutes=1)
    assert d.drain().sent == 1
    assert [c.status for c in fake.calls_to("views.publish")] == [429, 503, 200]
    assert shown(fake) == "v1"


def test_a_page_refused_for_good_is_not_reported_to_coordinators(sessions, fake, clock) -> None:
    owe_page(sessions, clock, "v1")
    fake.fail_next("views.publish", status=200, error="user_not_found")
    assert deliverer(sessions, fake, clock).drain().failed == 1
    with sessions() as session:
        owed = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(m.method, m.status) for m in owed] == [(HOME_PUBLISH, "failed")]
