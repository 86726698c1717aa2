"""Check-ins: scheduled "how is it going?" messages for each active deployment."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import Session

from storage.models import CheckIn, Deployment

if TYPE_CHECKING:
    from bot.routing import RoutingContext


def schedule_for_new_deployment(
    session: Session, ctx: RoutingContext, deployment: Deployment
) -> CheckIn:
    """Schedule the first check-in CHECKIN_FIRST_DAYS after acceptance, on a working day."""
    local_day = ctx.now.astimezone(ctx.settings.tz).date() + timedelta(
        days=ctx.settings.checkin_first_days
    )
    due = ctx.calendar.schedule_on_working_day(local_day, ctx.settings.checkin_time)
    checkin = CheckIn(deployment_id=deployment.id or 0, sequence=1, due_at=due)
    session.add(checkin)
    return checkin


def cancel_future_checkins(session: Session, deployment_id: int, *, now: datetime) -> int:
    """Cancel every check-in of a deployment not yet sent; returns how many."""
    result = session.execute(
        update(CheckIn)
        .where(CheckIn.deployment_id == deployment_id, CheckIn.status == "scheduled")
        .values(status="cancelled")
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
