"""Giving up on a message that never goes through (`docs/delivery.md`, Failures).

One conversation's messages go in order, so a message the platform refuses with a server error
every time would hold up the rest of its conversation for ever. Once it has been failing for
`OUTBOX_GIVE_UP_HOURS` and has been tried at least `MIN_ATTEMPTS` times, its latest failure is
made a permanent one: the row is failed and reported like any other, and its conversation
goes on. The clock starts at the first failed attempt, not when the message was owed, so a
process that was down for a day still tries what it owed for the whole limit on its return.
A 429 (or any wait) is no failed attempt, and the time it waits is not time failing: a row
only ever asked to wait is never given up. A send that raised an unexpected exception (a bug,
say a payload the renderer chokes on) is a failed attempt like a server error, so it is given
up in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.outbox.transport import Failed, Outcome, Retry
from storage.models import OutboxMessage

DEFAULT_LIMIT = timedelta(hours=24)
# Tries before a message may be given up, however long it has been failing (a process down
# for most of the limit still backs off through these: some minutes' worth).
MIN_ATTEMPTS = 10
GAVE_UP = "gave up after"
IN_DOUBT = "in doubt: it may have been delivered"
UNEXPECTED = "unexpected"  # the last error of a send that raised: "unexpected KeyError"


@dataclass(frozen=True)
class GiveUp:
    """When a retried message is given up: failing for `after`, tried `min_attempts` times."""

    after: timedelta = DEFAULT_LIMIT
    min_attempts: int = MIN_ATTEMPTS

    def judge(self, message: OutboxMessage, outcome: Outcome, now: datetime) -> Outcome:
        """`outcome`, or a `Failed` in place of a failed attempt once the message is overdue."""
        if not isinstance(outcome, Retry) or not outcome.count:
            return outcome  # sent, refused for good, or asked to wait: not a failed attempt
        since = message.failing_since
        if since is None or now - since < self.after or message.attempts < self.min_attempts:
            return outcome
        # In doubt, the platform may have taken its last try (a lost answer, a 5xx after a post):
        # it is given up without knowing, and says so.
        in_doubt = outcome.in_doubt or message.in_doubt
        return Failed(gave_up_error(message.attempts, now - since, outcome.error, in_doubt))


def failing_since(
    message: OutboxMessage, outcome: Retry, wait: timedelta, now: datetime
) -> datetime | None:
    """The row's give-up clock once `outcome` is recorded: started by its first failed attempt,
    moved on by a wait it was asked for (a 429, pacing), so waiting never counts as failing."""
    if outcome.count:
        return message.failing_since or now
    if message.failing_since is None:
        return None
    return message.failing_since + wait


def gave_up_error(attempts: int, span: timedelta, last_error: str | None, in_doubt: bool) -> str:
    """The failed row's `last_error`: "gave up after 52 attempts over 24 hours: internal_error"."""
    hours = int(span.total_seconds() // 3600)
    error = f"{GAVE_UP} {attempts} attempts over {hours} hour{'' if hours == 1 else 's'}"
    error += f": {last_error or 'no answer'}"
    return f"{error} ({IN_DOUBT})" if in_doubt else error


def unexpected_error(exc: Exception) -> str:
    """A failed attempt's error for an exception no transport expected: its type's name alone
    (its message may quote the payload)."""
    return f"{UNEXPECTED} {type(exc).__name__}"


def is_unexpected(error: str) -> bool:
    """Whether a row's error (given up or not) ends an unexpected exception's attempts."""
    last = error.split(": ", 1)[1] if error.startswith(GAVE_UP) and ": " in error else error
    return last.startswith(f"{UNEXPECTED} ")
