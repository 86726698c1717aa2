"""Submissions of the request modal (new and edit) and the newcomer's profile modal."""

from __future__ import annotations

import logging
from datetime import date
from functools import partial
from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import Conflict, InvalidInput, NotAllowed, UserFacingError
from bot.requests.intake import needs_profile, save_profile, submit_request, validate
from bot.requests.views import Draft
from bot.routing.flows import edit_request_and_refresh_offers, find_support_if_new
from handlers.slack.blocks import plain, section
from handlers.slack.context import SlackContext, look_up, unit_of_work
from handlers.slack.listeners.common import (
    audit_refusal,
    int_value,
    told_if_it_fails,
    user_id_of,
    user_name_of,
    view_metadata,
    view_values,
)

log = logging.getLogger(__name__)

# After a stale edit's refusal: closing the form loses what was typed.
KEEP_IT = "Copy anything you want to keep before closing this form."


def draft_from_view(body: dict[str, Any]) -> Draft:
    """The request modal's inputs as a draft."""
    values = view_values(body)
    return Draft(
        title=values.get("title") or "",
        description=values.get("description") or "",
        tags=tuple(values.get("areas") or ()),
        urgency=values.get("urgency") or "",
        preferred_start=values.get("start"),
        school_name=values.get("school") or "",
        phase=values.get("phase"),
        region=values.get("region"),
    )


def message_view(title: str, text: str) -> dict[str, Any]:
    """A small modal that just says something (replaces a form that can't be saved)."""
    return {
        "type": "modal",
        "title": plain(title, 24),
        "close": plain("Close"),
        "blocks": [section(text)],
    }


def _today(ctx: SlackContext) -> date:
    return ctx.clock.now().astimezone(ctx.settings.tz).date()


def on_new_request(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """A new request from the form: saved (once), acknowledged, then offered."""
    user = user_id_of(body)
    need_profile = look_up(ctx, lambda session: needs_profile(session, user))
    try:
        draft = validate(
            draft_from_view(body), ctx.vocabulary, today=_today(ctx), need_profile=need_profile
        )
    except InvalidInput as exc:
        ack(response_action="errors", errors=exc.errors)
        return
    metadata = view_metadata(body)
    source = metadata.get("source")
    view_id = (body.get("view") or {}).get("id") or ""
    outcome = unit_of_work(
        ctx,
        lambda session: submit_request(
            session,
            ctx.settings,
            ctx.vocabulary,
            now=ctx.clock.now(),
            user=user,
            user_name=user_name_of(body),
            draft=draft,
            source=source if source in ("command", "shortcut", "home") else "command",
            source_key=f"view:{view_id}",
            private=metadata.get("private") is True,
        ),
        then_ack=ack,
        retry_on_conflict=True,
    )
    # After the ack: matching may take longer than Slack's three seconds. The request is
    # saved by now, so a failure here must not say "nothing was changed".
    with told_if_it_fails(ctx, body, not_sent_out(outcome.summary.id)):
        unit_of_work(
            ctx,
            lambda session: find_support_if_new(
                session, ctx.context(), actor=user, outcome=outcome
            ),
        )


def not_sent_out(request_id: int) -> str:
    """What a head is told when their request was saved but not sent to supporters."""
    return (
        f"Your request #{request_id} is saved, but I couldn't send it to supporters just now. "
        "Press *Find support* on it in a minute; if that doesn't work either, tell your "
        "coordinator."
    )


def on_edit_request(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """An edited request from the form: saved with its open offers refreshed, then acknowledged."""
    user = user_id_of(body)
    request_id = int_value(str(view_metadata(body).get("request_id", "")))
    # An over-long description (stored before the limit) is shown as a note, not a field.
    keep_description = "description" not in view_values(body)
    try:
        draft = validate(
            draft_from_view(body),
            ctx.vocabulary,
            today=_today(ctx),
            need_profile=False,
            keep_description=keep_description,
        )
    except InvalidInput as exc:
        ack(response_action="errors", errors=exc.errors)
        return
    if request_id is None:
        ack(
            response_action="update",
            view=message_view("Not saved", "I couldn't tell which request this was."),
        )
        return
    try:
        unit_of_work(
            ctx,
            lambda session: edit_request_and_refresh_offers(
                session,
                ctx.context(),
                actor=user,
                request_id=request_id,
                draft=draft,
                keep_description=keep_description,
            ),
            then_ack=ack,
        )
    except Conflict as exc:
        # Too late (accepted or cancelled while the form was open): said once, at the top of
        # the form, which stays open so that what they typed can still be copied.
        ack(response_action="errors", errors={"title": f"Not saved. {exc.message} {KEEP_IT}"})
    except UserFacingError as exc:
        ack(response_action="update", view=message_view("Not saved", exc.message))
        if isinstance(exc, NotAllowed):
            audit_refusal(ctx, exc, body)


def on_profile(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """The newcomer's school details: saved, then acknowledged."""
    values = view_values(body)
    try:
        unit_of_work(
            ctx,
            lambda session: save_profile(
                session,
                ctx.vocabulary,
                now=ctx.clock.now(),
                user=user_id_of(body),
                user_name=user_name_of(body),
                school_name=values.get("school") or "",
                phase=values.get("phase"),
                region=values.get("region"),
            ),
            then_ack=ack,
        )
    except InvalidInput as exc:
        ack(response_action="errors", errors=exc.errors)


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the request and profile modals."""
    app.view("request_new")(partial(on_new_request, ctx))
    app.view("request_edit")(partial(on_edit_request, ctx))
    app.view("profile")(partial(on_profile, ctx))
