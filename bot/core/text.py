"""Text hygiene for everything the bot says: no bidirectional controls, no zero-width characters."""

from __future__ import annotations

import re
from typing import Any

# Right-to-left/left-to-right overrides, embeddings, isolates and marks, and characters that
# take no space (zero-width space, joiners, word joiner, invisible operators, BOM, soft hyphen).
INVISIBLE = dict.fromkeys(
    [
        0x00AD,
        0x061C,
        0x180E,
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2065),
        *range(0x2066, 0x206A),
        0xFEFF,
    ]
)


def visible_only(text: str | None) -> str:
    """`text` without bidirectional controls and zero-width characters (what the bot posts)."""
    return (text or "").translate(INVISIBLE)


def escape(text: str | None) -> str:
    """Escape user text for the bot's markup (`&`, `<`, `>`), invisible characters dropped."""
    return visible_only(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# The markup of what people write in Slack: <@U123|name>, <#C123|name>, <!here>,
# <!subteam^S123|@team>, <https://x|label>, <mailto:a@b.example|a@b.example>.
_MARKUP = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def readable(text: str | None) -> str:
    """Text in the bot's markup (Slack's) as a person reads it, for a form to show: a mention
    as `@name` (its id when Slack gave no name), a channel as `#name`, a link as its label
    (else its address), and `&amp;`, `&lt;`, `&gt;` as the characters. Apply it once only."""

    def shown(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target[:1] in ("@", "#", "!"):
            sign = "#" if target[0] == "#" else "@"
            return sign + (label or target[1:].split("^")[0]).lstrip("@#")
        return label or target.removeprefix("mailto:")

    plain = _MARKUP.sub(shown, text or "")
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def chunk_text(text: str, size: int) -> list[str]:
    """`text` in pieces of at most `size` characters, cut at a line break if one is near the
    end of a piece, else at a space, and never inside markup (`<@U123|Sam Jones>`)."""
    pieces: list[str] = []
    rest = text
    while len(rest) > size:
        cut = _cut_in(rest, size)
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut_in(text: str, size: int) -> int:
    """Where to end the next piece of `text` (longer than `size`)."""
    cut = text.rfind("\n", 0, size)
    if cut < size // 2:
        cut = text.rfind(" ", 0, size)
    if cut < size // 2:
        cut = size
    opened = text.rfind("<", 0, cut)
    if opened > text.rfind(">", 0, cut) and opened > size // 2:
        cut = opened  # the piece would end inside a mention or link: keep it whole
    return cut


def visible_payload(value: Any) -> Any:
    """A message payload (text, blocks, nested lists and dicts) with every string `visible_only`."""
    if isinstance(value, str):
        return visible_only(value)
    if isinstance(value, list):
        return [visible_payload(item) for item in value]
    if isinstance(value, dict):
        return {key: visible_payload(item) for key, item in value.items()}
    return value
