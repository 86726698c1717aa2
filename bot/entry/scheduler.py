"""APScheduler wiring: it only wakes the process; the database says what is due.

Two jobs, both in TIMEZONE: due work every minute, and the weekly digest at DIGEST_CRON. The
digest job is only a prompt: `send_due_digest` sends the week's digest at most once whoever
calls it (this job, the every-minute due work, another process or the CLI). A digest missed
while the process was down is caught up by the due work as soon as it runs again.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.core.settings import Settings, parse_digest_cron
from bot.digest.jobs import send_due_digest
from bot.entry.jobs import run_due
from bot.entry.runtime import Runtime

log = logging.getLogger(__name__)

DUE_WORK_SECONDS = 60
# A digest run that misfires (the process was busy or asleep) still runs within a week.
DIGEST_MISFIRE_GRACE_SECONDS = 7 * 24 * 3600


def digest_trigger(settings: Settings) -> CronTrigger:
    """The DIGEST_CRON ("mon 08:00") as a cron trigger in TIMEZONE."""
    weekday, at = parse_digest_cron(settings.digest_cron)
    return CronTrigger(day_of_week=weekday, hour=at.hour, minute=at.minute, timezone=settings.tz)


def start_scheduler(runtime: Runtime) -> BackgroundScheduler:
    """Start the in-process scheduler: due work every minute and the weekly digest at
    DIGEST_CRON (a missed run catches up once)."""
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
    scheduler.add_job(
        send_due_digest,
        digest_trigger(runtime.settings),
        args=[runtime],
        id="weekly-digest",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=DIGEST_MISFIRE_GRACE_SECONDS,
    )
    scheduler.start()
    log.info(
        "scheduler started (due work every %ss, digest %s %s)",
        DUE_WORK_SECONDS,
        runtime.settings.digest_cron,
        runtime.settings.timezone,
    )
    return scheduler
