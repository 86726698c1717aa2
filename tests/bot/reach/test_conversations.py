"""Teams conversation references: saved on install or first word, newest wins, found for a
person's 1:1 chat, forgotten on erasure; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock import FixedClock
from bot.reach.conversations import (
    ConversationSeen,
    conversation,
    conversation_with,
    conversations_of,
    forget_conversations_of,
    mark_removed,
    save_conversation,
)
from storage.db import SessionFactory, transaction

USER = "6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f"
TENANT = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def seen(conversation_id: str, service_url: str, **extra: object) -> ConversationSeen:
    reference = {"serviceUrl": service_url, "conversation": {"id": conversation_id}}
    return ConversationSeen(
        conversation_id=conversation_id,
        service_url=service_url,
        reference=reference,
        tenant_id=TENANT,
        **extra,  # type: ignore[arg-type]  # the optional fields, by name
    )


def test_a_personal_chat_is_found_for_its_user_and_the_newest_service_url_wins(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    with transaction(sessions) as session:
        save_conversation(
            session, seen("a:1", "https://smba.one/", teams_user_id=USER), now=clock.now()
        )
    later = clock.now() + timedelta(hours=1)
    with transaction(sessions) as session:
        save_conversation(session, seen("a:1", "https://smba.two/", teams_user_id=USER), now=later)
    with sessions() as session:
        ref = conversation_with(session, USER)
        assert ref is not None
        assert ref.service_url == "https://smba.two/"
        assert ref.reference["serviceUrl"] == "https://smba.two/"
        assert ref.tenant_id == TENANT and ref.updated_at == later
        assert len(conversations_of(session, USER)) == 1


def test_a_new_personal_chat_with_the_same_user_replaces_the_old_one(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    with transaction(sessions) as session:
        save_conversation(session, seen("a:old", "https://s/", teams_user_id=USER), now=clock.now())
    with transaction(sessions) as session:
        save_conversation(session, seen("a:new", "https://s/", teams_user_id=USER), now=clock.now())
    with sessions() as session:
        ref = conversation_with(session, USER)
        assert ref is not None and ref.conversation_id == "a:new"
        assert conversation(session, "a:old") is None


def test_a_channel_is_kept_by_its_id_and_names_no_user(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    channel = "19:coord@thread.tacv2"
    with transaction(sessions) as session:
        save_conversation(
            session,
            seen(channel, "https://s/", conversation_type="channel", teams_user_id=USER),
            now=clock.now(),
        )
    with sessions() as session:
        ref = conversation(session, channel)
        assert ref is not None and ref.teams_user_id is None
        assert conversation_with(session, USER) is None


def test_an_uninstalled_chat_is_not_written_to_until_spoken_in_again(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    with transaction(sessions) as session:
        save_conversation(session, seen("a:1", "https://s/", teams_user_id=USER), now=clock.now())
    with transaction(sessions) as session:
        assert mark_removed(session, "a:1", now=clock.now())
        assert not mark_removed(session, "a:unknown", now=clock.now())
    with sessions() as session:
        assert conversation_with(session, USER) is None
    with transaction(sessions) as session:
        save_conversation(session, seen("a:1", "https://s/", teams_user_id=USER), now=clock.now())
    with sessions() as session:
        assert conversation_with(session, USER) is not None


def test_erasure_forgets_a_persons_conversations(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    with transaction(sessions) as session:
        save_conversation(session, seen("a:1", "https://s/", teams_user_id=USER), now=clock.now())
        save_conversation(session, seen("19:x@thread.skype", "https://s/"), now=clock.now())
    with transaction(sessions) as session:
        assert forget_conversations_of(session, USER) == 1
    with sessions() as session:
        assert conversations_of(session, USER) == []
        assert conversation(session, "19:x@thread.skype") is not None
