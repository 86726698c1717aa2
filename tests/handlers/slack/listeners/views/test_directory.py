"""The directory import modal submission's listener, called as Bolt calls it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from handlers.slack.blocks.directory import FILE_ACTION_ID, FILE_BLOCK_ID, IMPORT_CALLBACK_ID
from handlers.slack.listeners.views import directory
from storage.models import AuditEntry
from tests.handlers.slack.listeners.conftest import HEAD, Ack, submission


def _with_file(user: str) -> dict[str, Any]:
    body = submission(user, IMPORT_CALLBACK_ID, {})
    file = {
        "id": "F1",
        "name": "people.csv",
        "size": 100,
        "filetype": "csv",
        "url_private_download": "https://files.example/F1",
    }
    body["view"]["state"]["values"] = {
        FILE_BLOCK_ID: {FILE_ACTION_ID: {"type": "file_input", "files": [file]}}
    }
    return body


def test_on_import_without_a_file_asks_for_one(ctx: Runtime, ack: Ack) -> None:
    directory.on_import(ctx, ack=ack, body=submission(HEAD, IMPORT_CALLBACK_ID, {}))
    assert ack.once == {
        "response_action": "errors",
        "errors": {FILE_BLOCK_ID: "Choose a CSV file to import."},
    }


def test_on_import_by_a_head_is_refused_and_audited(ctx: Runtime, ack: Ack) -> None:
    directory.on_import(ctx, ack=ack, body=_with_file(HEAD))
    assert ack.once["response_action"] == "update"
    assert "Not imported" in str(ack.once["view"])
    with Session(ctx.engine) as session:
        actions = [entry.action for entry in session.exec(select(AuditEntry))]
    assert any(action.endswith(".refused") for action in actions)
