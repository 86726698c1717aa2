"""Submissions of the check-in note modals: what needs attention, and the impact note."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.checkins.service import COMPLETED, NEEDS_ATTENTION, answer_checkin
from bot.core.errors import InvalidInput, NotAllowed, UserFacingError
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import int_value, tell, user_id_of, view_metadata, view_values
from handlers.slack.listeners.views.requests import message_view


def submit_note(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], *, outcome: str, block_id: str
) -> None:
    """Answer the check-in with the note (once, if a double submit raced it), then ack."""
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
        unit_of_work(
            ctx,
            lambda session: answer_checkin(
                session,
                ctx.context(),
                actor=user_id_of(body),
                checkin_id=checkin_id,
                outcome=outcome,
                note=note,
            ),
            then_ack=ack,
            retry_on_conflict=True,
        )
    except InvalidInput as exc:
        ack(response_action="errors", errors=exc.errors)
    except UserFacingError as exc:
        ack(response_action="update", view=message_view("Not saved", exc.message))
        if isinstance(exc, NotAllowed):
            tell(ctx, body, exc.message, refused=exc)


def on_needs_attention(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The "needs attention" note form."""
    submit_note(ctx, ack, body, outcome=NEEDS_ATTENTION, block_id="note")


def on_completed(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The impact note form, closing the deployment."""
    submit_note(ctx, ack, body, outcome=COMPLETED, block_id="impact")


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the check-in note modals."""
    app.view("checkin_needs_attention")(partial(on_needs_attention, ctx))
    app.view("checkin_completed")(partial(on_completed, ctx))
