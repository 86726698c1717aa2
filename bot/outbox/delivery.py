"""Delivering the outbox, for any chat platform (`docs/delivery.md`).

`Deliverer.drain()` claims due rows in batches (only rows of the platforms it has a
`Transport` for; never two processes the same row), sends them on worker threads
(`bot.outbox.workers`) through their platform's transport, and records what each came to,
many rows per transaction. Everything not about one platform lives here: order per message
(an edit waits for its original, a thread reply for its parent) and per conversation (a
message waits while an earlier one of its conversation is retried or sent elsewhere),
retries with backoff or after `Retry-After`, pausing every worker under a limit the
platform said was hit, counting a send that raised unexpectedly as a failed attempt,
giving up on a message failing for too long (`bot.outbox.giving_up`),
marking rows sent or failed, reporting the undeliverable, and the
lease that lets the next claim find a row whose process died mid-send ("in doubt", checked
by the transport before it sends again).
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from bot.core.clock import Clock
from bot.core.logs import traceback_without_messages
from bot.outbox.giving_up import GiveUp, failing_since, unexpected_error
from bot.outbox.owing import HOME_PUBLISH, sent_message
from bot.outbox.pacing import Limit, Pacer, TooLongAWait
from bot.outbox.transport import (
    Claim,
    DeliveryReport,
    Failed,
    Outcome,
    RateLimited,
    Retry,
    Sent,
    Target,
    Transport,
)
from bot.outbox.workers import GIVEN_BACK, DrainRun, Recorded, depends_on
from storage.claims import claim_rows, serialise_claims
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)  # a claimed row not recorded by then is in doubt
# A row this close to its lease's end is not started, and a paced call this close renews the
# lease first (`Deliverer._pace_claimed`): more than a Web API call's timeout (10 s) with room
# to spare, so however many calls a send makes, none outlives the claim.
LEASE_MARGIN = timedelta(seconds=60)
MAX_BACKOFF = timedelta(minutes=30)
ORIGINAL_WAIT = timedelta(seconds=2)  # an edit or reply looks for its original again after
MAX_PACED_WAIT = 20.0  # seconds a worker waits for its limits before rescheduling the row
DEFAULT_WORKERS = 4
OUTBOX_CLAIM_LOCK = 0x0B0C  # the advisory lock key every copy's outbox claim takes


class ClaimLost(Exception):
    """Another copy has claimed the row this process was sending (its lease had lapsed)."""


class Deliverer:
    """Delivers owed messages. Safe to run in any number of threads and processes at once."""

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        transports: Iterable[Transport],
        *,
        workers: int = 1,
        pacer: Pacer | None = None,
        on_permanent_failure: Callable[[int, str], None] | None = None,
        jitter: Callable[[], float] = random.random,
        give_up: GiveUp | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.transports = {t.platform: t for t in transports}
        self.workers = workers
        self.pacer = pacer
        self.on_permanent_failure = on_permanent_failure
        self.jitter = jitter
        self.give_up = give_up or GiveUp()
        self._count_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- running ---------------------------------------------------------------------------
    def kick(self) -> None:
        """Deliver what is owed now: wake the background worker, or drain in this thread."""
        if self._thread is not None and self._thread.is_alive():
            self._wake.set()
        else:
            self.drain()

    def start(self) -> None:
        """Run in the background: drain whenever kicked and at least every few seconds."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the background worker; rows it claimed but had not started go back unclaimed."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain(limit=1000, stopping=self._stop.is_set)
            except Exception:
                log.exception("outbox drain failed; will try again")
            self._wake.wait(timeout=self._seconds_until_next_due())
            self._wake.clear()

    def _seconds_until_next_due(self) -> float:
        """Until the next row this process could claim falls due (at most 5 s). A row held up
        behind an earlier one of its conversation is not counted (it is due, but no claim
        takes it: counting it made the loop claim nothing twenty times a second); the earlier
        one's own time is."""
        with self.sessions() as session:
            due = session.scalars(
                select(col(OutboxMessage.next_attempt_at))
                .where(
                    col(OutboxMessage.status) == OutboxStatus.PENDING,
                    col(OutboxMessage.platform).in_(list(self.transports)),
                    not_(_held_up(self.clock.now(), token="")),
                )
                .order_by(col(OutboxMessage.next_attempt_at))
                .limit(1)
            ).first()
        if due is None:
            return 5.0
        return min(5.0, max(0.05, (due - self.clock.now()).total_seconds()))

    def drain(
        self, *, limit: int = 200, stopping: Callable[[], bool] | None = None
    ) -> DeliveryReport:
        """Send every owed message that is due now (up to `limit`), each at most once; once
        `stopping()` is true, start no more and give back the rows claimed but not started."""
        report = DeliveryReport()
        while True:
            done, failed = report.sent + report.retried + report.failed, report.failed
            token = uuid.uuid4().hex  # one a run: its own claims don't hold up its next
            DrainRun(
                claim=functools.partial(self._claim, token=token),
                send=lambda message, run: self._deliver(message, run, report),
                record=lambda batch: self._record(batch, report),
                workers=self.workers,
                limit=limit - done,
                stopping=stopping or (lambda: False),
            ).run()
            # Reporting a failure owes a notice: send that too, within the same limit.
            if report.failed == failed or self.on_permanent_failure is None:
                return report

    # --- claiming --------------------------------------------------------------------------
    def _claim(self, size: int, token: str) -> list[OutboxMessage]:
        """Claim up to `size` due rows, oldest first, for `LEASE` under `token`; detached
        copies. A row waiting for an earlier one of its conversation is left (`_held_up`)."""
        now = self.clock.now()
        claimable = claimable_now(list(self.transports), now, token)
        with transaction(self.sessions) as session:
            # An earlier message another copy is claiming at this moment must be seen as
            # taken, or this claim could take the next message of its conversation.
            serialise_claims(session, OUTBOX_CLAIM_LOCK)
            ids = claim_rows(
                session,
                OutboxMessage,
                claimable,
                {
                    "status": OutboxStatus.SENDING,
                    "claim_token": token,
                    # A lapsed "sending" claim means a process died mid-send: in doubt. A row
                    # in doubt stays so until sent or failed: put back unchecked (stopped, paced,
                    # its lookup refused, its lease too near its end), it still may be posted.
                    "in_doubt": or_(
                        col(OutboxMessage.status) == OutboxStatus.SENDING,
                        col(OutboxMessage.in_doubt),
                    ),
                    "claimed_until": now + LEASE,
                    "attempts": OutboxMessage.attempts + 1,
                },
                order_by=OutboxMessage.id,
                limit=size,
            )
            if not ids:
                return []
            rows = list(
                session.scalars(
                    select(OutboxMessage)
                    .where(col(OutboxMessage.id).in_(ids))
                    .order_by(col(OutboxMessage.id))
                    .execution_options(populate_existing=True)
                )
            )
            for row in rows:
                session.expunge(row)
            return rows

    # --- sending ---------------------------------------------------------------------------
    def _deliver(self, message: OutboxMessage, run: DrainRun, report: DeliveryReport) -> Outcome:
        """Send one claimed row through its transport: what it came to."""
        if message.claimed_until and message.claimed_until - self.clock.now() < LEASE_MARGIN:
            # Waited so long in this run that the lease may lapse mid-send: let it go.
            return self._counted(GIVEN_BACK, message, report)
        if _replaces_whole(message) and self._superseded(message):
            # A retried (older) edit or Home page must not overwrite a newer one: each is the
            # whole message or page, so the newest owed alone decides what it shows.
            log.info("outbox %s: a later one replaces it", message.id)
            return self._counted(Sent(None, None, note="superseded"), message, report)
        original: Target | None = None
        if ref := depends_on(message):
            original = run.sent_in_this_run(ref) or self._sent_target(ref, message.platform)
            if original is None:
                return self._counted(self._wait_for_original(message, ref), message, report)
        transport = self.transports[message.platform]
        claim = Claim(
            message,
            original=original,
            now=self.clock.now,
            pace=lambda limits: self._pace_claimed(message, limits),
            record=lambda m, values: self.update_claimed(m, **values),
        )
        outcome = self.give_up.judge(message, self._send(transport, claim), self.clock.now())
        return self._counted(outcome, message, report)

    def _send(self, transport: Transport, claim: Claim) -> Outcome:
        message = claim.message
        try:
            return transport.send(claim)
        except TooLongAWait as exc:
            return Retry("paced", after=timedelta(seconds=exc.seconds), count=False)
        except ClaimLost:
            # Its owner now (another copy) sends it and records it; this one changes nothing.
            log.warning("outbox %s: claim lost mid-send; left to its new owner", message.id)
            return Retry("claim_lost", after=timedelta(0), count=False)
        except RateLimited as exc:
            if self.pacer is not None:
                self.pacer.pause(exc.keys, exc.retry_after)
            log.info("outbox %s: rate limited, retrying after %ss", message.id, exc.retry_after)
            # The platform asking us to wait is no failed attempt (nor counts towards giving up).
            return Retry("ratelimited", after=timedelta(seconds=exc.retry_after), count=False)
        except SQLAlchemyError:
            # The database, not the send (a lock, a failover): as after a crash, the lease
            # lapses and the next claim takes the row in doubt. No failed attempt of its own.
            raise
        except Exception as exc:
            outcome = transport.classify(message, exc)
            return outcome if outcome is not None else _unexpected(claim, exc)

    def _pace_claimed(self, message: OutboxMessage, limits: list[Limit]) -> None:
        """Wait for the platform's limits; then, if less than `LEASE_MARGIN` of the claim is
        left, renew it for a whole `LEASE` before the call goes out (`ClaimLost` if another
        copy has claimed the row meanwhile)."""
        if self.pacer is not None and limits:
            self.pacer.acquire(limits, max_wait=MAX_PACED_WAIT)
        now = self.clock.now()
        if message.claimed_until and message.claimed_until - now >= LEASE_MARGIN:
            return  # enough left for the call (a few seconds): no transaction needed
        claimed_until = now + LEASE
        with transaction(self.sessions) as session:
            renewed = session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == message.id,
                    col(OutboxMessage.claim_token) == message.claim_token,
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                )
                .values(claimed_until=claimed_until)
            )
        if renewed.rowcount != 1:  # type: ignore[attr-defined]  # a DML result: CursorResult
            raise ClaimLost(message.id)
        message.claimed_until = claimed_until

    def _counted(self, outcome: Outcome, message: OutboxMessage, report: DeliveryReport) -> Outcome:
        with self._count_lock:
            _count(report, outcome, message)
        return outcome

    def _wait_for_original(self, message: OutboxMessage, ref: str) -> Outcome:
        """An edit or reply whose message isn't sent: wait while it may still be, else give up."""
        with self.sessions() as session:
            pending = session.scalars(
                select(col(OutboxMessage.id)).where(
                    col(OutboxMessage.ref) == ref,
                    or_(
                        col(OutboxMessage.status).in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                        # Or sent, recorded by another process since it was looked for: the
                        # next attempt finds it (dropping the reply here lost it).
                        and_(
                            col(OutboxMessage.status) == OutboxStatus.SENT,
                            col(OutboxMessage.sent_ts).is_not(None),
                        ),
                    ),
                )
            ).first()
        if pending is not None:
            return Retry(None, after=ORIGINAL_WAIT, count=False)
        # Never owed, or failed for good: there is nothing to edit or reply to.
        log.warning("outbox %s: its message %s was never sent; dropping", message.id, ref)
        return Failed("original_not_sent")

    def _superseded(self, message: OutboxMessage) -> bool:
        """Whether a later edit of the same message, or a later Home page for the same person,
        is owed or sent (and hasn't failed)."""
        same = (
            col(OutboxMessage.update_of) == message.update_of
            if message.update_of
            else and_(
                col(OutboxMessage.method) == HOME_PUBLISH,
                col(OutboxMessage.channel) == message.channel,
            )
        )
        with self.sessions() as session:
            later = session.scalars(
                select(col(OutboxMessage.id)).where(
                    col(OutboxMessage.id) > message.id,
                    same,
                    col(OutboxMessage.platform) == message.platform,
                    col(OutboxMessage.status) != OutboxStatus.FAILED,
                )
            ).first()
        return later is not None

    def _sent_target(self, ref: str, platform: str) -> Target | None:
        """Where the message owed with `ref` was sent on `platform`, or None if not yet."""
        with self.sessions() as session:
            original = sent_message(session, ref, platform=platform)
        if original is None or not original.sent_ts:
            return None
        return Target(original.sent_channel or original.channel, original.sent_ts)

    # --- recording outcomes (only while the claim is still ours) ----------------------------
    def update_claimed(self, message: OutboxMessage, **values: Any) -> None:
        """Change the row now, only while this process still holds its claim."""
        with transaction(self.sessions) as session:
            _update_claimed(session, message, values)

    def _record(self, batch: list[Recorded], report: DeliveryReport) -> None:
        """Record a batch of outcomes in one transaction; then report the undeliverable."""
        with transaction(self.sessions) as session:
            for message, outcome in batch:
                _update_claimed(session, message, self._values(message, outcome))
        if self.on_permanent_failure is not None:
            for message, outcome in batch:
                if isinstance(outcome, Failed):
                    self.on_permanent_failure(message.id or 0, outcome.error)

    def _values(self, message: OutboxMessage, outcome: Outcome) -> dict[str, Any]:
        """The row's new columns for `outcome` (the claim is released)."""
        values: dict[str, Any] = {"claim_token": None, "claimed_until": None}
        if isinstance(outcome, Sent):
            values |= {
                "status": OutboxStatus.SENT,
                "response_url": None,
                "sent_channel": outcome.channel,
                "sent_ts": outcome.ts,
                "sent_at": self.clock.now(),
                "last_error": outcome.note,
                **outcome.values,
            }
        elif isinstance(outcome, Failed):
            values |= {
                "status": OutboxStatus.FAILED,
                "last_error": outcome.error,
                "response_url": None,
            }
        elif outcome is GIVEN_BACK:  # claimed, never started: as it was, due when it was
            values |= {"status": OutboxStatus.PENDING, "attempts": OutboxMessage.attempts - 1}
        else:
            delay = outcome.after if outcome.after is not None else self.backoff(message.attempts)
            values |= {
                "status": OutboxStatus.PENDING,
                "next_attempt_at": self.clock.now() + delay,
                "last_error": outcome.error,
            }
            if not outcome.count:
                values["attempts"] = OutboxMessage.attempts - 1
            values["failing_since"] = failing_since(message, outcome, delay, self.clock.now())
            if outcome.in_doubt:  # stays so until sent or failed (see `_claim`)
                values["in_doubt"] = True
        return values

    def backoff(self, attempts: int) -> timedelta:
        """Exponential backoff with jitter: about 1 s, 2 s, 4 s … up to 30 minutes."""
        base = min(MAX_BACKOFF.total_seconds(), 2 ** max(attempts - 1, 0))
        return timedelta(seconds=base * (0.5 + self.jitter() / 2))


def _unexpected(claim: Claim, exc: Exception) -> Retry:
    """A send that raised what its transport did not expect (a bug: a payload the renderer
    chokes on, a KeyError): a failed attempt, backed off and in time given up like a server
    error, so its conversation is not held up for ever. In doubt once a platform call may have
    gone out (`Claim.called`): the platform may have taken the message before the exception.
    Logged with ids only: the exception's type and frames, never its message (it may quote
    the payload)."""
    message = claim.message
    log.error(
        "outbox %s: sending raised %s%s; a failed attempt, retried with backoff\n%s",
        message.id,
        type(exc).__name__,
        " after a call to the platform (in doubt)" if claim.called else "",
        traceback_without_messages(exc),
    )
    return Retry(unexpected_error(exc), in_doubt=claim.called)


def _replaces_whole(message: OutboxMessage) -> bool:
    """An edit (the whole message) or a Home page (the whole page): a later one supersedes it."""
    return bool(message.update_of) or message.method == HOME_PUBLISH


def claimable_now(platforms: list[str], now: datetime, token: str) -> ColumnElement[bool]:
    """Whether a row of `platforms` may be claimed under `token` at `now`: due, or its claim
    lapsed, and not waiting for an earlier message of its conversation."""
    due_or_lapsed = or_(
        and_(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
        ),
        and_(
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            col(OutboxMessage.claimed_until) < now,
        ),
    )
    return and_(col(OutboxMessage.platform).in_(platforms), due_or_lapsed, ~_held_up(now, token))


def _keeps_order(row: Any) -> ColumnElement[bool]:
    """`workers.keeps_order` in SQL, for `row` (the table or an alias of it)."""
    return and_(col(row.update_of).is_(None), col(row.method) != HOME_PUBLISH)


def _keeps_order_unindexed(row: Any) -> ColumnElement[bool]:
    """`_keeps_order`, written so that no index serves it. SQLite reads `update_of IS NULL` as
    an equality its `update_of` index answers, and walked every earlier row of the outbox by it
    rather than the conversation's few by `ix_outbox_conversation` (69 ms a claim at 900 rows,
    growing with the square of them)."""
    return and_(func.coalesce(col(row.update_of), "") == "", col(row.method) != HOME_PUBLISH)


def _held_up(now: datetime, token: str) -> ColumnElement[bool]:
    """Whether a row must wait for an earlier one of its conversation (same platform and
    channel): one waiting for a retry, or being sent under another claim. One claimable now
    is claimed first, in the same batch; one failed for good holds up nothing. Edits and Home
    pages neither wait nor hold up (an edit waits for its own original only)."""
    earlier = aliased(OutboxMessage)
    return and_(
        _keeps_order(OutboxMessage),
        exists().where(
            col(earlier.platform) == col(OutboxMessage.platform),
            col(earlier.channel) == col(OutboxMessage.channel),
            # Implied by the test below; said apart, it narrows the conversation index's walk.
            col(earlier.status).in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
            col(earlier.id) < OutboxMessage.id,
            _keeps_order_unindexed(earlier),
            or_(
                and_(
                    col(earlier.status) == OutboxStatus.PENDING, col(earlier.next_attempt_at) > now
                ),
                and_(
                    col(earlier.status) == OutboxStatus.SENDING,
                    col(earlier.claimed_until) >= now,
                    col(earlier.claim_token) != token,
                ),
            ),
        ),
    )


def _update_claimed(session: Session, message: OutboxMessage, values: dict[str, Any]) -> None:
    session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message.id,
            col(OutboxMessage.claim_token) == message.claim_token,
        )
        .values(**values)
    )


def _count(report: DeliveryReport, outcome: Outcome, message: OutboxMessage) -> None:
    """Add one row's outcome to `report` (under the deliverer's lock)."""
    if isinstance(outcome, Sent):
        report.sent += 1
    elif isinstance(outcome, Retry):
        report.retried += 1
        if outcome.error == "ratelimited":
            report.rate_limited += 1
    else:
        log.error("outbox %s: permanent failure %s", message.id, outcome.error)
        report.failed += 1
        report.failures.append((message.id or 0, outcome.error))
