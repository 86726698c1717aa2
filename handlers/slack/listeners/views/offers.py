"""Submissions of the decline-reason and assign-a-supporter modals."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import NotAllowed, UserFacingError
from bot.entry.runtime import Runtime
from bot.routing.service import assign_request, decline_offer
from handlers.slack.listeners.common import (
    int_value,
    record_refusal,
    user_id_of,
    view_metadata,
    view_values,
)
from handlers.slack.listeners.views.requests import message_view
from storage.db import transaction


def register(app: App, runtime: Runtime) -> None:
    """Listen to the offer-related modals."""

    @app.view("offer_decline")
    def on_decline(ack: Ack, body: dict[str, Any]) -> None:
        offer_id = int_value(str((body.get("view") or {}).get("private_metadata") or ""))
        reason = view_values(body).get("reason")
        if offer_id is None:
            ack(
                response_action="update",
                view=message_view("Not saved", "I couldn't tell which offer this was."),
            )
            return
        try:
            with transaction(runtime.sessions) as session:
                decline_offer(
                    session,
                    runtime.context(),
                    actor=user_id_of(body),
                    offer_id=offer_id,
                    reason=reason,
                )
        except UserFacingError as exc:
            ack(response_action="update", view=message_view("Not declined", exc.message))
            if isinstance(exc, NotAllowed):
                with transaction(runtime.sessions) as session:
                    record_refusal(session, exc, actor=user_id_of(body), now=runtime.clock.now())
            return
        ack()
        runtime.deliverer.kick()

    @app.view("assign")
    def on_assign(ack: Ack, body: dict[str, Any]) -> None:
        request_id = int_value(str(view_metadata(body).get("request_id", "")))
        supporter = view_values(body).get("supporter")
        if request_id is None or not supporter:
            ack(response_action="errors", errors={"supporter": "Please choose a supporter."})
            return
        try:
            with transaction(runtime.sessions) as session:
                assign_request(
                    session,
                    runtime.context(),
                    actor=user_id_of(body),
                    request_id=request_id,
                    supporter_slack_id=str(supporter),
                )
        except UserFacingError as exc:
            ack(response_action="errors", errors={"supporter": exc.message[:150]})
            if isinstance(exc, NotAllowed):
                with transaction(runtime.sessions) as session:
                    record_refusal(session, exc, actor=user_id_of(body), now=runtime.clock.now())
            return
        ack()
        runtime.deliverer.kick()
