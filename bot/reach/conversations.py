"""Teams conversation references: where the bot can write to on Teams.

The Teams adapter saves the reference of every conversation the bot is installed in or spoken
to in (`save_conversation`: the newest `serviceUrl` wins), and its sender finds the one to
write to (`conversation_with`, `conversation`). Ids only in logs; the reference itself names
the conversation, the tenant, the bot and, for a 1:1 chat, the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from storage.models import TeamsConversationRef

PERSONAL = "personal"


@dataclass(frozen=True)
class ConversationSeen:
    """What the adapter read from an activity: the conversation and, for 1:1, the user."""

    conversation_id: str
    service_url: str
    reference: dict[str, Any]
    conversation_type: str = PERSONAL
    tenant_id: str | None = None
    teams_user_id: str | None = None  # the Entra object id of the user in a 1:1 chat


def save_conversation(
    session: Session, seen: ConversationSeen, *, now: datetime
) -> TeamsConversationRef:
    """Store or refresh the reference of `seen` (an upsert, safe against a second copy
    saving the same conversation at the same moment)."""
    for _attempt in range(2):
        ref = _existing(session, seen)
        if ref is not None:
            _refresh(ref, seen, now)
            session.flush()
            return ref
        ref = TeamsConversationRef(created_at=now, updated_at=now, **_fields(seen))
        try:
            with session.begin_nested():
                session.add(ref)
        except IntegrityError:
            continue  # saved meanwhile by another request: refresh that one instead
        return ref
    raise RuntimeError(f"could not save Teams conversation {seen.conversation_id!r}")


def _existing(session: Session, seen: ConversationSeen) -> TeamsConversationRef | None:
    same_user = (
        col(TeamsConversationRef.teams_user_id) == seen.teams_user_id
        if seen.teams_user_id and seen.conversation_type == PERSONAL
        else col(TeamsConversationRef.id).is_(None)
    )
    return session.exec(
        select(TeamsConversationRef)
        .where(or_(col(TeamsConversationRef.conversation_id) == seen.conversation_id, same_user))
        .execution_options(populate_existing=True)
    ).first()


def _fields(seen: ConversationSeen) -> dict[str, Any]:
    personal = seen.conversation_type == PERSONAL
    return {
        "conversation_id": seen.conversation_id,
        "conversation_type": seen.conversation_type,
        "teams_user_id": seen.teams_user_id if personal else None,
        "tenant_id": seen.tenant_id,
        "service_url": seen.service_url,
        "reference": seen.reference,
    }


def _refresh(ref: TeamsConversationRef, seen: ConversationSeen, now: datetime) -> None:
    for name, value in _fields(seen).items():
        setattr(ref, name, value)
    ref.updated_at = now
    ref.removed_at = None


def conversation(session: Session, conversation_id: str) -> TeamsConversationRef | None:
    """The stored reference of a conversation (a channel, a group chat or a 1:1), if any."""
    return session.exec(
        select(TeamsConversationRef).where(
            col(TeamsConversationRef.conversation_id) == conversation_id
        )
    ).first()


def conversation_with(session: Session, teams_user_id: str) -> TeamsConversationRef | None:
    """The 1:1 chat the bot has with a Teams user, if one is stored and not removed."""
    return session.exec(
        select(TeamsConversationRef).where(
            col(TeamsConversationRef.teams_user_id) == teams_user_id,
            col(TeamsConversationRef.removed_at).is_(None),
        )
    ).first()


def mark_removed(session: Session, conversation_id: str, *, now: datetime) -> bool:
    """Note that the bot was uninstalled from a conversation; True if it was known."""
    ref = conversation(session, conversation_id)
    if ref is None:
        return False
    ref.removed_at = now
    ref.updated_at = now
    return True


def conversations_of(session: Session, teams_user_id: str) -> list[TeamsConversationRef]:
    """Every stored conversation reference naming this Teams user (for a privacy export)."""
    return list(
        session.exec(
            select(TeamsConversationRef).where(
                col(TeamsConversationRef.teams_user_id) == teams_user_id
            )
        )
    )


def forget_conversations_of(session: Session, teams_user_id: str) -> int:
    """Delete the conversation references naming this Teams user (erasure); returns how many."""
    result = session.execute(
        delete(TeamsConversationRef).where(col(TeamsConversationRef.teams_user_id) == teams_user_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)
