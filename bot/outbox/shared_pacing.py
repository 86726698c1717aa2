"""Rate limits shared by every running copy of the bot, kept in the database.

`Pacer` counts one process's sends; two copies each sending at Slack's full rate would
together send at twice it. `SharedPacer` keeps each limit's bucket (when its next send is
due, and any pause after a 429) in the `pace_slot` table instead, and reserves a send's slot
in one short transaction: an upsert that locks the limits' rows and returns them, then one
update of their due times. Row locks (PostgreSQL) or the write lock (SQLite) make that
atomic across processes, so the copies queue for the same slots. Times are seconds since the
epoch, which every process on the deployment agrees on; the wait itself is slept locally.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Table, bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from bot.outbox.pacing import Limit, Pacer, TooLongAWait, dues_after, earliest_slot
from storage.db import SessionFactory, read_only, transaction
from storage.models import PaceSlot

log = logging.getLogger(__name__)

PRUNE_EVERY = 60.0  # seconds between clearing rows whose times have passed
SLOTS: Table = PaceSlot.__table__  # type: ignore[attr-defined]  # SQLModel sets it on tables


class SharedPacer(Pacer):
    """`Pacer`'s token buckets and pauses, shared through the database by every process."""

    def __init__(
        self,
        sessions: SessionFactory,
        *,
        wall: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(monotonic=wall, sleep=sleep)
        self._sessions = sessions
        self._pruned_at = 0.0

    def pause(self, keys: Iterable[str], seconds: float) -> None:
        """Hold every send under `keys`, in every process, for `seconds` (a `Retry-After`)."""
        keys = sorted(set(keys))
        if not keys:
            return
        until = self._monotonic() + max(0.0, seconds)
        with transaction(self._sessions) as session:
            upsert = _insert(session).values([_row(key, 0.0, until) for key in keys])
            later = upsert.excluded.paused_until
            session.execute(
                upsert.on_conflict_do_update(
                    index_elements=["key"],
                    set_={
                        "paused_until": case(
                            (SLOTS.c.paused_until > later, SLOTS.c.paused_until), else_=later
                        )
                    },
                )
            )

    def _pause_left(self, limits: list[Limit]) -> float:
        now = self._monotonic()
        with read_only(self._sessions) as session:
            until = session.execute(
                select(func.max(SLOTS.c.paused_until)).where(
                    SLOTS.c.key.in_([lim.key for lim in limits])
                )
            ).scalar_one()
        return (until or 0.0) - now

    def _reserve(self, limits: list[Limit], max_wait: float) -> float:
        """Reserve the earliest slot all `limits` allow, for every process; the wait before it."""
        self._prune_now_and_then()
        limits = sorted(limits, key=lambda lim: lim.key)  # one lock order: no deadlocks
        with transaction(self._sessions) as session:
            now = self._monotonic()
            due, paused = _lock_slots(session, [lim.key for lim in limits])
            at = earliest_slot(limits, now, due, paused)
            if at - now > max_wait:
                raise TooLongAWait(at - now)  # rolls back: nothing is counted
            session.execute(
                update(SLOTS).where(SLOTS.c.key == bindparam("slot")),
                [{"slot": key, "due": when} for key, when in dues_after(limits, at, due).items()],
            )
        return at - now

    def _prune_now_and_then(self) -> None:
        """Delete rows that mean nothing any more (every channel ever posted to has one)."""
        now = self._monotonic()
        if now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        with transaction(self._sessions) as session:
            session.execute(
                delete(SLOTS).where(SLOTS.c.due < now - 1, SLOTS.c.paused_until < now - 1)
            )


def _lock_slots(session: Session, keys: list[str]) -> tuple[dict[str, float], dict[str, float]]:
    """Lock the rows of `keys` (adding missing ones) and return their (due, paused) times.

    An upsert that changes nothing takes the row lock on PostgreSQL and returns the row, so
    reading and locking are one statement, and a row another process is adding is waited for.
    """
    upsert = _insert(session).values([_row(key, 0.0, 0.0) for key in keys])
    rows = session.execute(
        upsert.on_conflict_do_update(
            index_elements=["key"], set_={"key": upsert.excluded.key}
        ).returning(SLOTS.c.key, SLOTS.c.due, SLOTS.c.paused_until)
    ).all()
    return {key: due for key, due, _ in rows}, {key: paused for key, _, paused in rows}


def _insert(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT."""
    if session.get_bind().dialect.name == "postgresql":
        return pg_insert(SLOTS)
    return sqlite_insert(SLOTS)


def _row(key: str, due: float, paused_until: float) -> dict[str, Any]:
    return {"key": key, "due": due, "paused_until": paused_until}
