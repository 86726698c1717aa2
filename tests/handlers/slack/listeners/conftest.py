"""Fast tests of single listeners: each named listener is called as Bolt calls it, with a
recording `ack`, a mock `WebClient` and a real database behind a `SlackContext`.

The signed-HTTP tests beside this folder drive the same functions through the real Bolt app;
these pin down each listener on its own: what it acknowledges, when, and what it saves.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest.mock import MagicMock

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from bot.directory.service import import_directory
from bot.entry.runtime import Runtime, build_runtime
from bot.requests.intake import submit_request
from bot.requests.views import Draft
from bot.routing.service import confirm_request
from storage.models import Offer, OutboxMessage, Person, SupportRequest
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL, DIRECTORY, SUPPORT_CHANNEL

HEAD, COORDINATOR = "UHEAD1", "UCOORD"


class CountingOutbox:
    """Stands in for the deliverer: counts the kicks (delivery is tested elsewhere)."""

    def __init__(self) -> None:
        self.kicks = 0

    def kick(self) -> None:
        """Count a kick."""
        self.kicks += 1


@dataclass
class Ack:
    """A recording `ack`; `check` runs at the moment of acknowledging (e.g. to see what was
    already committed then)."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    check: Any = None
    seen: list[Any] = field(default_factory=list)

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)
        if self.check is not None:
            self.seen.append(self.check())

    @property
    def once(self) -> dict[str, Any]:
        """The arguments of the only call (fails unless there was exactly one)."""
        assert len(self.calls) == 1, self.calls
        return self.calls[0]


@pytest.fixture
def ctx(engine: Engine, clock: FixedClock) -> Iterator[Runtime]:
    """A running bot's context with the Slack test directory, a mock client, a counting outbox."""
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SUPPORT_CHANNEL_ID": SUPPORT_CHANNEL,
            "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
            "SCHEDULER_ENABLED": "false",
        },
        env_file=None,
    )
    client = MagicMock(spec=WebClient)
    runtime = build_runtime(settings, clock=clock, client=client, engine=engine, prepare=False)
    runtime.deliverer = CountingOutbox()  # type: ignore[assignment]
    report = import_directory(runtime.sessions, io.StringIO(DIRECTORY), now=clock.now())
    assert report.ok, report.render()
    yield runtime


@pytest.fixture
def ack() -> Ack:
    """A recording ack."""
    return Ack()


@pytest.fixture
def client(ctx: Runtime) -> MagicMock:
    """The context's mock WebClient."""
    return ctx.client  # type: ignore[return-value]


def new_request(ctx: Runtime, *, offered: bool = True, head: str = HEAD) -> int:
    """A request from `head` about SEND and maths, offered to supporters unless told not to."""
    with ctx.sessions() as session:
        outcome = submit_request(
            session,
            ctx.settings,
            ctx.vocabulary,
            now=ctx.clock.now(),
            user=head,
            user_name="Hannah",
            draft=Draft(
                title="SENCO cover",
                description="Our SENCO is on leave and EHCP reviews are due.",
                tags=("send", "maths"),
            ),
            source="command",
            source_key=f"test:{head}:{ctx.clock.now().isoformat()}",
        )
        if offered:
            confirm_request(session, ctx.context(), actor=head, request_id=outcome.summary.id)
        session.commit()
        return outcome.summary.id


def offers_of(ctx: Runtime, request_id: int) -> list[tuple[int, str, str]]:
    """(offer id, supporter's Slack id, status) of a request's offers."""
    with ctx.sessions() as session:
        rows = session.exec(
            select(Offer.id, Person.slack_user_id, Offer.status)
            .join(Person, Person.id == Offer.supporter_id)  # type: ignore[arg-type]
            .where(Offer.request_id == request_id)
        ).all()
        return [(int(i), str(u), str(s)) for i, u, s in rows]


def request_status(ctx: Runtime, request_id: int) -> str:
    """The request's status as committed now."""
    with ctx.sessions() as session:
        request = session.get(SupportRequest, request_id)
        assert request is not None
        return request.status


def owed(ctx: Runtime) -> list[OutboxMessage]:
    """Every message owed so far."""
    with Session(ctx.engine) as session:
        return list(session.exec(select(OutboxMessage)).all())


def click(user: str, action_id: str, value: str = "", **extra: Any) -> dict[str, Any]:
    """A block_actions payload as Slack sends it for a click in a DM."""
    return {
        "type": "block_actions",
        "user": {"id": user, "name": user.lower()},
        "trigger_id": "trigger-1",
        "channel": {"id": "D0DM"},
        "actions": [{"action_id": action_id, "value": value, "block_id": "b", **extra}],
        **({"container": {"type": "message"}}),
    }


def submission(
    user: str, callback_id: str, values: dict[str, Any], metadata: str = ""
) -> dict[str, Any]:
    """A view_submission payload; `values` maps block ids to already-shaped element states."""
    return {
        "type": "view_submission",
        "user": {"id": user, "name": user.lower()},
        "view": {
            "id": "V1",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "state": {"values": {block: {"el": state} for block, state in values.items()}},
        },
    }
