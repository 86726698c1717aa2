"""Block Kit builders: pure functions from results to Slack blocks, within Slack's limits.

All user-written text is escaped (`&`, `<`, `>`) before it goes into mrkdwn, so nobody can
ping `@channel`, mention users or forge links through a request. Every text object loses its
bidirectional controls and zero-width characters (`visible_only`), so nobody can make a
message read differently from what it says.
"""

from __future__ import annotations

from typing import Any

from bot.core.text import chunk_text as split_text
from bot.core.text import escape, visible_only

__all__ = ["escape"]  # the core's escaping is mrkdwn's: `&`, `<`, `>`

Block = dict[str, Any]

SECTION_TEXT_LIMIT = 3000
FIELD_TEXT_LIMIT = 2000
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
OPTION_TEXT_LIMIT = 75
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
MODAL_TITLE_LIMIT = 24
TEXT_INPUT_LIMIT = 3000  # the most a modal's plain_text_input can hold


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """Cut `text` to at most `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ellipsis)]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + ellipsis


def mrkdwn(text: str) -> dict[str, str]:
    """A mrkdwn text object (already escaped by the caller where it holds user text)."""
    return {"type": "mrkdwn", "text": truncate(visible_only(text), SECTION_TEXT_LIMIT)}


def plain(text: str, limit: int = SECTION_TEXT_LIMIT) -> dict[str, Any]:
    """A plain_text object, truncated to `limit`."""
    return {"type": "plain_text", "text": truncate(visible_only(text), limit), "emoji": True}


def section(text: str, *, accessory: Block | None = None, block_id: str | None = None) -> Block:
    """A section block of mrkdwn text."""
    block: Block = {"type": "section", "text": mrkdwn(text)}
    if accessory:
        block["accessory"] = accessory
    if block_id:
        block["block_id"] = block_id
    return block


def fields(*items: str) -> Block:
    """A section of up to ten short mrkdwn fields."""
    return {
        "type": "section",
        "fields": [
            {"type": "mrkdwn", "text": truncate(visible_only(item), FIELD_TEXT_LIMIT)}
            for item in items[:10]
        ],
    }


def header(text: str) -> Block:
    """A header block."""
    return {"type": "header", "text": plain(text, HEADER_LIMIT)}


def context(*items: str) -> Block:
    """A context block of small mrkdwn lines."""
    return {"type": "context", "elements": [mrkdwn(item) for item in items[:10]]}


def divider() -> Block:
    """A divider."""
    return {"type": "divider"}


def button(
    text: str, action_id: str, value: str, *, style: str | None = None, confirm: Block | None = None
) -> Block:
    """A button whose `value` carries everything a click needs (it survives restarts)."""
    element: Block = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_LIMIT),
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    if confirm:
        element["confirm"] = confirm
    return element


def confirm_dialog(title: str, text: str, yes: str, no: str = "Go back") -> Block:
    """A confirmation dialog for a destructive button."""
    return {
        "title": plain(title, 100),
        "text": plain(text, 300),
        "confirm": plain(yes, 30),
        "deny": plain(no, 30),
    }


def actions(*elements: Block, block_id: str | None = None) -> Block:
    """An actions block."""
    block: Block = {"type": "actions", "elements": list(elements)[:25]}
    if block_id:
        block["block_id"] = block_id
    return block


def option(text: str, value: str) -> Block:
    """An option for a select or radio group."""
    return {"text": plain(text, OPTION_TEXT_LIMIT), "value": value}


def fit_message(blocks: list[Block], overflow_note: str) -> list[Block]:
    """Keep a message within Slack's 50-block limit, ending with a note when cut."""
    if len(blocks) <= MESSAGE_BLOCK_LIMIT:
        return blocks
    return [*blocks[: MESSAGE_BLOCK_LIMIT - 1], context(overflow_note)]


def chunk_text(text: str, size: int = SECTION_TEXT_LIMIT - 100) -> list[str]:
    """Split long text into pieces small enough for one section each, at line breaks if possible."""
    return split_text(text, size)
