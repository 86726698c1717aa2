"""Buttons on offers and deployments: accept, decline, suggest a colleague, release, assign."""

from __future__ import annotations

import json
import re
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlmodel import Session

from bot.core.errors import NotAllowed, NotFound
from bot.directory.people import is_coordinator
from bot.entry.runtime import Runtime
from bot.requests.intake import summarise
from bot.routing.service import (
    accept_offer,
    offer_for_supporter,
    release_deployment,
    suggest_colleague,
)
from handlers.slack.blocks.offers import assign_modal, decline_modal
from handlers.slack.blocks.requests import full_request_modal
from handlers.slack.listeners.common import (
    action_value,
    commit_then_ack,
    first_action,
    friendly_errors,
    int_value,
    tell,
    user_id_of,
)
from handlers.slack.listeners.events.home import refresh_if_from_home

SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")  # it goes into a <@…> mention


RELEASED = "Thanks for letting me know. I'm finding someone else for the school."


def _id(body: dict[str, Any], what: str) -> int:
    value = int_value(action_value(body))
    if value is None:
        raise NotFound(f"That button doesn't point at a {what} I know.")
    return value


def register(app: App, runtime: Runtime) -> None:
    """Listen to offer and deployment buttons."""

    @app.action("offer_accept")
    def on_accept(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        with friendly_errors(runtime, body, ack):
            offer_id = _id(body, "offer")
            commit_then_ack(
                runtime,
                ack,
                lambda session: accept_offer(
                    session, runtime.context(), actor=user_id_of(body), offer_id=offer_id
                ),
            )
        refresh_if_from_home(runtime, client, body)

    @app.action("offer_decline")
    def on_decline(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with friendly_errors(runtime, body):
            offer_id = _id(body, "offer")
            with runtime.sessions() as session:
                offer_for_supporter(session, offer_id, user_id_of(body))
            client.views_open(trigger_id=body["trigger_id"], view=decline_modal(offer_id))

    @app.action("offer_suggest")
    def on_suggest(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            action = first_action(body)
            block_id = str(action.get("block_id") or "")
            offer_id = int_value(block_id.partition(":")[2])
            colleague = action.get("selected_user")
            if offer_id is None or not SLACK_USER_ID.fullmatch(str(colleague or "")):
                raise NotFound("I couldn't tell which offer or colleague that was.")

            def suggest(session: Session) -> None:
                reply = suggest_colleague(
                    session,
                    runtime.context(),
                    actor=user_id_of(body),
                    offer_id=offer_id,
                    colleague=str(colleague),
                )
                tell(runtime, body, reply, session=session)  # owed with the change itself

            commit_then_ack(runtime, ack, suggest)

    @app.action("offer_show_full")
    def on_show_full(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with friendly_errors(runtime, body):
            offer_id = _id(body, "offer")
            with runtime.sessions() as session:
                _, request, supporter = offer_for_supporter(session, offer_id, user_id_of(body))
                summary = summarise(session, request, runtime.vocabulary)
                # The school stays hidden until they accept, as in the offer DM itself.
                show_school = (
                    runtime.settings.show_school_before_accept
                    or request.assigned_id == supporter.id
                )
            client.views_open(
                trigger_id=body["trigger_id"],
                view=full_request_modal(summary, show_school=show_school),
            )

    @app.action("deployment_release")
    def on_release(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            deployment_id = _id(body, "deployment")

            def release(session: Session) -> None:
                release_deployment(
                    session, runtime.context(), actor=user_id_of(body), deployment_id=deployment_id
                )
                tell(runtime, body, RELEASED, session=session)  # owed with the change itself

            commit_then_ack(runtime, ack, release)

    @app.action("request_assign")
    def on_assign(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with friendly_errors(runtime, body):
            request_id = _id(body, "request")
            with runtime.sessions() as session:
                allowed = is_coordinator(session, user_id_of(body))
            if not allowed:
                raise NotAllowed(
                    "Only coordinators can assign requests.",
                    action="request.assign",
                    subject_type="request",
                    subject_id=request_id,
                )
            client.views_open(
                trigger_id=body["trigger_id"],
                view=assign_modal(request_id, json.dumps({"request_id": request_id})),
            )
