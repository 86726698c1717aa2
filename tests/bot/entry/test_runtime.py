"""The composition root hands services one context, fixed at the runtime clock's instant."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from bot.core.clock import FixedClock
from bot.core.context import ServiceContext, Services
from bot.core.settings import load_settings
from bot.entry.runtime import build_runtime


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
