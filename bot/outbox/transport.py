"""What a chat platform's sender implements to deliver the outbox (`docs/delivery.md`).

`bot.outbox.delivery.Deliverer` claims rows and hands each to its platform's `Transport`,
wrapped in a `Claim`; the transport sends it and returns an outcome (`Sent`, `Retry`,
`Failed`), raises `RateLimited`, or raises its platform's errors for `classify` to judge.
Any other exception is a bug, counted as a failed attempt: in doubt once `Claim.called`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.outbox.pacing import Limit
from storage.models import OutboxMessage


# --- what a transport returns --------------------------------------------------------------
@dataclass(frozen=True)
class Sent:
    """The platform took the message (`channel`, `ts`: where, for later edits and replies)."""

    channel: str | None
    ts: str | None
    note: str | None = None  # kept as `last_error`, e.g. "superseded"
    values: dict[str, Any] = field(default_factory=dict)  # more columns to set on the row


@dataclass(frozen=True)
class Retry:
    """Try again later: after `after`, or with exponential backoff and jitter if None."""

    error: str | None
    after: timedelta | None = None
    count: bool = True  # False: not a failed attempt (a wait, not an error)
    in_doubt: bool = False  # the platform may have taken it: look before sending again


@dataclass(frozen=True)
class Failed:
    """Refused for good (`error` is the platform's reason); never retried."""

    error: str


Outcome = Sent | Retry | Failed


class RateLimited(Exception):
    """Raised by a transport when the platform answered "too many requests": every send
    under `keys` (pacing keys, see `bot.outbox.pacing`) waits `retry_after` seconds."""

    def __init__(self, retry_after: float, keys: Iterable[str]) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after
        self.keys = tuple(keys)


@dataclass(frozen=True)
class Target:
    """Where a message was sent: its conversation and the platform's id of the message."""

    channel: str
    ts: str


class Claim:
    """One claimed row as a transport sees it: the message (detached; its payload is the
    stored neutral one, which the transport may replace with its rendering), the message
    it edits or replies to, pacing, and durable notes made mid-send."""

    def __init__(
        self,
        message: OutboxMessage,
        *,
        original: Target | None = None,
        now: Callable[[], datetime],
        pace: Callable[[list[Limit]], None],
        record: Callable[[OutboxMessage, dict[str, Any]], None],
    ) -> None:
        self.message = message
        self.original = original
        self._now = now
        self._pace = pace
        self._record = record
        # Whether a platform call may have gone out: an exception from then on may have come
        # after the platform took the message (every call that can deliver one is paced).
        self.called = False

    def now(self) -> datetime:
        """The deliverer's clock's now."""
        return self._now()

    def pace(self, *limits: Limit) -> None:
        """Call before each platform call: wait until its limits allow one more (raises
        `TooLongAWait`), then renew the claim if it nears its end (raises if another copy has
        taken the row)."""
        self._pace(list(limits))
        self.called = True

    def record(self, **values: Any) -> None:
        """Change the row now, in its own transaction, while this claim holds it: a note that
        must survive a crash before the send (e.g. that a reply link was spent)."""
        self._record(self.message, values)


class Transport(Protocol):
    """One chat platform's side of delivery. See docs/delivery.md."""

    platform: str  # the `outbox_message.platform` value it delivers

    def send(self, claim: Claim) -> Outcome:
        """Send the claimed row, pacing with `claim.pace` every call that can deliver it;
        raise `RateLimited` on a 429."""
        ...

    def classify(self, message: OutboxMessage, exc: Exception) -> Outcome | None:
        """What an exception from `send` means (`Retry` or `Failed`); None if unexpected (a
        bug: the deliverer counts it a failed attempt, in doubt after a paced call)."""
        ...


@dataclass
class DeliveryReport:
    """What one `drain` did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    rate_limited: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)
