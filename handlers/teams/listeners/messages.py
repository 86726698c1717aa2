"""Messages to the bot: a post in a team channel or a 1:1 chat becomes a request (once: a
re-delivered activity has the same id, and the request's source key is built from it); a few
words of thanks in a chat get a hint instead; a request that begins with "visit" (no colon) is
kept unsent and answered with the question whether a visit was meant; commands (`support …`,
and `home`, `away`, `back`, `help` as the whole message) are answered in place (`commands`),
and so are the changes `assign …`, `suggest …`, `visit: …`, `visit-assign …` and `audit N` (in
any chat, the coordinators' channel included; a refusal is answered and audited, and changes
nothing). Every message also refreshes the stored reference of its conversation, so the bot can
write there later."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from microsoft_teams.api.activities import MessageActivity
from microsoft_teams.apps import ActivityContext, App
from sqlmodel import Session

from bot.core.errors import NotAllowed, UserFacingError
from bot.outbox.flows import record_refusal
from bot.reach.conversations import PERSONAL
from bot.requests.intake import answer_small_talk, capture_message, is_small_talk
from handlers.teams.context import TeamsContext, unit_of_work
from handlers.teams.listeners.audit import audit_reply
from handlers.teams.listeners.commands import (
    HELP_TEXT,
    assign_reply,
    availability_reply,
    is_change,
    may_mean_a_visit,
    split_command,
    suggest_reply,
    visit_assign_reply,
)
from handlers.teams.listeners.common import (
    actor_of,
    already_said,
    conversation_of,
    name_of,
    remember,
    say_once,
)
from handlers.teams.listeners.home import home_reply_and_cards
from handlers.teams.listeners.visits import visit_reply

log = logging.getLogger(__name__)


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
    """A message where the bot is: a request, a command, or small talk."""
    text = message_text(activity)
    conversation_id, kind = conversation_of(activity)
    actor = actor_of(activity)
    if not text or not actor or not activity.id:
        return
    reply_key = f"teams-reply:{conversation_id}:{activity.id}"
    command, rest = split_command(text)
    if is_change(command, rest) and is_top_level(activity):
        change = CHANGES[command]
        if command == "visit":  # asked once per message, however often Teams delivers it
            change = partial(visit_reply, key=f"visit:teams:{conversation_id}:{activity.id}")
        if command == "audit":  # in a 1:1 chat the trail is the answer; elsewhere, a pointer
            change = partial(audit_reply, personal=kind == PERSONAL, key=reply_key)
        result = await make_change(ctx, activity, change, rest, reply_key)
        log.info("Teams command %s in %s: %s", command, conversation_id, result)
        return
    if conversation_id == ctx.config.coordinator_conversation_id or not is_top_level(activity):
        await unit_of_work(ctx, lambda session: remember(session, activity, ctx))
        return
    request_text = rest if command == "support" else text

    def handle(session: Session) -> str:
        remember(session, activity, ctx)
        if command == "home":  # the summary, and a card per deployment in their 1:1 chat
            return home_reply_and_cards(
                session, ctx, actor=actor, channel=conversation_id, key=reply_key
            )
        if command in REPLIES or (command == "support" and not rest):
            reply = REPLIES.get(command, REPLIES["help"])(session, ctx, actor)
            say_once(session, ctx, reply_key, conversation_id, reply)
            return str(command)
        if kind == PERSONAL and is_small_talk(request_text, ctx.services.vocabulary):
            now = ctx.services.clock.now()
            answer_small_talk(session, now=now, channel=conversation_id, ts=str(activity.id))
            return "small talk"
        asking = may_mean_a_visit(command, request_text)
        return capture(session, ctx, activity, actor, conversation_id, request_text, asking)

    result = await unit_of_work(ctx, handle)
    log.info("Teams message %s in %s: %s", activity.id, conversation_id, result)


Change = Callable[..., str]


async def make_change(
    ctx: TeamsContext, activity: MessageActivity, change: Change, rest: str, reply_key: str
) -> str:
    """Run a changing command and owe its reply in one transaction (once per activity); a
    refusal is answered (and audited) in a transaction of its own, changing nothing."""
    actor = actor_of(activity)
    conversation_id, _ = conversation_of(activity)

    def work(session: Session) -> str:
        remember(session, activity, ctx)
        if already_said(session, reply_key):  # Teams delivered it again: done already
            return "seen"
        reply = change(session, ctx.services.context(), actor=actor, rest=rest)
        if reply:  # "" when the core itself has told them (a visit asked for)
            say_once(session, ctx, reply_key, conversation_id, reply)
        return "done"

    try:
        return await unit_of_work(ctx, work)
    except UserFacingError as exc:
        refused = exc

    def refuse(session: Session) -> str:
        remember(session, activity, ctx)
        if isinstance(refused, NotAllowed):
            record_refusal(session, refused, actor=actor, now=ctx.services.clock.now())
        say_once(session, ctx, reply_key, conversation_id, refused.message)
        return f"refused ({type(refused).__name__})"

    return await unit_of_work(ctx, refuse)


CHANGES: dict[str | None, Change] = {
    "assign": assign_reply,
    "suggest": suggest_reply,
    "audit": audit_reply,
    "visit": visit_reply,
    "visit-assign": visit_assign_reply,
}


def capture(
    session: Session,
    ctx: TeamsContext,
    activity: MessageActivity,
    actor: str,
    where: str,
    text: str,
    ask_if_visit: bool,
) -> str:
    """Store the message as a request (once) and owe the card in reply, or (`ask_if_visit`)
    the question whether a visit was meant, the request unsent until they choose."""
    outcome = capture_message(
        session,
        ctx.services.settings,
        ctx.services.vocabulary,
        now=ctx.services.clock.now(),
        user=actor,
        user_name=name_of(activity),
        channel=where,
        ts=str(activity.id),
        text=text,
        ask_if_visit=ask_if_visit,
    )
    return f"request {outcome.summary.id} {'captured' if outcome.created else 'seen'}"


REPLIES: dict[str | None, Callable[[Session, TeamsContext, str], str]] = {
    "help": lambda _session, _ctx, _actor: HELP_TEXT,
    "away": lambda session, ctx, actor: availability_reply(
        session, now=ctx.services.clock.now(), actor=actor, away=True
    ),
    "back": lambda session, ctx, actor: availability_reply(
        session, now=ctx.services.clock.now(), actor=actor, away=False
    ),
}


def register(app: App, ctx: TeamsContext) -> None:
    """Listen to messages in chats and channels the bot is in."""

    @app.on_message
    async def message(activity_ctx: ActivityContext[MessageActivity]) -> Any:
        await on_message(ctx, activity_ctx.activity)
