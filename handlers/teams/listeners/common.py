"""What every Teams listener reads from an activity: who acted (their Entra object id, the id
the directory knows Teams people by), where (the conversation, its reference to write back),
and the friendly handling of a refusal."""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, select

from bot.outbox.owing import owe_post
from bot.reach.conversations import PERSONAL, ConversationSeen, save_conversation
from handlers.teams.context import TeamsContext
from storage.models import OutboxMessage

log = logging.getLogger(__name__)

BUSY = "Sorry, I couldn't do that just now. Please try again in a minute."


def actor_of(activity: Any) -> str:
    """The Entra object id of whoever sent `activity` ("" if Teams did not say)."""
    sender = getattr(activity, "from_", None)
    return str(getattr(sender, "aad_object_id", None) or "")


def name_of(activity: Any) -> str:
    """The sender's display name as Teams gave it (for someone not yet in the directory)."""
    sender = getattr(activity, "from_", None)
    return str(getattr(sender, "name", None) or actor_of(activity))


def conversation_of(activity: Any) -> tuple[str, str]:
    """The conversation id (without a channel thread's `;messageid=`) and its type."""
    conversation = activity.conversation
    kind = str(conversation.conversation_type or PERSONAL)
    return str(conversation.id).split(";", 1)[0], kind


def seen(activity: Any) -> ConversationSeen:
    """The reference to write back to where `activity` came from."""
    conversation_id, kind = conversation_of(activity)
    tenant = getattr(activity.conversation, "tenant_id", None)
    return ConversationSeen(
        conversation_id=conversation_id,
        service_url=str(activity.service_url),
        reference={
            "serviceUrl": str(activity.service_url),
            "conversation": {"id": conversation_id, "conversationType": kind, "tenantId": tenant},
            "bot": {"id": str(activity.recipient.id)},
        },
        conversation_type=kind,
        tenant_id=str(tenant) if tenant else None,
        teams_user_id=actor_of(activity) if kind == PERSONAL else None,
    )


def remember(session: Session, activity: Any, ctx: TeamsContext) -> None:
    """Store (or refresh: the newest `serviceUrl` wins) where `activity` came from."""
    save_conversation(session, seen(activity), now=ctx.services.clock.now())


def already_said(session: Session, key: str) -> bool:
    """Whether a reply is already owed under `key` (the activity was handled before)."""
    owed = session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first()
    return owed is not None


def say_once(session: Session, ctx: TeamsContext, key: str, channel: str, text: str) -> None:
    """Owe `text` to `channel` unless already owed under `key` (a re-delivered activity)."""
    if not already_said(session, key):
        owe_post(session, now=ctx.services.clock.now(), channel=channel, text=text, dedupe_key=key)
