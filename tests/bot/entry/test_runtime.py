"""The composition root hands services one context, fixed at the runtime clock's instant."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from bot.core.clock import FixedClock, SystemClock
from bot.core.context import ServiceContext, Services
from bot.core.settings import load_settings
from bot.entry.runtime import build_runtime
from bot.outbox.shared_pacing import SharedPacer


def _context_of(services: Services) -> ServiceContext:
    """A domain's scheduled work sees the runtime only through the `Services` protocol."""
    return services.context()


def test_context_is_the_runtimes_settings_at_its_clocks_now(
    engine: Engine, clock: FixedClock
) -> None:
    settings = load_settings({"TIMEZONE": "Europe/London"}, env_file=None)
    runtime = build_runtime(settings, clock=clock, engine=engine)

    context = runtime.context()

    assert isinstance(context, ServiceContext)
    assert context.now == clock.now()
    assert context.settings is runtime.settings
    assert context.vocabulary is runtime.vocabulary
    assert context.calendar is runtime.calendar
    clock.advance(hours=1)
    later = _context_of(runtime)
    assert later.now - context.now == timedelta(hours=1)
    assert later.now == clock.now()


def test_a_running_bot_paces_slack_through_the_database(engine: Engine) -> None:
    """Every copy of the bot counts against the same rate limits: its pacer keeps them in
    the database, not in the process (a test on a fixed clock is not paced at all)."""
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-test"}, env_file=None)
    running = build_runtime(settings, clock=SystemClock(), engine=engine)
    assert isinstance(running.deliverer.pacer, SharedPacer)
    fixed = build_runtime(settings, clock=FixedClock(SystemClock().now()), engine=engine)
    assert fixed.deliverer.pacer is None


def test_the_outbox_gives_up_after_outbox_give_up_hours(engine: Engine, clock: FixedClock) -> None:
    settings = load_settings({"OUTBOX_GIVE_UP_HOURS": "6"}, env_file=None)
    runtime = build_runtime(settings, clock=clock, engine=engine)
    assert runtime.deliverer.give_up.after == timedelta(hours=6)
