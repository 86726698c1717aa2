"""The demo's open-classrooms scene: a head asks to visit, a host school accepts and books a
school day, and both are reminded the working day before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlmodel import col, select

from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from handlers.slack.stand_in.signing import view_submission_payload
from storage.models import VisitOffer, VisitRequest


class Demo(Protocol):
    """What the scene needs from `bot.entry.demo.Demo`."""

    world: SlackWorld

    def step(self, title: str, action: Callable[[], Any] | None = None) -> None:
        """Narrate, act, and print what changed."""

    def click(self, user: str, action_id: str, value: str, channel: str | None = None) -> None:
        """Click a button as `user`."""


VISIT_TEXT = "Our maths lead would like to see mastery teaching in Year 4."


def play_visit(demo: Demo) -> None:
    """Harry asks to visit; Nadia's school hosts and books Tuesday 8 December."""
    world = demo.world
    form: dict[str, dict[str, Any]] = {
        "description": {"value": VISIT_TEXT},
        "areas": {"value": []},
    }
    demo.step(
        f"Open classrooms: Harry Head asks to visit (/support visit):\n    “{VISIT_TEXT}”",
        lambda: world.sender.interact(view_submission_payload("UHEAD2", "visit_request", form)),
    )
    with world.runtime.sessions() as session:
        visit = session.exec(select(VisitRequest).order_by(col(VisitRequest.id).desc())).one()
        offer = session.exec(select(VisitOffer).where(VisitOffer.visit_id == visit.id)).one()
    demo.step(
        "Nadia Leader presses [Host this visit]",
        lambda: demo.click("UNLE1", "visit_accept", str(offer.id)),
    )
    day: dict[str, dict[str, Any]] = {
        "date": {"value": {"type": "datepicker", "selected_date": "2026-12-08"}}
    }
    meta = f'{{"visit_id": {visit.id}}}'
    demo.step(
        "Nadia picks Tuesday 8 December in the date picker",
        lambda: world.sender.interact(view_submission_payload("UNLE1", "visit_date", day, meta)),
    )

    def the_day_before() -> None:
        world.clock.set(datetime(2026, 12, 7, 9, 30, tzinfo=UTC))
        run_due(world.runtime)

    demo.step("Monday 7 December, 09:30: the reminders", the_day_before)
