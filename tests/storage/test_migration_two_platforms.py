"""Migration 0008: people already in the directory keep their Slack ids; Teams ids join them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from storage.db import alembic_config, make_engine
from tests.conftest import TEST_DATABASE_URL

NOW = "2026-11-23 09:00:00+00:00"


@pytest.fixture
def engine_at_0007(db_url: str, tmp_path: Path) -> Iterator[Engine]:
    """A database with the schema as it was before 0008 (each kind, emptied first)."""
    if db_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    else:
        assert TEST_DATABASE_URL
        engine = make_engine(db_url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    command.upgrade(alembic_config(engine), "0007")
    yield engine
    if not db_url.startswith("sqlite"):
        command.upgrade(alembic_config(engine), "head")  # leave it as the next test expects
    engine.dispose()


def _add_person(engine: Engine, slack_id: str, name: str) -> None:
    """A person with a role and a request of their own: rows that point at them."""
    with engine.begin() as connection:
        person_id = connection.execute(
            text(
                "INSERT INTO person (slack_user_id, name, capacity, available, created_at,"
                " updated_at) VALUES (:slack, :name, 1, true, :now, :now) RETURNING id"
            ),
            {"slack": slack_id, "name": name, "now": NOW},
        ).scalar_one()
        connection.execute(
            text("INSERT INTO personrole (person_id, role) VALUES (:id, 'head')"),
            {"id": person_id},
        )
        connection.execute(
            text(
                "INSERT INTO support_request (requester_id, title, description, urgency,"
                " status, source, awaiting_profile, offer_round, created_at, updated_at)"
                " VALUES (:id, 't', 'd', 'routine', 'open', 'cli', false, 0, :now, :now)"
            ),
            {"id": person_id, "now": NOW},
        )


def test_people_keep_their_slack_ids_and_may_gain_a_teams_id(engine_at_0007: Engine) -> None:
    _add_person(engine_at_0007, "U0AAA", "Anna Balson")
    _add_person(engine_at_0007, "U0BBB", "Ben Cole")

    command.upgrade(alembic_config(engine_at_0007), "head")

    with engine_at_0007.begin() as connection:
        rows = connection.execute(
            text("SELECT slack_user_id, teams_user_id, preferred_platform FROM person ORDER BY id")
        ).all()
        assert [tuple(r) for r in rows] == [("U0AAA", None, None), ("U0BBB", None, None)]
        kept = "SELECT count(*) FROM support_request JOIN person ON person.id = requester_id"
        assert connection.execute(text(kept)).scalar_one() == 2
        connection.execute(
            text(
                "INSERT INTO person (teams_user_id, name, capacity, available, created_at,"
                " updated_at) VALUES ('6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f', 'Cara Teams',"
                " 1, true, :now, :now)"
            ),
            {"now": NOW},
        )
    with pytest.raises(IntegrityError), engine_at_0007.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO person (name, capacity, available, created_at, updated_at)"
                " VALUES ('Nobody', 1, true, :now, :now)"
            ),
            {"now": NOW},
        )


def test_a_teams_id_belongs_to_one_person(engine_at_0007: Engine) -> None:
    command.upgrade(alembic_config(engine_at_0007), "head")
    insert = text(
        "INSERT INTO person (teams_user_id, name, capacity, available, created_at, updated_at)"
        " VALUES ('6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f', :name, 1, true, :now, :now)"
    )
    with engine_at_0007.begin() as connection:
        connection.execute(insert, {"name": "One", "now": NOW})
    with pytest.raises(IntegrityError), engine_at_0007.begin() as connection:
        connection.execute(insert, {"name": "Two", "now": NOW})


def test_downgrade_keeps_slack_people(engine_at_0007: Engine) -> None:
    _add_person(engine_at_0007, "U0AAA", "Anna Balson")
    command.upgrade(alembic_config(engine_at_0007), "head")
    command.downgrade(alembic_config(engine_at_0007), "0007")
    with engine_at_0007.begin() as connection:
        names = connection.execute(text("SELECT name FROM person")).scalars().all()
    assert names == ["Anna Balson"]
