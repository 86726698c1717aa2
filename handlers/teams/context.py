"""What the Teams adapter needs from the running bot, and the one way its listeners open a
session: in a worker thread, so the event loop that also serves `/slack/events` never waits
on the database, and committed before the listener returns (so before the HTTP 200)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from bot.core.context import Services
from bot.core.vocabulary import Vocabulary
from handlers.teams.config import TeamsConfig
from storage.db import run_once

T = TypeVar("T")


class Outbox(Protocol):
    """Delivers owed messages; `kick` wakes it after a commit."""

    def kick(self) -> None:
        """Deliver what is owed soon, without waiting for the next tick."""
        ...


class TeamsServices(Services, Protocol):
    """The services plus the vocabulary and the outbox (`bot.entry.runtime.Runtime`)."""

    @property
    def vocabulary(self) -> Vocabulary:
        """The expertise vocabulary."""
        ...

    @property
    def deliverer(self) -> Outbox:
        """The outbox's deliverer."""
        ...


@dataclass
class TeamsContext:
    """The running bot's services and the Teams registration."""

    services: TeamsServices
    config: TeamsConfig


async def unit_of_work(ctx: TeamsContext, work: Callable[[Session], T]) -> T:
    """Run `work` in one transaction in a worker thread (once more if a unique constraint
    clashed with a racing copy of itself), then wake the outbox for what it owed."""
    result = await run_in_threadpool(run_once, ctx.services.sessions, work)
    ctx.services.deliverer.kick()
    return result
