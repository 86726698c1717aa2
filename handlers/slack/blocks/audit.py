"""Block Kit for a request's audit trail: a read-only modal, one line per entry."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from handlers.slack.blocks import (
    MODAL_TITLE_LIMIT,
    SECTION_TEXT_LIMIT,
    VIEW_BLOCK_LIMIT,
    Block,
    button,
    chunk_text,
    context,
    escape,
    plain,
    section,
)

if TYPE_CHECKING:
    from bot.home.audit import RequestTrail, TrailLine

AUDIT_TRAIL_ACTION = "home_audit_trail"
# Sections of entries shown at most: room for the heading and a note within 100 blocks, and
# about 200,000 characters, well inside the ~250 kB Slack takes in one view.
_SECTIONS_SHOWN = min(VIEW_BLOCK_LIMIT - 3, 200_000 // SECTION_TEXT_LIMIT)


def audit_button(request_id: int) -> Block:
    """*Audit trail* for a request line a coordinator sees on their Home tab."""
    return button("Audit trail", AUDIT_TRAIL_ACTION, str(request_id))


def audit_trail_modal(trail: RequestTrail, *, zone: str) -> dict[str, Any]:
    """The modal listing a request's audit entries, oldest first, within Slack's limits."""
    blocks: list[Block] = [
        context(f"Who did what to request #{trail.request_id}, oldest first. Times: {zone}.")
    ]
    if not trail.lines:
        blocks.append(section("_Nothing has been recorded for this request yet._"))
    text = "\n".join(_line(line) for line in trail.lines)
    pieces = chunk_text(text) if text else []
    blocks += [section(piece) for piece in pieces[:_SECTIONS_SHOWN]]
    if len(pieces) > _SECTIONS_SHOWN:
        blocks.append(
            context(
                f"The trail is longer than fits here: the rest is in "
                f"`python -m bot audit --request {trail.request_id}`."
            )
        )
    return {
        "type": "modal",
        "callback_id": "audit_trail",
        "title": plain(f"Audit trail #{trail.request_id}", MODAL_TITLE_LIMIT),
        "close": plain("Close", MODAL_TITLE_LIMIT),
        "blocks": blocks,
    }


def _line(line: TrailLine) -> str:
    if line.actor is None:
        who = "The bot"
    elif re.fullmatch(r"[UW][A-Z0-9]{2,}", line.actor):
        who = f"<@{line.actor}>"
    else:
        who = escape(line.actor)
    return f"*{escape(line.when)}* · {who} {escape(line.words)}"
