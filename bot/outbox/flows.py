"""Flows of the outbox: owing a person an answer only they see, and auditing a refusal."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.core import audit
from bot.core.errors import NotAllowed
from bot.outbox.owing import owe_ephemeral, owe_post, owe_reply


def owe_answer(
    session: Session,
    *,
    now: datetime,
    user: str,
    text: str,
    channel: str | None = None,
    response_url: str | None = None,
    refused: NotAllowed | None = None,
) -> None:
    """Owe `user` a message only they see, wherever they acted (auditing a refusal with it).

    Through the `response_url` of their command or click (which works in any conversation),
    else ephemeral in their channel, else in their DM with the bot; the outbox falls back to
    the DM whenever the first choice can't be delivered.
    """
    if refused is not None:
        record_refusal(session, refused, actor=user, now=now)
    if response_url:
        owe_reply(
            session, now=now, user=user, channel=channel, response_url=response_url, text=text
        )
    elif channel:
        owe_ephemeral(session, now=now, channel=channel, user=user, text=text)
    else:
        owe_post(session, now=now, channel=user, text=text)


def record_refusal(session: Session, refused: NotAllowed, *, actor: str, now: datetime) -> None:
    """Audit a refusal (in its own transaction: the refused one was rolled back)."""
    audit.record(
        session,
        at=now,
        actor=actor,
        action=f"{refused.action or 'action'}.refused",
        subject_type=refused.subject_type or "unknown",
        subject_id=refused.subject_id,
    )
