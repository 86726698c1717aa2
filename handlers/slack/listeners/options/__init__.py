"""Options listeners: the menus whose choices the bot serves as someone types
(`external_select`, answered to Slack's `block_suggestion` payloads)."""

from __future__ import annotations

from slack_bolt import App

from handlers.slack.context import SlackContext
from handlers.slack.listeners.options import deployments


def register(app: App, ctx: SlackContext) -> None:
    """Register every options listener."""
    deployments.register(app, ctx)
