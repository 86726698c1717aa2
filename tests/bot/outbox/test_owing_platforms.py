"""Owing on two platforms: each row names the platform of its address, an update follows
the message it edits, coordinators are told on each configured platform, and Slack's
deliverer never claims a Teams row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from sqlmodel import Session, select

from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from bot.outbox.notify import coordinator_targets, notify_coordinators
from bot.outbox.owing import owe_post, owe_update
from bot.reach.people import address_of
from handlers.slack.sender import Deliverer
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage, OutboxStatus, Person, PersonRole, Platform

TEAMS_ID = "6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f"
TEAMS = {
    "TEAMS_CLIENT_ID": "11111111-2222-4333-8444-555555555555",
    "TEAMS_CLIENT_SECRET": "s",
    "TEAMS_TENANT_ID": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
}
SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
TEAMS_CHANNEL = "19:coord@thread.tacv2"


def _rows(sessions: SessionFactory) -> list[tuple[str, str, str | None]]:
    with sessions() as session:
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        return [(row.platform, row.channel, row.update_of) for row in rows]


def _coordinator(session: Session, clock: FixedClock, slack: str | None, teams: str | None) -> None:
    person = Person(
        slack_user_id=slack,
        teams_user_id=teams,
        name="Coordinator",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    session.add(person)
    session.flush()
    session.add(PersonRole(person_id=person.id or 0, role="coordinator"))


def test_a_dm_goes_to_the_persons_platform(sessions: SessionFactory, clock: FixedClock) -> None:
    slack = Person(slack_user_id="U0NLE", name="N")
    teams = Person(teams_user_id=TEAMS_ID, name="H")
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel=address_of(slack), text="hi", ref="offer:1")
        owe_post(session, now=clock.now(), channel=address_of(teams), text="hi", ref="offer:2")
    assert _rows(sessions) == [("slack", "U0NLE", None), ("teams", TEAMS_ID, None)]


def test_an_update_goes_where_the_message_went(sessions: SessionFactory, clock: FixedClock) -> None:
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel=TEAMS_ID, text="offer", ref="offer:2")
        owe_post(session, now=clock.now(), channel="U0NLE", text="offer", ref="offer:1")
        owe_update(session, now=clock.now(), update_of="offer:2", text="taken")
        owe_update(session, now=clock.now(), update_of="offer:1", text="taken")
        owe_update(session, now=clock.now(), update_of="offer:never-owed", text="taken")
    assert _rows(sessions)[2:] == [
        ("teams", "", "offer:2"),
        ("slack", "", "offer:1"),
        ("slack", "", "offer:never-owed"),
    ]


def test_coordinators_hear_on_each_configured_platform(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    settings = load_settings(
        SLACK
        | TEAMS
        | {"COORDINATOR_CHANNEL_ID": "G0COORD", "TEAMS_COORDINATOR_CONVERSATION_ID": TEAMS_CHANNEL},
        env_file=None,
    )
    with transaction(sessions) as session:
        _coordinator(session, clock, "U0C1", None)
        _coordinator(session, clock, None, TEAMS_ID)
        owed = notify_coordinators(session, settings, now=clock.now(), text="news", ref="request:1")
        assert coordinator_targets(session, settings) == ["G0COORD", TEAMS_CHANNEL]
    assert owed == 2
    assert _rows(sessions) == [("slack", "G0COORD", None), ("teams", TEAMS_CHANNEL, None)]
    with transaction(sessions) as session:
        owe_update(session, now=clock.now(), update_of="request:1", text="later")
    assert sorted(_rows(sessions)[2:]) == [("slack", "", "request:1"), ("teams", "", "request:1")]


def test_a_coordinator_no_channel_reaches_is_written_to_directly(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    settings = load_settings(SLACK | TEAMS | {"COORDINATOR_CHANNEL_ID": "G0COORD"}, env_file=None)
    with transaction(sessions) as session:
        _coordinator(session, clock, "U0C1", None)
        _coordinator(session, clock, None, TEAMS_ID)
        owed = notify_coordinators(session, settings, now=clock.now(), text="news", ref="r:1")
        assert coordinator_targets(session, settings) == ["G0COORD", TEAMS_ID]
    assert owed == 2
    assert _rows(sessions) == [("slack", "G0COORD", None), ("teams", TEAMS_ID, None)]


def test_a_teams_channel_is_ignored_while_teams_is_not_configured(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    settings = load_settings(SLACK | {"COORDINATOR_CHANNEL_ID": "G0COORD"}, env_file=None)
    with transaction(sessions) as session:
        _coordinator(session, clock, "U0C1", None)
        assert notify_coordinators(session, settings, now=clock.now(), text="n") == 1
    assert _rows(sessions) == [("slack", "G0COORD", None)]


@pytest.fixture
def fake(clock: FixedClock) -> Iterator[FakeSlack]:
    with FakeSlack(clock=clock) as fake:
        yield fake


def test_slacks_deliverer_never_sends_a_teams_row(
    sessions: SessionFactory, clock: FixedClock, fake: FakeSlack
) -> None:
    with transaction(sessions) as session:
        owe_post(session, now=clock.now(), channel=TEAMS_ID, text="for Teams", ref="offer:2")
        owe_post(session, now=clock.now(), channel="U0NLE", text="for Slack", ref="offer:1")
    client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
    Deliverer(sessions, client, clock).drain()
    assert [call.args.get("text") for call in fake.calls] == ["for Slack"]
    with sessions() as session:
        statuses = {row.platform: row.status for row in session.exec(select(OutboxMessage)).all()}
    assert statuses == {Platform.SLACK: OutboxStatus.SENT, Platform.TEAMS: OutboxStatus.PENDING}
