"""Shortcut listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.entry.runtime import Runtime
from handlers.slack.listeners.shortcuts import request_from_message


def register(app: App, runtime: Runtime) -> None:
    """Register every shortcut listener."""
    request_from_message.register(app, runtime)
