"""Telling coordinators: their private channel if set, else a DM to each coordinator."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.clock import Clock
from bot.core.settings import Settings
from bot.outbox.owing import owe_post
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage, Person, PersonRole


def coordinators(session: Session) -> list[Person]:
    """Every coordinator (erased people aside), by name: who notices go to without a channel."""
    query = (
        select(Person)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(col(PersonRole.role) == "coordinator", col(Person.erased_at).is_(None))
        .order_by(Person.name)
    )
    return list(session.exec(query))


def notify_coordinators(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    view: object | None = None,
    ref: str | None = None,
    prefer_channel: bool = True,
) -> int:
    """Owe a notice to the coordinators in this transaction; returns messages owed.

    `prefer_channel=False` DMs each coordinator even when the channel is set (used when the
    channel itself is what failed).
    """
    if settings.coordinator_channel_id and prefer_channel:
        owe_post(
            session,
            now=now,
            channel=settings.coordinator_channel_id,
            text=text,
            blocks=blocks,
            view=view,
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
            view=view,
            ref=f"{ref}:{person.slack_user_id}" if ref else None,
        )
    return len(people)


def coordinator_targets(session: Session, settings: Settings) -> list[str]:
    """Where coordinators are told things: their channel if set, else each one's user id."""
    if settings.coordinator_channel_id:
        return [settings.coordinator_channel_id]
    return [person.slack_user_id for person in coordinators(session)]


def _about(ref: str | None) -> str:
    """What an outbox ref was about, in words ("request #3", "offer #12")."""
    kind, _, rest = (ref or "").partition(":")
    number = rest.split(":")[0]
    return f" about {kind} #{number}" if kind in ("request", "offer", "checkin") and number else ""


def undeliverable_reporter(
    sessions: SessionFactory, settings: Settings, clock: Clock
) -> Callable[[int, str], None]:
    """The outbox's hook for a permanent failure: audit it and tell the coordinators once."""

    def report(message_id: int, error: str) -> None:
        with transaction(sessions) as session:
            message = session.get(OutboxMessage, message_id)
            if message is None:
                return
            now = clock.now()
            audit.record(
                session,
                at=now,
                actor=None,
                action="message.failed",
                subject_type="outbox",
                subject_id=message_id,
                error=error,
                channel=message.channel,
                ref=message.ref,
            )
            if (message.ref or "").startswith("undeliverable:"):
                return  # a failed failure notice is only logged, never reported in a loop
            target = message.channel or ""
            where = f"<@{target}>" if target[:1] in ("U", "W") else f"<#{target}>"
            text = (
                f":warning: I couldn't deliver a message to {where}{_about(message.ref)}: "
                f"Slack said `{error}`. Please check the channel or person and follow up by hand."
            )
            to_channel = target != settings.coordinator_channel_id
            notify_coordinators(
                session,
                settings,
                now=now,
                text=text,
                ref=f"undeliverable:{message_id}",
                prefer_channel=to_channel,
            )

    return report
