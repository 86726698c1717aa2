"""Top-level posts in the support channel become requests."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.intake import capture_message
from bot.people import person_by_slack_id
from bot.runtime import Runtime
from storage.db import run_once

log = logging.getLogger(__name__)


def is_request_post(event: dict[str, Any], support_channel: str | None) -> bool:
    """A new, top-level, human message in the support channel (not an edit, join, bot…)."""
    return bool(
        support_channel
        and event.get("channel") == support_channel
        and not event.get("subtype")
        and not event.get("bot_id")
        and event.get("user")
        and (event.get("thread_ts") in (None, event.get("ts")))
        and (event.get("text") or "").strip()
    )


def register(app: App, runtime: Runtime) -> None:
    """Listen to channel messages."""

    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        if not is_request_post(event, runtime.settings.support_channel_id):
            return
        user = event["user"]
        with runtime.sessions() as session:
            known = person_by_slack_id(session, user) is not None
        name = user if known else _display_name(runtime, user)
        outcome = run_once(
            runtime.sessions,
            lambda session: capture_message(
                session,
                runtime.settings,
                runtime.vocabulary,
                now=runtime.clock.now(),
                user=user,
                user_name=name,
                channel=event["channel"],
                ts=event["ts"],
                text=event.get("text") or "",
            ),
        )
        runtime.deliverer.kick()
        log.info(
            "message %s in %s: request %s (%s)",
            event["ts"],
            event["channel"],
            outcome.summary.id,
            "captured" if outcome.created else "already captured",
        )


def _display_name(runtime: Runtime, user: str) -> str:
    """The person's name from Slack, for someone not yet in the directory."""
    try:
        profile = runtime.client.users_info(user=user)["user"]
    except (SlackApiError, KeyError, TypeError, OSError):
        return user
    return str(profile.get("real_name") or profile.get("name") or user)
