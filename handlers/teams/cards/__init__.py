"""Adaptive Card building blocks, and the bot's light markup translated to Teams text.

Views carry text in the bot's light markup: `*bold*`, `_italic_`, mentions `<@ID>` or
`<@ID|Name>`, links `<url|label>`, and user text escaped (`&amp;`, `&lt;`, `&gt;`). Teams'
TextBlock and message text take a small Markdown: `**bold**`, `_italic_`, `[label](url)`.
`teams_text` translates, and everything that is not the bot's own markup stays inert: Markdown
characters in it are backslash-escaped (`**`, `[`, `` ` ``…), a Markdown link is defused
(`](` → `] (`) and so is an HTML tag (`<at>` → `< at>`), so what someone wrote (a school's
name, a request) cannot smuggle a disguised link, a mention or formatting into what someone
else is shown. Every text a Teams user reads goes through it: cards, messages, and the short
answers to a button or a message action.

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
    """The bot's light markup as Teams Markdown, the rest inert (see the module docstring)."""
    pieces: list[str] = []

    def keep(piece: str) -> str:
        pieces.append(piece)
        return f"{_PIECE}{len(pieces) - 1}{_END}"

    text = _MARKERS.sub("", text)
    text = _LINK.sub(lambda m: keep(_link(m.group(1), _inert(_unescape(m.group(2))))), text)
    text = _BARE_LINK.sub(lambda m: keep(_link(m.group(1), _inert(_unescape(m.group(1))))), text)
    text = _MENTION.sub(lambda m: keep(_inert(_unescape(_named(m)))), text)
    text = _SHORTCODE.sub(lambda m: keep(EMOJI[m.group(1)]) if m.group(1) in EMOJI else m[0], text)
    text = _BOLD.sub(lambda m: f"{_STRONG}{m.group(1)}{_STRONG}", text)
    text = _ITALIC.sub(lambda m: f"{_EMPHASIS}{m.group(1)}{_EMPHASIS}", text)
    text = _inert(_unescape(text)).replace(_STRONG, "**").replace(_EMPHASIS, "_")
    text = _KEPT.sub(lambda m: pieces[int(m.group(1))], text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


# Stand-ins for the bot's markup while the text around it is made inert: characters of
# Unicode's private use area, dropped from the text first.
_PIECE, _END, _STRONG, _EMPHASIS = "\ue000", "\ue001", "\ue002", "\ue003"
_MARKERS = re.compile("[\ue000-\ue003]")
_KEPT = re.compile(f"{_PIECE}(\\d+){_END}")
_ITALIC = re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])")
# Markdown in what people wrote: a backslash before punctuation, `*`, `` ` ``, `~`, brackets,
# `_` unless between letters or digits (snake_case and addresses stay as typed), a heading's
# `#` ("#12" is no heading) or a quote's `>` opening a line.
_MARKDOWN = re.compile(
    r"\\(?=[!-/:-@\[-`{-~])|[*`~\[\]]|(?<![^\W_])_|_(?![^\W_])|^#(?=[#\s]|$)|^>",
    re.MULTILINE,
)
_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def _inert(text: str) -> str:
    """Text shown as written: no Markdown link, HTML tag or formatting of its own."""
    text = _TAG.sub("< ", text.replace("](", "] ("))
    return _MARKDOWN.sub(lambda m: "\\" + m.group(0), text)


def _link(url: str, label: str) -> str:
    """A Markdown link; brackets and spaces in the address cannot end it early."""
    address = _unescape(url).replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{label}]({address})"


def _named(mention: re.Match[str]) -> str:
    """Who a mention names: its label, else their name from the sender (Teams cannot
    @mention a Slack user, nor is it worth a mention entity)."""
    return mention.group(2) or (_NAMES.get() or {}).get(mention.group(1), "someone")


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
