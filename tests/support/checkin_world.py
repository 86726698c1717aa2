"""A bot without Slack's front door for check-in and digest tests: the real runtime on a test
database and a fixed clock, its outbox delivered to a `FakeSlack`, and the directory loaded."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.settings import load_settings
from bot.directory.service import import_directory
from bot.entry.jobs import run_due
from bot.entry.runtime import Runtime, build_runtime
from bot.requests.intake import submit_request
from bot.requests.views import Draft
from bot.routing.service import assign_request, confirm_request
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import transaction
from storage.models import CheckIn, Deployment, Person

DIRECTORY = (Path(__file__).parents[1] / "fixtures" / "slack_directory.csv").read_text()
COORDINATOR_CHANNEL = "G0COORDS"
_keys = itertools.count(1)


@dataclass
class World:
    """The runtime, its clock and the fake Slack its messages go to."""

    runtime: Runtime
    clock: FixedClock
    fake: FakeSlack

    def at(self, when: datetime) -> dict[str, int]:
        """Move the clock to `when` and run the due work, as the scheduler would."""
        self.clock.set(when)
        return run_due(self.runtime)

    def request(
        self,
        *,
        head: str = "UHEAD1",
        head_name: str | None = None,
        tags: tuple[str, ...] = ("send",),
        school: str = "Mere Green Primary School",
        confirm: bool = False,
    ) -> int:
        """A request from `head` through the modal (sent out to supporters if `confirm`)."""
        runtime = self.runtime
        with transaction(runtime.sessions) as session:
            outcome = submit_request(
                session,
                runtime.settings,
                runtime.vocabulary,
                now=self.clock.now(),
                user=head,
                user_name=head_name or head,
                draft=Draft(
                    title="Support please",
                    description="Our SENCO has left and reviews are due.",
                    tags=tags,
                    school_name=school,
                ),
                source="command",
                source_key=f"test:{next(_keys)}",
            )
            if confirm:
                confirm_request(
                    session, runtime.context(), actor=head, request_id=outcome.summary.id
                )
            return outcome.summary.id

    def assign(self, request_id: int, supporter: str) -> int:
        """A coordinator assigns the request to `supporter`; returns the deployment id."""
        with transaction(self.runtime.sessions) as session:
            deployment = assign_request(
                session,
                self.runtime.context(),
                actor="UCOORD",
                request_id=request_id,
                supporter_slack_id=supporter,
            )
            session.flush()
            return deployment.id or 0

    def deploy(self, *, supporter: str = "USLE1", **request: Any) -> int:
        """A request (see `request`) assigned to `supporter`; returns the deployment id."""
        return self.assign(self.request(**request), supporter)

    def checkins(self, deployment_id: int) -> list[CheckIn]:
        """The deployment's check-ins in order."""
        with self.runtime.sessions() as session:
            return list(
                session.exec(
                    select(CheckIn)
                    .where(CheckIn.deployment_id == deployment_id)
                    .order_by(CheckIn.sequence)
                )
            )

    def deployment(self, deployment_id: int) -> Deployment:
        with self.runtime.sessions() as session:
            found = session.get(Deployment, deployment_id)
            assert found is not None
            return found

    def person_id(self, slack_id: str) -> int:
        with self.runtime.sessions() as session:
            person = session.exec(select(Person).where(Person.slack_user_id == slack_id)).one()
            return person.id or 0

    def dms(self, user: str, action_id: str | None = None) -> list[dict[str, Any]]:
        """Messages in the bot's DM with `user` (optionally only those with `action_id`)."""
        messages = self.fake.messages(user)
        if action_id is None:
            return messages
        return [m for m in messages if action_id in str(m.get("blocks"))]


def world_settings(fake: FakeSlack, **env: str) -> Any:
    """Settings for a bot talking to `fake`, with extra environment `env`."""
    return load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": fake.url,
            "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
            "SCHEDULER_ENABLED": "false",
            **env,
        },
        env_file=None,
    )


@contextmanager
def make_world(
    engine: Engine, clock: FixedClock, *, directory: str = DIRECTORY, **env: str
) -> Iterator[World]:
    """A world on `engine` with the directory imported (people in it since `clock`)."""
    with FakeSlack(clock=clock) as fake:
        runtime = build_runtime(
            world_settings(fake, **env), clock=clock, engine=engine, prepare=False
        )
        report = import_directory(runtime.sessions, io.StringIO(directory), now=clock.now())
        assert report.ok, report.render()
        yield World(runtime=runtime, clock=clock, fake=fake)


def act(world: World, service: Callable[..., Any], **kwargs: Any) -> Any:
    """Call a service in one transaction as of the world's clock, then deliver."""
    with transaction(world.runtime.sessions) as session:
        result = service(session, world.runtime.context(), **kwargs)
    world.runtime.deliverer.drain()
    return result


def utc(*args: int) -> datetime:
    """A UTC datetime."""
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]
