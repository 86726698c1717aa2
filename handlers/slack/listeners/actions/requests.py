"""Buttons on a request's card: find support, edit, cancel, add school details, show in full;
and *Update the request* after the head edited the post of an accepted request."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.core.errors import NotAllowed, NotFound
from bot.directory.people import school_of
from bot.entry.runtime import Runtime
from bot.requests.intake import (
    cancel_request,
    get_request,
    may_change,
    may_view,
    request_tags,
    summarise,
)
from bot.requests.post_changes import UPDATE_ACTION
from bot.requests.views import Draft
from bot.routing import flows
from bot.routing.service import confirm_request
from handlers.slack.blocks.requests import full_request_modal, profile_modal, request_modal
from handlers.slack.listeners.common import (
    action_value,
    commit_then_ack,
    friendly_errors,
    in_transaction,
    int_value,
    user_id_of,
)
from storage.models import Person


def find_support(runtime: Runtime, request_id: int, *, actor: str, ack: Ack | None = None) -> None:
    """Offer a request to the best-matched supporters now (acknowledging, if asked, once
    that is committed)."""

    def offer(session: Session) -> None:
        confirm_request(session, runtime.context(), actor=actor, request_id=request_id)

    if ack is None:
        in_transaction(runtime, offer)
    else:
        commit_then_ack(runtime, ack, offer)


def _request_id(body: dict[str, Any]) -> int:
    request_id = int_value(action_value(body))
    if request_id is None:
        raise NotFound("That button doesn't point at a request I know.")
    return request_id


def current_post_text(client: WebClient, channel: str | None, ts: str | None) -> str:
    """The text of a head's post as it stands in Slack now ("" if it is gone)."""
    if not channel or not ts:
        return ""
    try:
        found = client.conversations_history(channel=channel, latest=ts, inclusive=True, limit=1)
    except SlackApiError:
        return ""
    for message in found.get("messages") or []:
        if isinstance(message, dict) and message.get("ts") == ts:
            return str(message.get("text") or "")
    return ""


def update_request_from_post(runtime: Runtime, body: dict[str, Any], client: WebClient) -> None:
    """*Update the request*: read the edited post from Slack and make the request match it."""
    request_id = _request_id(body)
    with runtime.sessions() as session:
        request = get_request(session, request_id)
        channel, ts = request.channel_id, request.message_ts
    text = current_post_text(client, channel, ts)
    in_transaction(
        runtime,
        lambda session: flows.update_request_from_post(
            session, runtime.context(), actor=user_id_of(body), request_id=request_id, text=text
        ),
    )


def register(app: App, runtime: Runtime) -> None:
    """Listen to the request card's buttons."""

    @app.action(UPDATE_ACTION)
    def on_update_from_post(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with friendly_errors(runtime, body):
            update_request_from_post(runtime, body, client)

    @app.action("request_confirm")
    def on_confirm(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            find_support(runtime, _request_id(body), actor=user_id_of(body), ack=ack)

    @app.action("request_cancel")
    def on_cancel(ack: Ack, body: dict[str, Any]) -> None:
        with friendly_errors(runtime, body, ack):
            request_id = _request_id(body)
            commit_then_ack(
                runtime,
                ack,
                lambda session: cancel_request(
                    session,
                    runtime.vocabulary,
                    now=runtime.clock.now(),
                    actor=user_id_of(body),
                    request_id=request_id,
                ),
            )

    @app.action("request_edit")
    def on_edit(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user = user_id_of(body)
        with friendly_errors(runtime, body):
            request_id = _request_id(body)
            with runtime.sessions() as session:
                request = get_request(session, request_id)
                if not may_change(session, request, user):
                    raise NotAllowed(
                        "Only the head who asked for this support, or a coordinator, can edit it.",
                        action="request.edit",
                        subject_type="request",
                        subject_id=request_id,
                    )
                requester = session.get(Person, request.requester_id)
                school = school_of(session, requester) if requester else None
                summary = summarise(session, request, runtime.vocabulary)
                draft = Draft(
                    title=request.title,
                    description=request.description,
                    tags=tuple(request_tags(session, request_id)),
                    urgency=request.urgency,
                    preferred_start=request.preferred_start,
                    school_name=summary.school or (school.name if school else ""),
                )
            client.views_open(
                trigger_id=body["trigger_id"],
                view=request_modal(
                    draft,
                    runtime.vocabulary,
                    need_profile=False,
                    metadata={"request_id": request_id},
                    editing=True,
                ),
            )

    @app.action("request_profile")
    def on_profile(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with friendly_errors(runtime, body):
            request_id = _request_id(body)
            with runtime.sessions() as session:
                request = get_request(session, request_id)
                requester = session.get(Person, request.requester_id)
                if requester is None or requester.slack_user_id != user_id_of(body):
                    raise NotAllowed(
                        "Only the head who asked can add their school's details.",
                        action="person.profile",
                        subject_type="request",
                        subject_id=request_id,
                    )
            client.views_open(
                trigger_id=body["trigger_id"], view=profile_modal({"request_id": request_id})
            )

    @app.action("request_show_full")
    def on_show_full(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        with friendly_errors(runtime, body):
            request_id = _request_id(body)
            with runtime.sessions() as session:
                request = get_request(session, request_id)
                if not may_view(session, request, user_id_of(body)):
                    raise NotAllowed(
                        "The details of a request are shared only with the head, coordinators "
                        "and the supporters asked to help.",
                        action="request.view",
                        subject_type="request",
                        subject_id=request_id,
                    )
                summary = summarise(session, request, runtime.vocabulary)
            client.views_open(trigger_id=body["trigger_id"], view=full_request_modal(summary))
