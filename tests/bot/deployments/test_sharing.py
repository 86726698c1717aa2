"""The deployment summary as a message (for Teams, where a bot sends no file without a consent
round trip): the same record in a few escaped paragraphs, only to the people entitled to it,
owed through the outbox and audited."""

from __future__ import annotations

from sqlmodel import col, select

from bot.core.errors import NotAllowed
from bot.core.messages import decode_view
from bot.deployments.sharing import share_summary, summary_paragraphs
from storage.models import AuditEntry, OutboxMessage
from tests.bot.deployments.test_record import (  # noqa: F401  (fixtures)
    HEAD,
    act,
    closed,
    records,
    world,
)
from tests.support.checkin_world import World

STRANGER = "UHEAD2"


def test_the_paragraphs_hold_the_record_escaped(
    world: World,  # noqa: F811 (the fixtures of test_record)
    closed: int,  # noqa: F811
) -> None:
    [record] = records(world)
    text = "\n".join(summary_paragraphs(record))
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "*Met*" in text and "*Good progress*" in text and "In place" in text
    assert "2.5 days of 4 days committed" in text
    assert "Mere Green Primary School (URN 103413)" in text
    assert "head: Continue" in text and "Governors are pleased" in text


def test_the_summary_is_owed_to_whoever_asked_and_audited(
    world: World,  # noqa: F811 (the fixtures of test_record)
    closed: int,  # noqa: F811
) -> None:
    told = act(world, share_summary, actor=HEAD, deployment_id=closed)
    assert "sent you the summary" in told
    with world.runtime.sessions() as session:
        [owed] = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.channel == HEAD)
            .order_by(col(OutboxMessage.id).desc())
            .limit(1)
        ).all()
        audited = session.exec(
            select(AuditEntry).where(AuditEntry.action == "deployment.summary_sent")
        ).all()
    view = decode_view(owed.payload["view"])
    assert any("Train the SENCO" in p for p in view.paragraphs)
    assert f"deployments summary {closed}" in view.paragraphs[-1]
    assert len(audited) == 1 and audited[0].detail.get("form") == "message"


def test_anyone_else_is_refused_and_nothing_is_owed(
    world: World,  # noqa: F811 (the fixtures of test_record)
    closed: int,  # noqa: F811
) -> None:
    try:
        act(world, share_summary, actor=STRANGER, deployment_id=closed)
    except NotAllowed as refused:
        assert "Only the school's head" in refused.message
    else:
        raise AssertionError("a stranger was sent the summary")
    with world.runtime.sessions() as session:
        to_stranger = session.exec(
            select(OutboxMessage).where(OutboxMessage.channel == STRANGER)
        ).all()
    assert to_stranger == []
