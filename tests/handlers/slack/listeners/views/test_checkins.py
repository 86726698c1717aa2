"""The check-in note modal submissions' listeners, called as Bolt calls them."""

from __future__ import annotations

import json
from unittest.mock import MagicMock

from bot.entry.runtime import Runtime
from handlers.slack.listeners.views import checkins
from tests.handlers.slack.listeners.actions.test_checkins import _answers, _sent_checkin
from tests.handlers.slack.listeners.conftest import Ack, submission


def _note(block: str, text: str) -> dict[str, dict[str, str]]:
    return {block: {"type": "plain_text_input", "value": text}}


def test_on_needs_attention_saves_the_note_before_the_ack(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    ack.check = lambda: _answers(ctx, checkin_id)
    meta = json.dumps({"checkin_id": checkin_id})
    body = submission(supporter, "checkin_needs_attention", _note("note", "Cover is thin"), meta)
    checkins.on_needs_attention(ctx, ack=ack, body=body)
    assert ack.once == {}
    assert ack.seen == [["needs_attention"]]


def test_on_completed_without_a_note_asks_for_one(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    checkin_id, supporter = _sent_checkin(ctx, client)
    meta = json.dumps({"checkin_id": checkin_id})
    checkins.on_completed(
        ctx, ack=ack, body=submission(supporter, "checkin_completed", _note("impact", " "), meta)
    )
    assert ack.once == {
        "response_action": "errors",
        "errors": {"impact": "Please write a short note."},
    }
    assert _answers(ctx, checkin_id) == []
