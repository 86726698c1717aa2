"""Messages where heads ask: the support channel (public or private) and DMs to the bot.

A new top-level post becomes a request; editing it updates the request (or asks, once it is
accepted); deleting it (`message_deleted`, or the tombstone left over its thread) asks the head
whether to cancel. Every reaction is idempotent, so a
retried or replayed event changes nothing more.
"""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.core.text import readable
from bot.directory.people import person_by_user_id
from bot.requests.intake import answer_small_talk, capture_message, is_small_talk
from bot.requests.post_changes import post_deleted
from bot.routing.flows import apply_post_edit
from handlers.slack.context import SlackContext, unit_of_work

log = logging.getLogger(__name__)

# A mention as message events carry it: the id alone, no name (`<@U0123ABCD>`).
_BARE_MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
NAMED_MENTIONS = 10  # people looked up in one post; any more stay as their ids


def is_asking_place(event: dict[str, Any], support_channel: str | None) -> bool:
    """The support channel (public or private), or a DM to the bot (the Messages tab)."""
    channel = event.get("channel")
    if not isinstance(channel, str) or not channel:
        return False
    return channel == support_channel or event.get("channel_type") == "im"


PERSON_SUBTYPES = (None, "file_share")  # a person's own words, with or without a file


def is_request_post(event: dict[str, Any], support_channel: str | None) -> bool:
    """A new, top-level, human message where heads ask (not an edit, join, bot…)."""
    return bool(
        is_asking_place(event, support_channel)
        and event.get("subtype") in PERSON_SUBTYPES
        and not event.get("bot_id")
        and isinstance(event.get("user"), str)
        and event.get("user")
        and isinstance(event.get("ts"), str)
        and (event.get("thread_ts") in (None, event.get("ts")))
        and isinstance(event.get("text"), str)
        and event["text"].strip()
    )


def edited_post(event: dict[str, Any], support_channel: str | None) -> dict[str, Any] | None:
    """The message as it now stands, if `event` is a person's edit of a top-level post."""
    if event.get("subtype") != "message_changed" or not is_asking_place(event, support_channel):
        return None
    message = event.get("message")
    if (
        not isinstance(message, dict)
        or message.get("bot_id")
        or message.get("subtype") not in PERSON_SUBTYPES
    ):
        return None
    fields_ok = all(isinstance(message.get(key), str) for key in ("user", "ts", "text"))
    top_level = message.get("thread_ts") in (None, message.get("ts"))
    return message if fields_ok and top_level else None


def deleted_ts(event: dict[str, Any], support_channel: str | None) -> str | None:
    """The ts of the deleted message, if `event` is a deletion where heads ask: a
    `message_deleted`, or the tombstone Slack leaves instead when the message has replies
    (as every captured post has: the bot's card is in its thread)."""
    if not is_asking_place(event, support_channel):
        return None
    subtype, message = event.get("subtype"), event.get("message")
    if subtype == "message_deleted":
        ts = event.get("deleted_ts")
    elif subtype == "message_changed" and isinstance(message, dict) and is_tombstone(message):
        ts = message.get("ts")
    else:
        return None
    return ts if isinstance(ts, str) and ts else None


def is_tombstone(message: dict[str, Any]) -> bool:
    """Whether a `message_changed` event's message is what remains of a deleted thread parent."""
    return message.get("subtype") == "tombstone"


def on_message(ctx: SlackContext, event: dict[str, Any]) -> None:
    """A message where heads ask: a new post, an edit of one, or a deletion."""
    support_channel = ctx.settings.support_channel_id
    if is_request_post(event, support_channel):
        capture_post(ctx, event)
    elif (message := edited_post(event, support_channel)) is not None:
        on_post_edited(ctx, event["channel"], message)
    elif (ts := deleted_ts(event, support_channel)) is not None:
        on_post_deleted(ctx, event["channel"], ts)


def capture_post(ctx: SlackContext, event: dict[str, Any]) -> None:
    """A new post where heads ask becomes a request (once); a few words of thanks in a DM get
    a hint on how to ask instead."""
    if event.get("channel_type") == "im" and is_small_talk(event["text"], ctx.vocabulary):
        unit_of_work(
            ctx,
            lambda session: answer_small_talk(
                session, now=ctx.clock.now(), channel=event["channel"], ts=event["ts"]
            ),
            retry_on_conflict=True,
        )
        log.info("message %s in %s: not a request", event["ts"], event["channel"])
        return
    user = event["user"]
    known = unit_of_work(ctx, lambda session: person_by_user_id(session, user)) is not None
    name = user if known else _display_name(ctx, user)
    outcome = unit_of_work(
        ctx,
        lambda session: capture_message(
            session,
            ctx.settings,
            ctx.vocabulary,
            now=ctx.clock.now(),
            user=user,
            user_name=name,
            channel=event["channel"],
            ts=event["ts"],
            text=readable(with_names(ctx, event["text"])),
        ),
        retry_on_conflict=True,
    )
    log.info(
        "message %s in %s: request %s (%s)",
        event["ts"],
        event["channel"],
        outcome.summary.id,
        "captured" if outcome.created else "already captured",
    )


def on_post_edited(ctx: SlackContext, channel: str, message: dict[str, Any]) -> None:
    """A head edited a post: update its request, or ask them (see `bot.requests.post_changes`)."""
    edited = message.get("edited")
    edited_ts = str(edited.get("ts") or "") if isinstance(edited, dict) else ""
    change = unit_of_work(
        ctx,
        lambda session: apply_post_edit(
            session,
            ctx.context(),
            channel=channel,
            ts=message["ts"],
            author=message["user"],
            text=readable(with_names(ctx, message["text"])),
            edited_ts=edited_ts or message["ts"],
        ),
        retry_on_conflict=True,
    )
    log.info("message %s in %s edited: request %s %s", message["ts"], channel, *change_ids(change))


def on_post_deleted(ctx: SlackContext, channel: str, ts: str) -> None:
    """A post was deleted: ask the head whether to cancel its request."""
    change = unit_of_work(
        ctx,
        lambda session: post_deleted(session, ctx.context(), channel=channel, deleted_ts=ts),
        retry_on_conflict=True,
    )
    log.info("message %s in %s deleted: request %s %s", ts, channel, *change_ids(change))


def change_ids(change: Any) -> tuple[Any, str]:
    """The request id and result of a post change, for the log."""
    return change.request_id, change.result


def _profile(ctx: SlackContext, user: str) -> dict[str, Any]:
    """The person's Slack profile ({} if Slack can't say)."""
    try:
        found = ctx.client.users_info(user=user)["user"]
    except (SlackApiError, KeyError, TypeError, OSError):
        return {}
    return found if isinstance(found, dict) else {}


def _display_name(ctx: SlackContext, user: str) -> str:
    """The person's name from Slack, for someone not yet in the directory."""
    profile = _profile(ctx, user)
    return str(profile.get("real_name") or profile.get("name") or user)


def _mention_name(ctx: SlackContext, user: str) -> str:
    """The name Slack shows in a mention of `user` (their id if Slack can't say), safe
    inside the markup."""
    profile = _profile(ctx, user)
    shown = profile.get("profile")
    display = shown.get("display_name") if isinstance(shown, dict) else None
    name = str(display or profile.get("real_name") or profile.get("name") or "")
    return re.sub(r"[<>|]", "", name).strip() or user


def with_names(ctx: SlackContext, text: str) -> str:
    """Slack's text with each bare mention given the person's name, so the stored request
    reads `@Jane Smith` as the head saw it, not an id."""
    users = list(dict.fromkeys(_BARE_MENTION.findall(text)))[:NAMED_MENTIONS]
    names = {user: _mention_name(ctx, user) for user in users}

    def named(match: re.Match[str]) -> str:
        user = match.group(1)
        return f"<@{user}|{names[user]}>" if user in names else match.group(0)

    return _BARE_MENTION.sub(named, text)


def register(app: App, ctx: SlackContext) -> None:
    """Listen to messages in the support channel and in DMs to the bot."""
    app.event("message")(partial(on_message, ctx))
