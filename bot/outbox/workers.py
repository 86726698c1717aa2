"""One drain of the outbox run by worker threads (`bot.outbox.delivery.Deliverer.drain`).

Rows are claimed in batches, in the order they were owed. A worker takes the first claimed
row that may go now: none of its conversation's rows is being sent (one conversation's rows
go one at a time, in order) and the message it edits or replies to is not still waiting
in this run. Outcomes are recorded together, a batch per transaction; a later edit or reply
finds what this run has just sent without waiting for that transaction.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import timedelta

from bot.outbox.owing import HOME_PUBLISH
from bot.outbox.transport import Failed, Outcome, Retry, Sent, Target
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

FLUSH_EVERY = 0.25  # seconds between recording batches of outcomes
FLUSH_SIZE = 50  # outcomes recorded in one transaction at most
# Rows claimed at a time: per worker, and at least. Every claimed row is in doubt if the
# process dies (each then costs a history lookup), so batches stay small.
BATCH_PER_WORKER = 2
MIN_BATCH = 8

Recorded = tuple[OutboxMessage, Outcome]


# A claimed row given back before any call was made: left pending and due when it was (its
# time not moved on, no attempt counted), as if never claimed.
GIVEN_BACK = Retry(None, after=timedelta(0), count=False)


def lane_of(message: OutboxMessage) -> str:
    """The conversation a row belongs to: one process sends a lane's rows one at a time."""
    return message.channel or f"edit:{message.update_of}"


def keeps_order(message: OutboxMessage) -> bool:
    """Whether the row is a new message in its conversation, sent only after the earlier ones
    (an edit waits for its own original only; a Home page is no message in a conversation)."""
    return message.update_of is None and message.method != HOME_PUBLISH


def depends_on(message: OutboxMessage) -> str | None:
    """The `ref` of the message this row edits or replies to, if any."""
    return message.update_of or message.thread_of


class DrainRun:
    """Claims, hands out, sends (through `send`) and records up to `limit` rows."""

    def __init__(
        self,
        *,
        claim: Callable[[int], list[OutboxMessage]],
        send: Callable[[OutboxMessage, DrainRun], Outcome | None],
        record: Callable[[list[Recorded]], None],
        workers: int,
        limit: int,
        stopping: Callable[[], bool] = lambda: False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._claim, self._send, self._record = claim, send, record
        self._stopping = stopping
        self.workers = max(1, workers)
        self._left = limit  # rows this run may still claim
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._pending: deque[OutboxMessage] = deque()
        self._busy_lanes: set[str] = set()
        self._busy_refs: set[str] = set()
        self._held_lanes: set[str] = set()  # an earlier message was put back: the rest wait
        self._claiming = False
        self._exhausted = False
        self._outcomes: list[Recorded] = []
        self._last_flush = monotonic()
        self._flush_lock = threading.Lock()
        self._just_sent: dict[str, Target] = {}

    def run(self) -> None:
        """Work until nothing due is left (or `limit` rows are done), then record the rest."""
        if self.workers == 1:
            self._work()
        else:
            threads = [
                threading.Thread(target=self._work, name=f"outbox-{n}", daemon=True)
                for n in range(self.workers)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        self._flush(force=True)

    def sent_in_this_run(self, ref: str) -> Target | None:
        """Where the row with `ref` went, if this run sent it (maybe not yet recorded)."""
        with self._cond:
            return self._just_sent.get(ref)

    # --- workers ---------------------------------------------------------------------------
    def _work(self) -> None:
        while (message := self._take()) is not None:
            try:
                outcome = self._send(message, self)
            except Exception:  # the row's lease lapses and the next claim checks it in doubt
                # Not the send itself (the deliverer makes that an outcome): the database, say.
                log.exception("outbox %s: delivery failed unexpectedly", message.id)
                outcome = None
            self._done(message, outcome)
            try:
                self._flush()
            except Exception:  # unrecorded rows stay claimed: their lease lapses, in doubt
                log.exception("outbox: recording outcomes failed")

    def _take(self) -> OutboxMessage | None:
        """The next row this worker may send, claiming more when few are left; None at the end."""
        while True:
            with self._cond:
                if self._stopping():
                    self._release_pending()
                    return None
                message = self._first_ready()
                if message is not None:
                    self._busy_lanes.add(lane_of(message))
                    if message.ref:
                        self._busy_refs.add(message.ref)
                    return message
                wants_more = len(self._pending) < self.workers * 2
                if wants_more and not self._exhausted and not self._claiming:
                    self._claiming = True
                elif self._exhausted and not self._pending and not self._claiming:
                    return None
                else:
                    self._cond.wait(timeout=0.1)
                    continue
            self._claim_more()

    def _claim_more(self) -> None:
        size = min(max(MIN_BATCH, self.workers * BATCH_PER_WORKER), self._left)
        rows: list[OutboxMessage] = []
        try:
            rows = self._claim(size) if size > 0 else []
        finally:
            with self._cond:
                self._pending.extend(rows)
                self._left -= len(rows)
                self._exhausted = len(rows) < size or self._left <= 0
                self._claiming = False
                self._cond.notify_all()

    def _release_pending(self) -> None:
        """Shutting down: give back claimed rows not yet started (not sent by this run, so no
        more in doubt than they were)."""
        for message in self._pending:
            self._outcomes.append((message, GIVEN_BACK))
        self._pending.clear()
        self._exhausted = True

    def _first_ready(self) -> OutboxMessage | None:
        """The first claimed row whose conversation is free and whose original isn't waiting
        (rows of a conversation held up by a put-back message are given back unstarted)."""
        self._give_back_held()
        lanes, refs = set(self._busy_lanes), set(self._busy_refs)
        for i, message in enumerate(self._pending):
            lane, original = lane_of(message), depends_on(message)
            if lane not in lanes and (original is None or original not in refs):
                del self._pending[i]
                return message
            lanes.add(lane)
            if message.ref:
                refs.add(message.ref)
        return None

    def _give_back_held(self) -> None:
        """Give back (`GIVEN_BACK`) the claimed rows whose conversation has an earlier message
        put back in this run: the next claim leaves them until it is sent."""
        held = [m for m in self._pending if keeps_order(m) and lane_of(m) in self._held_lanes]
        for message in held:
            self._pending.remove(message)
            self._outcomes.append((message, GIVEN_BACK))

    def _done(self, message: OutboxMessage, outcome: Outcome | None) -> None:
        with self._cond:
            if keeps_order(message) and not isinstance(outcome, (Sent, Failed)):
                self._held_lanes.add(lane_of(message))
            self._busy_lanes.discard(lane_of(message))
            if message.ref:
                self._busy_refs.discard(message.ref)
            if outcome is not None:
                self._outcomes.append((message, outcome))
                if isinstance(outcome, Sent) and message.ref and outcome.ts:
                    self._just_sent[message.ref] = Target(outcome.channel or "", outcome.ts)
            self._cond.notify_all()

    # --- recording -------------------------------------------------------------------------
    def _flush(self, *, force: bool = False) -> None:
        """Record the outcomes gathered so far, if enough are waiting or enough time passed."""
        with self._cond:
            due = len(self._outcomes) >= FLUSH_SIZE
            due = due or self._monotonic() - self._last_flush >= FLUSH_EVERY
            if not self._outcomes or not (force or due):
                return
            batch, self._outcomes = self._outcomes, []
            self._last_flush = self._monotonic()
        with self._flush_lock:  # one recording transaction at a time keeps SQLite calm
            self._record(batch)
