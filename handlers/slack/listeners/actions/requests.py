"""Buttons on a request's card: find support, edit, cancel, add school details, show in full;
and *Update the request* after the head edited the post of an accepted request."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core.errors import NotFound, UserFacingError
from bot.core.text import readable
from bot.requests.flows import (
    check_may_add_profile,
    draft_for_editing,
    post_of_request,
    request_in_full,
)
from bot.requests.intake import cancel_request
from bot.requests.post_changes import UPDATE_ACTION
from bot.routing import flows
from bot.routing.service import confirm_request
from handlers.slack.blocks.requests import full_request_modal, profile_modal, request_modal
from handlers.slack.client import before_ack
from handlers.slack.context import SlackContext, unit_of_work
from handlers.slack.listeners.common import (
    action_value,
    friendly_errors,
    int_value,
    user_id_of,
)


def _request_id(body: dict[str, Any]) -> int:
    request_id = int_value(action_value(body))
    if request_id is None:
        raise NotFound("That button doesn't point at a request I know.")
    return request_id


COULD_NOT_READ_POST = (
    "I couldn't read your post from Slack just now, so nothing has changed. Please press "
    "*Update the request* again in a minute."
)


def current_post_text(client: WebClient, channel: str | None, ts: str | None) -> str | None:
    """The text of a head's post as it stands in Slack now, as people read it: "" if it is
    gone, None if Slack couldn't be asked in time (rate-limited, failing or slow)."""
    if not channel or not ts:
        return ""
    try:
        found = before_ack(client).conversations_history(
            channel=channel, latest=ts, inclusive=True, limit=1
        )
    except (SlackApiError, SlackClientError, OSError):
        return None
    for message in found.get("messages") or []:
        if isinstance(message, dict) and message.get("ts") == ts:
            return readable(str(message.get("text") or ""))
    return ""


def update_request_from_post(
    ctx: SlackContext, body: dict[str, Any], client: WebClient, ack: Ack
) -> None:
    """*Update the request*: read the edited post from Slack and make the request match it;
    acknowledged once the change is committed."""
    request_id = _request_id(body)
    channel, ts = unit_of_work(ctx, lambda session: post_of_request(session, request_id))
    text = current_post_text(client, channel, ts)
    if text is None:
        raise UserFacingError(COULD_NOT_READ_POST)
    unit_of_work(
        ctx,
        lambda session: flows.update_request_from_post(
            session, ctx.context(), actor=user_id_of(body), request_id=request_id, text=text
        ),
        then_ack=ack,
    )


def on_update_from_post(
    ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient
) -> None:
    """*Update the request* after the head edited the post of an accepted request."""
    with friendly_errors(ctx, body, ack):
        update_request_from_post(ctx, body, client, ack)


def on_confirm(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Find support*: offer the request now; acknowledged once that is committed."""
    with friendly_errors(ctx, body, ack):
        request_id = _request_id(body)
        unit_of_work(
            ctx,
            lambda session: confirm_request(
                session, ctx.context(), actor=user_id_of(body), request_id=request_id
            ),
            then_ack=ack,
        )


def on_cancel(ctx: SlackContext, ack: Ack, body: dict[str, Any]) -> None:
    """*Cancel*: the request is cancelled; acknowledged once that is committed."""
    with friendly_errors(ctx, body, ack):
        request_id = _request_id(body)
        unit_of_work(
            ctx,
            lambda session: cancel_request(
                session,
                ctx.vocabulary,
                now=ctx.clock.now(),
                actor=user_id_of(body),
                request_id=request_id,
            ),
            then_ack=ack,
        )


def on_edit(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Edit*: open the request form filled in (acknowledged first: it changes nothing)."""
    ack()
    user = user_id_of(body)
    with friendly_errors(ctx, body):
        request_id = _request_id(body)
        draft = unit_of_work(
            ctx,
            lambda session: draft_for_editing(
                session, ctx.vocabulary, actor=user, request_id=request_id
            ),
        )
        client.views_open(
            trigger_id=body["trigger_id"],
            view=request_modal(
                draft,
                ctx.vocabulary,
                need_profile=False,
                metadata={"request_id": request_id},
                editing=True,
            ),
        )


def on_profile(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Add your school's details*: open the profile form, for the head who asked."""
    ack()
    with friendly_errors(ctx, body):
        request_id = _request_id(body)
        unit_of_work(
            ctx,
            lambda session: check_may_add_profile(
                session, actor=user_id_of(body), request_id=request_id
            ),
        )
        client.views_open(
            trigger_id=body["trigger_id"], view=profile_modal({"request_id": request_id})
        )


def on_show_full(ctx: SlackContext, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    """*Show in full*: the whole request, for those it is shared with."""
    ack()
    with friendly_errors(ctx, body):
        request_id = _request_id(body)
        summary = unit_of_work(
            ctx,
            lambda session: request_in_full(
                session, ctx.vocabulary, actor=user_id_of(body), request_id=request_id
            ),
        )
        client.views_open(trigger_id=body["trigger_id"], view=full_request_modal(summary))


def register(app: App, ctx: SlackContext) -> None:
    """Listen to the request card's buttons."""
    app.action(UPDATE_ACTION)(partial(on_update_from_post, ctx))
    app.action("request_confirm")(partial(on_confirm, ctx))
    app.action("request_cancel")(partial(on_cancel, ctx))
    app.action("request_edit")(partial(on_edit, ctx))
    app.action("request_profile")(partial(on_profile, ctx))
    app.action("request_show_full")(partial(on_show_full, ctx))
