"""Read-only sessions: they never wait for SQLite's write lock, and never write."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from storage.db import SessionFactory, read_only, transaction
from storage.models import School


def test_a_reader_is_not_held_up_by_a_writer(engine: Engine, sessions: SessionFactory) -> None:
    with transaction(sessions) as session:
        session.add(School(name="Mere Green Primary School"))
    with engine.connect() as writer:
        writer.begin()  # BEGIN IMMEDIATE on SQLite: holds the write lock until rolled back
        writer.execute(text("UPDATE school SET region = 'London'"))
        # Were the reader to BEGIN IMMEDIATE too, it would wait for the writer and fail.
        with read_only(sessions) as session:
            names = session.exec(select(School.name)).all()
        writer.rollback()
    assert names == ["Mere Green Primary School"]


def test_a_read_only_session_writes_nothing(sessions: SessionFactory) -> None:
    with read_only(sessions) as session:
        session.add(School(name="Never Saved School"))
        try:
            session.flush()
        except DBAPIError as error:  # PostgreSQL refuses outright: a read-only transaction
            assert "read-only" in str(error.orig)
    with read_only(sessions) as session:
        assert session.exec(select(School)).all() == []
