"""Slash-command listeners (`/support`)."""

from __future__ import annotations

from slack_bolt import App

from bot.runtime import Runtime


def register(app: App, runtime: Runtime) -> None:
    """Register every slash-command listener."""
