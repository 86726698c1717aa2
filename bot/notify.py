"""Telling coordinators: their private channel if set, else a DM to each coordinator."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.delivery import owe_post
from bot.people import coordinators
from bot.settings import Settings


def notify_coordinators(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    ref: str | None = None,
) -> int:
    """Owe a notice to the coordinators in this transaction; returns messages owed."""
    if settings.coordinator_channel_id:
        owe_post(
            session,
            now=now,
            channel=settings.coordinator_channel_id,
            text=text,
            blocks=blocks,
            ref=ref,
        )
        return 1
    people = coordinators(session)
    for person in people:
        owe_post(
            session,
            now=now,
            channel=person.slack_user_id,
            text=text,
            blocks=blocks,
            ref=f"{ref}:{person.slack_user_id}" if ref else None,
        )
    return len(people)
