"""`/support [what you need]` opens the request modal, pre-filled from the text."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.blocks.requests import request_modal
from bot.intake import draft_from_text, needs_profile
from bot.runtime import Runtime

HELP = (
    "*/support* opens a form to ask for school-to-school support. You can add a few words to "
    "start it off, e.g. `/support our SENCO is on long-term leave and EHCP reviews are due`."
)


def open_request_modal(
    runtime: Runtime,
    client: WebClient,
    *,
    trigger_id: str,
    user: str,
    text: str,
    source: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Open the request modal within the trigger's three seconds, pre-filled from `text`."""
    with runtime.sessions() as session:
        draft = draft_from_text(session, text, user, runtime.vocabulary)
        need_profile = needs_profile(session, user)
    view = request_modal(
        draft,
        runtime.vocabulary,
        need_profile=need_profile,
        metadata={"source": source, **(extra or {})},
    )
    client.views_open(trigger_id=trigger_id, view=view)


def register(app: App, runtime: Runtime) -> None:
    """Listen to /support."""

    @app.command("/support")
    def on_support(ack: Ack, command: dict[str, Any], client: WebClient) -> None:
        text = (command.get("text") or "").strip()
        if text.lower() in ("help", "?"):
            ack(text=HELP)
            return
        ack()
        open_request_modal(
            runtime,
            client,
            trigger_id=command["trigger_id"],
            user=command["user_id"],
            text=text,
            source="command",
        )
