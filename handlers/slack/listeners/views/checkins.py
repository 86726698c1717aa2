"""Submissions of the check-in note modals: what needs attention, and the impact note."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.checkins.service import COMPLETED, NEEDS_ATTENTION, answer_checkin
from bot.core.errors import InvalidInput, NotAllowed, UserFacingError
from bot.entry.runtime import Runtime
from handlers.slack.listeners.common import int_value, tell, user_id_of, view_metadata, view_values
from handlers.slack.listeners.views.requests import message_view
from storage.db import run_once


def register(app: App, runtime: Runtime) -> None:
    """Listen to the check-in note modals."""

    def submit(ack: Ack, body: dict[str, Any], *, outcome: str, block_id: str) -> None:
        checkin_id = int_value(str(view_metadata(body).get("checkin_id", "")))
        note = str(view_values(body).get(block_id) or "").strip()
        if checkin_id is None:
            ack(
                response_action="update",
                view=message_view("Not saved", "I couldn't tell which check-in this was."),
            )
            return
        if not note:
            ack(response_action="errors", errors={block_id: "Please write a short note."})
            return
        try:
            run_once(
                runtime.sessions,
                lambda session: answer_checkin(
                    session,
                    runtime.context(),
                    actor=user_id_of(body),
                    checkin_id=checkin_id,
                    outcome=outcome,
                    note=note,
                ),
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        except UserFacingError as exc:
            ack(response_action="update", view=message_view("Not saved", exc.message))
            if isinstance(exc, NotAllowed):
                tell(runtime, body, exc.message, refused=exc)
            return
        ack()
        runtime.deliverer.kick()

    @app.view("checkin_needs_attention")
    def on_needs_attention(ack: Ack, body: dict[str, Any]) -> None:
        submit(ack, body, outcome=NEEDS_ATTENTION, block_id="note")

    @app.view("checkin_completed")
    def on_completed(ack: Ack, body: dict[str, Any]) -> None:
        submit(ack, body, outcome=COMPLETED, block_id="impact")
