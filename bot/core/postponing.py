"""Non-urgent work found due outside working time (after downtime) waits for the next
working day, instead of reaching heads and supporters at night, at weekends or in holidays."""

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
