"""The message action "Request support" (the manifest's `requestSupport`, Teams' twin of the
Slack shortcut): the chosen message becomes a request, once (its id is the source key), and the
card with what the bot understood is posted under it, where *Find support* sends it out."""

from __future__ import annotations

import html
import logging
import re
from typing import Any

from microsoft_teams.api.activities.invoke.message_extension.fetch_task import (
    MessageExtensionFetchTaskInvokeActivity,
)
from microsoft_teams.api.models.invoke_response import MessagingExtensionActionInvokeResponse
from microsoft_teams.api.models.messaging_extension.messaging_extension_action_response import (
    MessagingExtensionActionResponse,
)
from microsoft_teams.api.models.task_module.task_module_message_response import (
    TaskModuleMessageResponse,
)
from microsoft_teams.apps import ActivityContext, App
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from bot.core.errors import UserFacingError
from bot.requests.intake import capture_message
from handlers.teams.cards import teams_text
from handlers.teams.context import TeamsContext, unit_of_work
from handlers.teams.listeners.common import BUSY, actor_of, conversation_of, name_of, remember

log = logging.getLogger(__name__)

TAG = re.compile(r"<[^>]+>")
NO_TEXT = "There are no words in that message to make a request of."


def message_words(payload: Any) -> tuple[str, str]:
    """The chosen message's id and its words (Teams sends them as HTML)."""
    body = getattr(payload, "body", None)
    content = str(getattr(body, "content", None) or "")
    if getattr(body, "content_type", None) != "text":
        content = html.unescape(TAG.sub(" ", content.replace("<br>", "\n")))
    return str(getattr(payload, "id", None) or ""), re.sub(r"[ \t]+", " ", content).strip()


def _answer(text: str) -> MessagingExtensionActionResponse:
    """The small dialog's words, in Teams Markdown like every text the bot shows."""
    return MessagingExtensionActionResponse(task=TaskModuleMessageResponse(value=teams_text(text)))


async def on_request_support(ctx: TeamsContext, activity: Any) -> MessagingExtensionActionResponse:
    """Make a request of the chosen message; say what happened in a small dialog."""
    message_id, text = message_words(activity.value.message_payload)
    actor = actor_of(activity)
    if not text or not message_id or not actor:
        return _answer(NO_TEXT)
    conversation_id, _ = conversation_of(activity)

    def capture(session: Session) -> str:
        remember(session, activity, ctx)
        outcome = capture_message(
            session,
            ctx.services.settings,
            ctx.services.vocabulary,
            now=ctx.services.clock.now(),
            user=actor,
            user_name=name_of(activity),
            channel=conversation_id,
            ts=message_id,
            text=text,
        )
        seen = "" if outcome.created else " (already a request)"
        return (
            f"Request #{outcome.summary.id}{seen}: I've replied under the message with what I "
            "understood; press Find support there to send it out."
        )

    try:
        return _answer(await unit_of_work(ctx, capture))
    except UserFacingError as exc:
        return _answer(exc.message)
    except OperationalError:
        log.exception("database busy or unavailable")
        return _answer(BUSY)


def register(app: App, ctx: TeamsContext) -> None:
    """Listen to the "Request support" message action."""

    @app.on_message_ext_open
    async def request_support(
        activity_ctx: ActivityContext[MessageExtensionFetchTaskInvokeActivity],
    ) -> MessagingExtensionActionInvokeResponse:
        return await on_request_support(ctx, activity_ctx.activity)
