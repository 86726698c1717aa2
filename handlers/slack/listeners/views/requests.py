"""Submissions of the request modal (new and edit) and the newcomer's profile modal."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import InvalidInput, NotAllowed, UserFacingError
from bot.entry.runtime import Runtime
from bot.requests.intake import edit_request, needs_profile, save_profile, submit_request, validate
from bot.requests.views import Draft
from bot.routing.service import refresh_open_offers
from handlers.slack.blocks import plain, section
from handlers.slack.listeners.actions.requests import find_support
from handlers.slack.listeners.common import (
    int_value,
    tell,
    user_id_of,
    user_name_of,
    view_metadata,
    view_values,
)
from storage.db import run_once, transaction

log = logging.getLogger(__name__)


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


def register(app: App, runtime: Runtime) -> None:
    """Listen to the request and profile modals."""

    def today() -> Any:
        return runtime.clock.now().astimezone(runtime.settings.tz).date()

    @app.view("request_new")
    def on_new_request(ack: Ack, body: dict[str, Any]) -> None:
        user = user_id_of(body)
        with runtime.sessions() as session:
            need_profile = needs_profile(session, user)
        try:
            draft = validate(
                draft_from_view(body), runtime.vocabulary, today=today(), need_profile=need_profile
            )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        metadata = view_metadata(body)
        source = metadata.get("source")
        view_id = (body.get("view") or {}).get("id") or ""
        outcome = run_once(
            runtime.sessions,
            lambda session: submit_request(
                session,
                runtime.settings,
                runtime.vocabulary,
                now=runtime.clock.now(),
                user=user,
                user_name=user_name_of(body),
                draft=draft,
                source=source if source in ("command", "shortcut", "home") else "command",
                source_key=f"view:{view_id}",
                private=metadata.get("private") is True,
            ),
        )
        ack()
        if outcome.created:
            find_support(runtime, outcome.summary.id, actor=user)
        runtime.deliverer.kick()

    @app.view("request_edit")
    def on_edit_request(ack: Ack, body: dict[str, Any]) -> None:
        user = user_id_of(body)
        request_id = int_value(str(view_metadata(body).get("request_id", "")))
        # An over-long description (stored before the limit) is shown as a note, not a field.
        keep_description = "description" not in view_values(body)
        try:
            draft = validate(
                draft_from_view(body),
                runtime.vocabulary,
                today=today(),
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
            with transaction(runtime.sessions) as session:
                edit_request(
                    session,
                    runtime.vocabulary,
                    now=runtime.clock.now(),
                    actor=user,
                    request_id=request_id,
                    draft=draft,
                    keep_description=keep_description,
                )
                refresh_open_offers(session, runtime.context(), request_id)
        except UserFacingError as exc:
            ack(response_action="update", view=message_view("Not saved", exc.message))
            tell(runtime, body, exc.message, refused=exc if isinstance(exc, NotAllowed) else None)
            return
        ack()
        runtime.deliverer.kick()

    @app.view("profile")
    def on_profile(ack: Ack, body: dict[str, Any]) -> None:
        values = view_values(body)
        try:
            with transaction(runtime.sessions) as session:
                save_profile(
                    session,
                    runtime.vocabulary,
                    now=runtime.clock.now(),
                    user=user_id_of(body),
                    user_name=user_name_of(body),
                    school_name=values.get("school") or "",
                    phase=values.get("phase"),
                    region=values.get("region"),
                )
        except InvalidInput as exc:
            ack(response_action="errors", errors=exc.errors)
            return
        ack()
        runtime.deliverer.kick()
