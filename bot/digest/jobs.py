"""The digest's scheduled work: send the latest week's digest once its time has passed."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func
from sqlmodel import select

from bot.digest.service import current_week_start, digest_week, send_weekly_digest
from storage.models import DigestRun, Person

if TYPE_CHECKING:
    from bot.core.context import Services


def send_due_digest(runtime: Services) -> int:
    """Send the latest week's digest whose DIGEST_CRON time has passed (this week's, else last
    week's), unless already sent, so downtime delays a digest, never loses it; returns 1 if
    this call sent it.

    A week whose digest time came before anyone was in the directory is skipped, so a new
    installation doesn't start with a digest of nothing.
    """
    ctx = runtime.context()
    week = digest_week(ctx, current_week_start(ctx))
    if ctx.now < week.due_at:
        # Not due yet this week: last week's is the latest due, and is owed if the process
        # was down from before its time until after Monday (DIGEST_CRON later in the week).
        week = digest_week(ctx, week.week_start - timedelta(days=7))
    with runtime.sessions() as session:
        if session.get(DigestRun, week.week_start) is not None:
            return 0
        in_use_since = session.exec(select(func.min(Person.created_at))).one()
    if in_use_since is None or in_use_since > week.due_at:
        return 0
    return 1 if send_weekly_digest(runtime.sessions, ctx, week_start=week.week_start).sent else 0
