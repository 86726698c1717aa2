"""Privacy for someone on Teams: export and erasure by their Teams user id cover the id,
their messages and the stored conversation references; on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.context import ServiceContext
from bot.core.school_calendar import load_calendar
from bot.core.settings import load_settings
from bot.core.vocabulary import default_vocabulary
from bot.outbox.owing import owe_post
from bot.privacy.service import erase_person, export_person
from bot.reach.conversations import ConversationSeen, conversations_of, save_conversation
from storage.db import SessionFactory, transaction
from storage.models import AuditEntry, Person, Platform

CARA = "6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f"


def _cara_with_a_chat(sessions: SessionFactory, clock: FixedClock) -> None:
    with transaction(sessions) as session:
        session.add(
            Person(
                teams_user_id=CARA,
                preferred_platform=Platform.TEAMS,
                name="Cara Teams",
                email="cara@example.org",
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
        seen = ConversationSeen(
            conversation_id="a:1cara",
            service_url="https://smba.trafficmanager.net/uk/",
            reference={"conversation": {"id": "a:1cara"}, "user": {"aadObjectId": CARA}},
            teams_user_id=CARA,
        )
        save_conversation(session, seen, now=clock.now())
        owe_post(session, now=clock.now(), channel=CARA, text="Your check-in is due")


def test_export_by_teams_id_holds_the_id_messages_and_conversations(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    _cara_with_a_chat(sessions, clock)
    with sessions() as session:
        data = export_person(session, CARA)
    assert data is not None
    assert (data["slack_user_id"], data["teams_user_id"]) == (None, CARA)
    assert data["directory_entry"]["preferred_platform"] == "teams"
    assert [m["text"] for m in data["messages_to_them"]] == ["Your check-in is due"]
    [chat] = data["teams_conversations"]
    assert chat["conversation_id"] == "a:1cara"
    assert chat["reference"]["user"]["aadObjectId"] == CARA


def test_erasure_by_teams_id_forgets_the_conversations_and_keeps_the_id(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    _cara_with_a_chat(sessions, clock)
    settings = load_settings({}, env_file=None)
    ctx = ServiceContext(settings, default_vocabulary(), load_calendar(settings), clock.now())
    with transaction(sessions) as session:
        report = erase_person(session, ctx, CARA)
        assert report is not None and not report.already_erased
    with sessions() as session:
        [cara] = session.exec(select(Person)).all()
        assert cara.teams_user_id == CARA and cara.email is None and cara.name != "Cara Teams"
        assert conversations_of(session, CARA) == []
        assert [e.action for e in session.exec(select(AuditEntry))] == ["person.erased"]
