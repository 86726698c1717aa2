"""Neutral mentions (`<@ID>`, `<@ID|Name>`, docs/messages.md) as Slack shows them: a Slack
user becomes Slack's own `<@U…>`; someone known only on Teams becomes their name."""

from __future__ import annotations

from typing import Any

from bot.reach.people import platform_of, resolve_mentions
from storage.models import Platform

TEAMS_SOMEONE = "a colleague on Teams"


def slack_mention(user_id: str, name: str | None) -> str:
    """One neutral mention in Slack's markup (the name is already escaped by the core)."""
    if platform_of(user_id) == Platform.SLACK:
        return f"<@{user_id}>"
    return name or TEAMS_SOMEONE


def slack_mentions(value: Any) -> Any:
    """`value` (text, or blocks nested in lists and dicts) with every mention Slack's."""
    if isinstance(value, str):
        return resolve_mentions(value, slack_mention) if "<@" in value else value
    if isinstance(value, list):
        return [slack_mentions(item) for item in value]
    if isinstance(value, dict):
        return {key: slack_mentions(item) for key, item in value.items()}
    return value
