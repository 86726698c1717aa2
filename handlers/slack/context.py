"""What the Slack adapter needs from the running bot, and how it opens a session: one unit
of work to change things, one read-only look-up to only read.

`bot.entry.runtime.Runtime` satisfies `SlackContext`; the adapter names only this protocol,
so it never imports the composition root above it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.context import Services
from bot.core.school_calendar import SchoolCalendar
from bot.core.vocabulary import Vocabulary
from storage.db import read_only, run_once, transaction

T = TypeVar("T")


class Outbox(Protocol):
    """Delivers owed messages; `kick` wakes it after a commit."""

    def kick(self) -> None:
        """Deliver what is owed soon, without waiting for the next tick."""
        ...


class SlackContext(Services, Protocol):
    """The services (settings, database, clock, context) plus the Slack client, the outbox,
    the vocabulary and the calendar."""

    replay_saved_events: Callable[[], int] | None

    @property
    def client(self) -> WebClient:
        """The Slack Web API client."""
        ...

    @property
    def deliverer(self) -> Outbox:
        """The outbox's deliverer."""
        ...

    @property
    def vocabulary(self) -> Vocabulary:
        """The expertise vocabulary."""
        ...

    @property
    def calendar(self) -> SchoolCalendar:
        """The school calendar."""
        ...


def unit_of_work(
    ctx: SlackContext,
    work: Callable[[Session], T],
    *,
    then_ack: Callable[[], Any] | None = None,
    retry_on_conflict: bool = False,
) -> T:
    """Run `work` in one transaction (committed on success, rolled back on error), then
    acknowledge, then kick the outbox so whatever the work owed is delivered.

    The adapter's way to change things (`look_up` only reads). With `then_ack`, Slack's
    200 goes out only after the commit: a 200 is a promise that the click or form is saved.
    With `retry_on_conflict`, a unique-constraint clash (a double click racing itself) runs
    the work once more, when it finds the row that won.
    """
    if retry_on_conflict:
        result = run_once(ctx.sessions, work)
    else:
        with transaction(ctx.sessions) as session:
            result = work(session)
    if then_ack is not None:
        then_ack()
    ctx.deliverer.kick()
    return result


def look_up(ctx: SlackContext, work: Callable[[Session], T]) -> T:
    """Run `work`, which only reads (what a modal shows when it opens), in a read-only
    session: on SQLite it never queues for the write lock behind other clicks, and since it
    owes nothing, the outbox is not kicked. Keeps the trigger's three seconds for Slack."""
    with read_only(ctx.sessions) as session:
        return work(session)
