"""The app installed or removed, or the bot added to a team: keep the conversation references
that let the bot write first (check-ins, offers, the digest), and say hello once in a new 1:1."""

from __future__ import annotations

import logging
from typing import Any

from microsoft_teams.api.activities.conversation.conversation_update import (
    ConversationUpdateActivity,
)
from microsoft_teams.api.activities.install_update.add import InstalledActivity
from microsoft_teams.api.activities.install_update.remove import UninstalledActivity
from microsoft_teams.apps import ActivityContext, App
from sqlmodel import Session

from bot.reach.conversations import PERSONAL, mark_removed
from handlers.teams.context import TeamsContext, unit_of_work
from handlers.teams.listeners.commands import HELP_TEXT
from handlers.teams.listeners.common import conversation_of, remember, say_once

log = logging.getLogger(__name__)

WELCOME = "Hello! " + HELP_TEXT


async def on_installed(ctx: TeamsContext, activity: Any) -> None:
    """Store where the bot now is; in a 1:1 chat, say hello (once per conversation)."""
    conversation_id, kind = conversation_of(activity)

    def install(session: Session) -> None:
        remember(session, activity, ctx)
        if kind == PERSONAL:
            say_once(session, ctx, f"teams-welcome:{conversation_id}", conversation_id, WELCOME)

    await unit_of_work(ctx, install)
    log.info("Teams app installed in %s (%s)", conversation_id, kind)


async def on_uninstalled(ctx: TeamsContext, activity: Any) -> None:
    """The app was removed: sends there will fail until it is installed again."""
    conversation_id, _ = conversation_of(activity)
    now = ctx.services.clock.now()
    await unit_of_work(ctx, lambda session: mark_removed(session, conversation_id, now=now))
    log.info("Teams app removed from %s", conversation_id)


def register(app: App, ctx: TeamsContext) -> None:
    """Listen to installation and conversation updates."""

    @app.on_install_add
    async def installed(activity_ctx: ActivityContext[InstalledActivity]) -> None:
        await on_installed(ctx, activity_ctx.activity)

    @app.on_install_remove
    async def uninstalled(activity_ctx: ActivityContext[UninstalledActivity]) -> None:
        await on_uninstalled(ctx, activity_ctx.activity)

    @app.on_conversation_update
    async def updated(activity_ctx: ActivityContext[ConversationUpdateActivity]) -> None:
        await unit_of_work(ctx, lambda session: remember(session, activity_ctx.activity, ctx))
