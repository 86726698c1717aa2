"""Turning the fake Slack's recorded calls into a transcript a person can read."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from handlers.slack.stand_in.fake_slack import Call

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")


def plain_text(text: str, names: Mapping[str, str]) -> str:
    """Slack mrkdwn as plain text: mentions as @Name, no markup, entities decoded."""
    text = MENTION.sub(lambda m: "@" + names.get(m[1], m[1]), text)
    text = re.sub(r"(?<!\w)[*_](\S(?:.*?\S)?)[*_](?!\w)", r"\1", text)
    return html.unescape(text)


def block_lines(blocks: list[dict[str, Any]] | None, names: Mapping[str, str]) -> list[str]:
    """One or more lines per block, as a person would read them."""
    lines: list[str] = []
    for block in blocks or []:
        kind = block.get("type")
        if kind in ("section", "header"):
            if block.get("text"):
                lines += plain_text(block["text"]["text"], names).splitlines()
            for field in block.get("fields") or []:
                lines.append(plain_text(field["text"], names).replace("\n", ": ", 1))
        elif kind == "context":
            lines += [plain_text(e.get("text", ""), names) for e in block.get("elements", [])]
        elif kind == "actions":
            labels = []
            for element in block.get("elements", []):
                label = (element.get("text") or element.get("placeholder") or {}).get("text", "")
                labels.append(f"[{label}]")
            lines.append(" ".join(labels))
    return [line for line in lines if line.strip()]


def describe(call: Call, names: Mapping[str, str]) -> list[str]:
    """A few lines saying what the bot did with one Web API call (nothing for reads)."""
    args = call.args
    channel = str(args.get("channel") or "")
    where = _where(channel, names)
    if call.method == "chat.postMessage":
        head = f"bot → {where}" + (" (in the thread)" if args.get("thread_ts") else "")
    elif call.method == "chat.update":
        head = f"bot edits its message in {where}"
    elif call.method in ("chat.postEphemeral", "response_url") and call.ok:
        head = f"bot → {names.get(args.get('user', ''), args.get('user'))} only, in {where}"
    elif call.method == "views.open":
        title = (args.get("view") or {}).get("title", {}).get("text", "")
        return [f"bot opens a form: “{title}”"]
    else:
        return []
    body = block_lines(args.get("blocks"), names) or [plain_text(args.get("text", ""), names)]
    return [head, *(f"    {line}" for line in body)]


def _where(channel: str, names: Mapping[str, str]) -> str:
    if channel[:1] in ("U", "W"):
        return f"DM to {names.get(channel, channel)}"
    if channel[:1] == "D":
        return f"DM to {names.get('U' + channel[1:], channel)}"
    return names.get(channel, channel)
