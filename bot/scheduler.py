"""APScheduler wiring: it only wakes the process; the database says what is due."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler

from bot.jobs import run_due
from bot.runtime import Runtime

log = logging.getLogger(__name__)

DUE_WORK_SECONDS = 60


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """Start the in-process scheduler: due work every minute (a missed run catches up once)."""
    scheduler = BackgroundScheduler(timezone=runtime.settings.tz)
    scheduler.add_job(
        run_due,
        "interval",
        seconds=DUE_WORK_SECONDS,
        args=[runtime],
        id="due-work",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=None,
        next_run_time=runtime.clock.now(),
    )
    scheduler.start()
    log.info("scheduler started (due work every %ss)", DUE_WORK_SECONDS)
    return scheduler
