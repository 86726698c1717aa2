"""Due work: everything the scheduler (and `python -m bot jobs run-due`) runs as of now.

Each task reads what is due from the database and claims it atomically, so running this
twice at once, or in several processes, never does anything twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from bot.checkins.jobs import mark_missed_checkins, send_due_checkins, send_due_reminders
from bot.core.metrics import DUE_WORK_CLAIMED, DUE_WORK_FAILED
from bot.deployments.jobs import ask_for_closing_records, send_due_reviews, start_new_deployments
from bot.digest.jobs import send_due_digest
from bot.directory.service import forget_old_import_progress
from bot.entry.runtime import Runtime
from bot.inbound import service as inbound
from bot.outbox.owing import prune_sent_messages
from bot.privacy.retention import erase_expired_text
from bot.routing.jobs import expire_overdue_offers
from bot.visits.expiry import expire_visit_offers
from bot.visits.jobs import (
    ask_whether_visits_were_useful,
    erase_old_visit_text,
    send_visit_reminders,
)
from handlers.slack.app import create_app

log = logging.getLogger(__name__)

DueTask = Callable[[Runtime], int]


def _deliver_owed_messages(runtime: Runtime) -> int:
    return runtime.deliverer.drain().sent


def _replay_saved_events(runtime: Runtime) -> int:
    """Handle Slack events saved but left unhandled (a process died, or a listener failed)."""
    if runtime.replay_saved_events is None:
        if not inbound.any_to_replay(runtime.sessions, now=runtime.clock.now()):
            return 0
        create_app(runtime)  # only when there is something to replay: it checks the token
    assert runtime.replay_saved_events is not None
    return runtime.replay_saved_events()


def _forget_old_events(runtime: Runtime) -> int:
    return inbound.forget_old_events(runtime.sessions, now=runtime.clock.now())


def _forget_old_import_progress(runtime: Runtime) -> int:
    return forget_old_import_progress(runtime.sessions, now=runtime.clock.now())


def _prune_sent_messages(runtime: Runtime) -> int:
    days = runtime.settings.outbox_retention_days
    return prune_sent_messages(runtime.sessions, now=runtime.clock.now(), days=days)


def due_tasks() -> list[tuple[str, DueTask]]:
    """The periodic tasks, in the order they run; messages are delivered last."""
    return [
        ("offers_expired", expire_overdue_offers),
        ("events_replayed", _replay_saved_events),
        ("forgotten_events", _forget_old_events),
        ("forgotten_import_progress", _forget_old_import_progress),
        # Missed before sent: a check-in still unanswered when the next falls due is missed.
        ("checkins_missed", mark_missed_checkins),
        ("checkins_sent", send_due_checkins),
        ("checkin_reminders", send_due_reminders),
        ("deployments_started", start_new_deployments),
        ("deployment_reviews", send_due_reviews),
        ("closing_records_asked", ask_for_closing_records),
        ("visit_offers_expired", expire_visit_offers),
        ("visit_reminders", send_visit_reminders),
        ("visits_followed_up", ask_whether_visits_were_useful),
        ("digests_sent", send_due_digest),
        ("requests_text_erased", erase_expired_text),
        ("visits_text_erased", erase_old_visit_text),
        ("outbox_pruned", _prune_sent_messages),
        ("messages_sent", _deliver_owed_messages),
    ]


def run_due(runtime: Runtime) -> dict[str, int]:
    """Run every due task once as of `runtime.clock.now()`; return what each did.

    A failing task is logged and does not stop the others. What each claimed, and each
    failure, is counted for `/metrics`.
    """
    results: dict[str, int] = {}
    for name, task in due_tasks():
        started = time.monotonic()
        try:
            results[name] = task(runtime)
        except Exception:
            log.exception("due task %s failed; the next run will try again", name)
            results[name] = -1
            DUE_WORK_FAILED.labels(name).inc()
            continue
        DUE_WORK_CLAIMED.labels(name).inc(max(0, results[name]))
        if results[name]:
            duration_ms = round((time.monotonic() - started) * 1000)
            log.info(
                "due task %s did %d in %d ms",
                name,
                results[name],
                duration_ms,
                extra={"task": name, "count": results[name], "duration_ms": duration_ms},
            )
    return results
