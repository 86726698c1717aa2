"""Non-urgent work found due outside working time (after downtime) waits for the next
working day, instead of reaching heads and supporters at night, at weekends or in holidays.

Work with a due time of its own (check-ins, their reminders, reviews, "was it useful?") is
moved to CHECKIN_TIME on the next working day; work that follows a click and has none (next
steps, the closing record) waits for the first run in working time. Visit reminders never
wait: the next working morning is the visit's own day.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement
from sqlmodel import SQLModel

from storage.claims import postpone_rows
from storage.db import transaction

if TYPE_CHECKING:
    from bot.core.context import Services

log = logging.getLogger(__name__)


def postpone_outside_working_time(
    runtime: Services,
    model: type[SQLModel],
    due: ColumnElement[bool],
    column: str,
    *,
    what: str,
) -> int:
    """Outside working time, move the rows matching `due` to CHECKIN_TIME on the next working
    day in `column`, in one transaction; two copies doing so at once move each row once.
    Returns how many moved (none in working time)."""
    ctx = runtime.context()
    until = ctx.calendar.postponed_until(ctx.now, ctx.settings.checkin_time)
    if until is None:
        return 0
    with transaction(runtime.sessions) as session:
        moved = postpone_rows(session, model, due, column, until)
    if moved:
        log.info("%d %s due outside working time moved on (%s)", moved, what, column)
    return moved


def waits_for_working_time(runtime: Services) -> bool:
    """Whether non-urgent work with no due time of its own should wait now: True outside
    working time (a run a few minutes past closing still counts as in it)."""
    ctx = runtime.context()
    return ctx.calendar.postponed_until(ctx.now, ctx.settings.checkin_time) is not None
