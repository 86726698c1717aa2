"""Turning the fake Bot Connector's recorded calls into a transcript a person can read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handlers.teams.stand_in.fake_microsoft import ConnectorCall


def card_lines(element: Any) -> list[str]:
    """The words of an Adaptive Card (or a message activity), one line per block or row."""
    if isinstance(element, list):
        return [line for item in element for line in card_lines(item)]
    if not isinstance(element, dict):
        return []
    kind = element.get("type")
    if kind == "TextBlock":
        return [
            line for line in str(element.get("text", "")).replace("**", "").splitlines() if line
        ]
    if kind == "FactSet":
        return [f"{f['title']}: {str(f['value']).replace('**', '')}" for f in element["facts"]]
    if kind == "message":
        lines = card_lines([a.get("content") for a in element.get("attachments") or []])
        return lines or [str(element.get("text", ""))]
    lines = card_lines(element.get("body") or [])
    buttons = [f"[{a.get('title')}]" for a in element.get("actions") or []]
    return lines + ([" ".join(buttons)] if buttons else [])


def describe(call: ConnectorCall, names: Mapping[str, str]) -> list[str]:
    """What one Bot Connector call showed people, as indented transcript lines."""
    if call.status >= 300 or not call.path.startswith("/v3/conversations/"):
        return []
    conversation = call.path.split("/")[3].split(";")[0]
    where = names.get(conversation, conversation)
    verb = "updates its card in" if call.method == "PUT" else "posts in"
    return [f"  Teams: the bot {verb} {where}:"] + [
        f"      {line}" for line in card_lines(call.body)
    ]
