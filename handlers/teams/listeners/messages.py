"""Messages to the bot: a post in a team channel or a 1:1 chat becomes a request (once: a
re-delivered activity has the same id, and the request's source key is built from it); a few
words of thanks in a chat get a hint instead; `help` says what the bot does. Every message
also refreshes the stored reference of its conversation, so the bot can write there later."""

from __future__ import annotations

import logging
import re
from typing import Any

from microsoft_teams.api.activities import MessageActivity
from microsoft_teams.apps import ActivityContext, App
from sqlmodel import Session

from bot.reach.conversations import PERSONAL
from bot.requests.intake import answer_small_talk, capture_message, is_small_talk
from handlers.teams.context import TeamsContext, unit_of_work
from handlers.teams.listeners.common import (
    actor_of,
    conversation_of,
    name_of,
    remember,
    say_once,
)

log = logging.getLogger(__name__)

HELP = re.compile(r"^\s*(help|\?)\s*$", re.IGNORECASE)
HELP_TEXT = (
    "*I broker school-to-school support.* Tell me in a sentence or two what your school needs "
    'help with (for example: "We need support with SEND provision in Key Stage 2") and I\'ll '
    "offer it to the best-matched system leaders. You'll hear here when someone accepts.\n\n"
    "Please don't name pupils or staff. Details are shared only with the people who can help "
    "and your coordinators."
)


def message_text(activity: MessageActivity) -> str:
    """What the person wrote, without the bot's @mention."""
    stripped = activity.model_copy(deep=True).strip_mentions_text()
    return (stripped.text or "").strip()


def is_top_level(activity: MessageActivity) -> bool:
    """Not a reply in a channel thread (a reply is a conversation about a post, not a request)."""
    if activity.reply_to_id:
        return False
    _, _, message_id = str(activity.conversation.id).partition(";messageid=")
    return not message_id or message_id == activity.id


async def on_message(ctx: TeamsContext, activity: MessageActivity) -> None:
    """A message where the bot is: a request, `help`, or small talk."""
    text = message_text(activity)
    conversation_id, kind = conversation_of(activity)
    actor = actor_of(activity)
    if not text or not actor or not activity.id:
        return
    if conversation_id == ctx.config.coordinator_conversation_id or not is_top_level(activity):
        await unit_of_work(ctx, lambda session: remember(session, activity, ctx))
        return

    def handle(session: Session) -> str:
        remember(session, activity, ctx)
        now = ctx.services.clock.now()
        if HELP.match(text):
            key = f"teams-help:{conversation_id}:{activity.id}"
            say_once(session, ctx, key, conversation_id, HELP_TEXT)
            return "help"
        if kind == PERSONAL and is_small_talk(text, ctx.services.vocabulary):
            answer_small_talk(session, now=now, channel=conversation_id, ts=str(activity.id))
            return "small talk"
        outcome = capture_message(
            session,
            ctx.services.settings,
            ctx.services.vocabulary,
            now=now,
            user=actor,
            user_name=name_of(activity),
            channel=conversation_id,
            ts=str(activity.id),
            text=text,
        )
        return f"request {outcome.summary.id} {'captured' if outcome.created else 'seen'}"

    result = await unit_of_work(ctx, handle)
    log.info("Teams message %s in %s: %s", activity.id, conversation_id, result)


def register(app: App, ctx: TeamsContext) -> None:
    """Listen to messages in chats and channels the bot is in."""

    @app.on_message
    async def message(activity_ctx: ActivityContext[MessageActivity]) -> Any:
        await on_message(ctx, activity_ctx.activity)
