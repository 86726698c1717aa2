"""Pacing sends to a platform's rate limits, shared by every worker thread of a process.

Each limit is a token bucket, kept as the time its next send is due (the generic cell rate
algorithm): `per_second` sends a second on average, up to `burst` at once after a quiet
spell. A send reserves a slot in every limit it counts against (a method's workspace-wide
limit, a channel's) and waits until all of them allow it. After the platform answers "too
many requests", `pause` holds every later send under those limits until `Retry-After` has
passed, so no other worker hits the same wall.

Time is injected (`monotonic`, `sleep`), so tests run it on a fake clock without waiting.
The running bot uses `bot.outbox.shared_pacing.SharedPacer`: the same buckets, kept in the
database so that every running copy counts against them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    """At most `per_second` sends a second under `key`, with bursts of up to `burst`."""

    key: str
    per_second: float
    burst: float = 1.0


class TooLongAWait(Exception):
    """The limits would hold this send longer than the caller is willing to wait."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"paced for {seconds:.1f}s")
        self.seconds = seconds


class Pacer:
    """Token buckets by key, plus pauses after a rate-limit answer. Thread-safe."""

    def __init__(
        self,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._lock = threading.Lock()
        self._due: dict[str, float] = {}  # key -> when its next send may go, at the steady rate
        self._paused_until: dict[str, float] = {}

    def acquire(self, limits: Iterable[Limit], *, max_wait: float = 30.0) -> float:
        """Wait until a send under all of `limits` may go, and count it; the seconds waited.

        Raises `TooLongAWait` (counting nothing) if that would be longer than `max_wait`.
        """
        limits = list(limits)
        waited = 0.0
        while True:
            wait = self._reserve(limits, max_wait - waited)
            if wait <= 0:
                return waited
            self._sleep(wait)
            waited += wait
            # A pause may have begun while this send slept: check again before it goes.
            if self._pause_left(limits) <= 0:
                return waited

    def pause(self, keys: Iterable[str], seconds: float) -> None:
        """Hold every send under `keys` for `seconds` (a `Retry-After`)."""
        until = self._monotonic() + max(0.0, seconds)
        with self._lock:
            for key in keys:
                self._paused_until[key] = max(self._paused_until.get(key, 0.0), until)

    def _pause_left(self, limits: list[Limit]) -> float:
        now = self._monotonic()
        with self._lock:
            return max((self._paused_until.get(lim.key, 0.0) - now for lim in limits), default=0)

    def _reserve(self, limits: list[Limit], max_wait: float) -> float:
        """Reserve the earliest slot all `limits` allow; 0 if it is now, else the wait before it.

        A slot in the future is reserved too (the caller sleeps until it), so waiting workers
        queue in order instead of racing for the next token.
        """
        now = self._monotonic()
        with self._lock:
            at = earliest_slot(limits, now, self._due, self._paused_until)
            if at - now > max_wait:
                raise TooLongAWait(at - now)
            self._due.update(dues_after(limits, at, self._due))
            return at - now


def earliest_slot(
    limits: Iterable[Limit], now: float, due: Mapping[str, float], paused: Mapping[str, float]
) -> float:
    """The earliest time at or after `now` when every limit allows one more send, given when
    each key's next send is `due` at the steady rate and until when it is `paused`."""
    at = now
    for lim in limits:
        interval = 1.0 / lim.per_second
        tolerance = (max(lim.burst, 1.0) - 1.0) * interval
        at = max(at, due.get(lim.key, now) - tolerance, paused.get(lim.key, 0.0))
    return at


def dues_after(limits: Iterable[Limit], at: float, due: Mapping[str, float]) -> dict[str, float]:
    """When each key's next send is due once one send has taken the slot `at`."""
    return {lim.key: max(due.get(lim.key, at), at) + 1.0 / lim.per_second for lim in limits}
