"""One directory, two platforms, through the core: a head on Teams asks, a supporter on Slack
and one on Teams are offered it, the one on Teams accepts; every message is owed on the
platform of the person (or channel) it is for. On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.context import ServiceContext
from bot.core.school_calendar import load_calendar
from bot.core.settings import Settings, load_settings
from bot.core.vocabulary import default_vocabulary
from bot.directory.service import COLUMNS, import_directory
from bot.requests.intake import submit_request
from bot.requests.views import Draft
from bot.routing.service import accept_offer, confirm_request
from storage.db import SessionFactory, transaction
from storage.models import Deployment, Offer, OutboxMessage, Person

HEAD = "6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f"  # on Teams only
SLE = "0b7e4c3a-1111-4222-8333-944455556666"  # on Slack and Teams, prefers Teams
TEAMS_CHANNEL = "19:coordinators@thread.tacv2"
DIRECTORY = "\n".join(
    [
        ",".join(COLUMNS),
        f",Hannah Head,,head,Mere Green Primary School,103413,primary,West Midlands,,1,{HEAD},",
        "UNLE1,Nadia Leader,,nle,Oak Hill Primary School,103500,primary,West Midlands,send,2,,",
        "USLE1,Sam Specialist,,sle,Birch Primary School,103600,primary,West Midlands,send,1,"
        f"{SLE},teams",
        "UCOORD,Cora Ordinator,,coordinator,,,,,,1,,",
    ]
)


@pytest.fixture
def settings() -> Settings:
    return load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": "s",
            "COORDINATOR_CHANNEL_ID": "G0COORDS",
            "TEAMS_CLIENT_ID": "11111111-2222-4333-8444-555555555555",
            "TEAMS_CLIENT_SECRET": "s",
            "TEAMS_TENANT_ID": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
            "TEAMS_COORDINATOR_CONVERSATION_ID": TEAMS_CHANNEL,
        },
        env_file=None,
    )


def _messages(sessions: SessionFactory, since: int = 0) -> list[OutboxMessage]:
    with sessions() as session:
        return list(
            session.exec(
                select(OutboxMessage).where(OutboxMessage.id > since).order_by(OutboxMessage.id)
            )
        )


def test_a_teams_head_is_supported_by_whoever_accepts_on_either_platform(
    sessions: SessionFactory, clock: FixedClock, settings: Settings
) -> None:
    vocabulary = default_vocabulary()
    assert import_directory(sessions, io.StringIO(DIRECTORY + "\n"), now=clock.now()).ok
    ctx = ServiceContext(settings, vocabulary, load_calendar(settings), clock.now())
    with transaction(sessions) as session:
        outcome = submit_request(
            session,
            settings,
            vocabulary,
            now=clock.now(),
            user=HEAD,
            user_name="Hannah Head",
            draft=Draft(title="SEND review", description="Our SENCO has left.", tags=("send",)),
            source="command",
            source_key="teams:test:1",
            private=True,
        )
        request_id = outcome.summary.id
        assert outcome.summary.requester == HEAD
        confirm_request(session, ctx, actor=HEAD, request_id=request_id)

    owed = _messages(sessions)
    offers = {m.channel: m.platform for m in owed if (m.ref or "").startswith("offer:")}
    assert offers == {"UNLE1": "slack", SLE: "teams"}
    assert {m.platform for m in owed if m.channel == HEAD} == {"teams"}  # the head's card
    assert all(m.platform == "slack" for m in owed if m.channel.startswith(("U", "G")))
    last = owed[-1].id or 0

    with sessions() as session:
        sle = session.exec(select(Person).where(Person.slack_user_id == "USLE1")).one()
        offer = session.exec(select(Offer).where(Offer.supporter_id == sle.id)).one()
    with transaction(sessions) as session:
        accept_offer(session, ctx, actor=SLE, offer_id=offer.id or 0)  # pressed in Teams

    with sessions() as session:
        [deployment] = session.exec(select(Deployment)).all()
        assert deployment.supporter_id == sle.id
    after = _messages(sessions, since=last)
    by_platform = Counter(m.platform for m in after)
    assert by_platform["teams"] and by_platform["slack"]
    posted_on = {(m.ref, m.platform) for m in owed + after if m.ref}
    for message in after:
        if message.update_of:  # an edit goes where the message it edits went
            assert (message.update_of, message.platform) in posted_on, message.update_of
        elif message.channel:
            expected = "slack" if message.channel[:1] in ("U", "G", "C") else "teams"
            assert message.platform == expected, message.channel
    assert {TEAMS_CHANNEL, "G0COORDS"} <= {m.channel for m in after}  # both coordinator channels
    assert any(m.channel == HEAD for m in after)  # the head hears, on Teams
