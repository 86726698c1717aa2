"""`help` in a chat with the bot: what it does and how to ask."""

from __future__ import annotations

import re

from microsoft_teams.api.activities import MessageActivity
from microsoft_teams.apps import ActivityContext, App

from handlers.teams.context import TeamsContext

HELP_PATTERN = re.compile(r"^\s*help\s*$", re.IGNORECASE)


def register(app: App, ctx: TeamsContext) -> None:
    """Answer `help`."""

    @app.on_message_pattern(HELP_PATTERN)
    async def on_help(activity_ctx: ActivityContext[MessageActivity]) -> None:
        """Placeholder until the outbox carries Teams messages."""
        del activity_ctx
