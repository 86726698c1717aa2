"""Reading Block Kit in tests: the text a person sees and the buttons they can press."""

from __future__ import annotations

import re
from typing import Any


def texts(blocks: list[dict[str, Any]] | None) -> str:
    """Every piece of text in the blocks, joined by newlines."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks or [])
    return "\n".join(found)


def action_ids(blocks: list[dict[str, Any]] | None) -> list[str]:
    """The action ids of every interactive element, in order."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "action_id" in node and node.get("type") not in ("input",):
                found.append(node["action_id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for block in blocks or []:
        if block.get("type") in ("actions", "section"):
            walk(block)
    return found


def button_value(blocks: list[dict[str, Any]] | None, action_id: str) -> str:
    """The value of the button with `action_id` (AssertionError if there is none)."""
    for block in blocks or []:
        for element in [*block.get("elements", []), block.get("accessory") or {}]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return str(element.get("value"))
    raise AssertionError(f"no {action_id} button in {action_ids(blocks)}")


def mrkdwn_markup(blocks: Any) -> list[str]:
    """Slack's control markup in the mrkdwn of `blocks` (mentions `<@…>`, `<!channel>`-style
    commands, links `<…|…>`): what a test checks user text never becomes. Plain text shows
    such markup literally, so only mrkdwn is read."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.extend(re.findall(r"<[^<>]*>", node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found
