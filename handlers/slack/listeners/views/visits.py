"""Submissions of the open-classroom forms: asking to visit, and the host's visit date."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import InvalidInput, NotAllowed, UserFacingError
from bot.visits.booking import book_visit
from bot.visits.service import ask_to_visit
from bot.visits.views import VisitDraft
from handlers.slack.blocks.visits import DATE_FORM, VISIT_FORM
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import (
    int_value,
    tell,
    user_id_of,
    view_metadata,
    view_values,
)
from handlers.slack.listeners.views.requests import message_view


def _refuse(ctx: SlackContext, ack: Ack, body: dict[str, Any], exc: UserFacingError) -> None:
    """Errors by field stay on the form; anything else replaces it with the reason."""
    if isinstance(exc, InvalidInput):
        ack(response_action="errors", errors=exc.errors)
        return
    ack(response_action="update", view=message_view("Not saved", exc.message))
    if isinstance(exc, NotAllowed):
        tell(ctx, body, exc.message, refused=exc)


def on_visit_request(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """A request to visit: saved once and offered to host schools, then acknowledged."""
    values = view_values(body)
    draft = VisitDraft(
        description=values.get("description") or "", tags=tuple(values.get("areas") or ())
    )
    view_id = (body.get("view") or {}).get("id") or ""
    try:
        unit_of_work(
            ctx,
            lambda session: ask_to_visit(
                session,
                ctx.context(),
                actor=user_id_of(body),
                draft=draft,
                source_key=f"visit:view:{view_id}",
            ),
            then_ack=ack,
            retry_on_conflict=True,
        )
    except UserFacingError as exc:
        _refuse(ctx, ack, body, exc)


def on_visit_date(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The host's chosen day: booked (within the calendar and capacity), then acknowledged."""
    visit_id = int_value(str(view_metadata(body).get("visit_id", "")))
    if visit_id is None:
        ack(
            response_action="update",
            view=message_view("Not saved", "I couldn't tell which visit this was."),
        )
        return
    day = view_values(body).get("date")
    try:
        unit_of_work(
            ctx,
            lambda session: book_visit(
                session, ctx.context(), actor=user_id_of(body), visit_id=visit_id, day=day
            ),
            then_ack=ack,
        )
    except UserFacingError as exc:
        _refuse(ctx, ack, body, exc)


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the open-classroom forms."""
    app.view(VISIT_FORM)(partial(on_visit_request, ctx))
    app.view(DATE_FORM)(partial(on_visit_date, ctx))
