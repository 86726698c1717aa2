"""Adaptive Card building blocks, and the bot's light markup translated to Teams text.

Views carry text in the bot's light markup: `*bold*`, `_italic_`, mentions `<@ID>` or
`<@ID|Name>`, links `<url|label>`, and user text escaped (`&amp;`, `&lt;`, `&gt;`). Teams'
TextBlock takes a small Markdown: `**bold**`, `_italic_`, `[label](url)`. `teams_text`
translates, and defuses Markdown links in what users wrote (`](` → `] (`), so a request cannot
smuggle a disguised link into a card someone else is shown.

Cards are plain JSON (the Adaptive Card schema 1.5, which Universal Actions need ≥ 1.4); every
button is an `Action.Execute` whose `data.action` routes it to a listener
(`handlers.teams.listeners.actions`) with the same action ids and values as the Slack buttons.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

Element = dict[str, Any]
CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_TEXT = 4000  # per TextBlock: Teams caps a whole message near 28 KB

_MENTION = re.compile(r"<@([^|<>\s]+)(?:\|([^<>]*))?>")
_LINK = re.compile(r"<(https?://[^|<>\s]+)\|([^<>]*)>")
_BARE_LINK = re.compile(r"<(https?://[^|<>\s]+)>")
_BOLD = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
URGENCY_LABELS = {  # as the Slack renderer words them (handlers/slack/blocks/requests.py)
    "routine": "Routine — within a few weeks",
    "soon": "Soon — within two weeks",
    "urgent": "Urgent — this week",
}
# The Slack emoji shortcodes the core's words use, as the characters Teams shows.
EMOJI = {
    "school": "🏫",
    "white_check_mark": "✅",
    "speech_balloon": "💬",
    "tada": "🎉",
    "inbox_tray": "📥",
    "handshake": "🤝",
    "busts_in_silhouette": "👥",
    "chart_with_upwards_trend": "📈",
    "warning": "⚠️",
    "wave": "👋",
    "calendar": "📅",
    "alarm_clock": "⏰",
    "hourglass_flowing_sand": "⏳",
    "mag": "🔍",
    "x": "❌",
}
_SHORTCODE = re.compile(r":([a-z_]+):")
PHASE_LABELS = {
    "nursery": "Nursery",
    "primary": "Primary",
    "secondary": "Secondary",
    "all-through": "All-through",
    "special": "Special",
    "16-plus": "16 plus",
}


def teams_text(text: str) -> str:
    """The bot's light markup as Teams Markdown (see the module docstring)."""
    text = text.replace("](", "] (")  # user text: no Markdown links of its own
    text = _LINK.sub(lambda m: f"[{_unescape(m.group(2))}]({m.group(1)})", text)
    text = _BARE_LINK.sub(lambda m: m.group(1), text)
    text = _BOLD.sub(lambda m: f"**{m.group(1)}**", text)
    # Teams cannot @mention a Slack user (nor is it worth a mention entity): show the name.
    names = _NAMES.get() or {}
    text = _MENTION.sub(lambda m: m.group(2) or names.get(m.group(1), "someone"), text)
    text = _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), _unescape(text))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


_NAMES: ContextVar[Mapping[str, str] | None] = ContextVar("mention_names", default=None)


@contextmanager
def mention_names(names: Mapping[str, str]) -> Iterator[None]:
    """While rendering, name a bare mention `<@ID>` by `names[ID]` (the sender looks them up)."""
    token = _NAMES.set(names)
    try:
        yield
    finally:
        _NAMES.reset(token)


def _unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def text_block(text: str, **extra: Any) -> Element:
    """A wrapped paragraph of the bot's markup."""
    return {"type": "TextBlock", "text": teams_text(text), "wrap": True, **extra}


def heading(text: str) -> Element:
    """A card's title."""
    return text_block(text, size="Medium", weight="Bolder")


def note(text: str) -> Element:
    """Small print under a card."""
    return text_block(text, isSubtle=True, size="Small")


def facts(*pairs: tuple[str, str]) -> Element:
    """Label / value pairs (a FactSet)."""
    return {
        "type": "FactSet",
        "facts": [{"title": label, "value": teams_text(value)} for label, value in pairs],
    }


def text_input(
    input_id: str,
    placeholder: str,
    *,
    multiline: bool = False,
    value: str = "",
    max_length: int = 1000,
) -> Element:
    """A text box on the card; Teams sends its value with the card's buttons (`data[id]`)."""
    box: Element = {
        "type": "Input.Text",
        "id": input_id,
        "placeholder": placeholder,
        "isMultiline": multiline,
        "maxLength": max_length,
    }
    if value:
        box["value"] = value
    return box


def choice_input(input_id: str, placeholder: str, choices: list[tuple[str, str]]) -> Element:
    """A drop-down of (value, label) choices; its value is sent like a text box's."""
    return {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "placeholder": placeholder,
        "style": "compact",
        "choices": [{"title": label, "value": value} for value, label in choices],
    }


def show_card(label: str, body: list[Element], actions: list[Element]) -> Element:
    """A button that unfolds a small form inside the card (no round trip, no dialog)."""
    return {"type": "Action.ShowCard", "title": label, "card": card(body, actions)}


def execute(
    label: str, action: str, value: str, *, style: str | None = None, **data: Any
) -> Element:
    """A Universal Actions button; `data.action` routes it, `data.value` is what it acts on."""
    button: Element = {
        "type": "Action.Execute",
        "title": label,
        "verb": action,
        "data": {"action": action, "value": value, **data},
    }
    if style == "primary":
        button["style"] = "positive"
    elif style == "danger":
        button["style"] = "destructive"
    return button


def action_set(*actions: Element) -> Element:
    """A row of buttons inside the card's body (Adaptive Cards 1.2+), apart from its own."""
    return {"type": "ActionSet", "actions": list(actions)}


def card(body: list[Element], actions: list[Element] | None = None) -> Element:
    """An Adaptive Card."""
    content: Element = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
    }
    if actions:
        content["actions"] = actions
    return content


def as_attachment(content: Element) -> Element:
    """A card as a message attachment."""
    return {"contentType": CARD_CONTENT_TYPE, "content": content}
