"""The engine: database errors, which end up in logs, never quote what was being saved."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.core.clock import FixedClock
from storage.db import SessionFactory, each_in_its_own_transaction, transaction
from storage.models import InboundEvent, Person
from tests.support.logs import LOG_FORMATS, bot_log

PRIVATE = "Mrs Example's capability case in Year 4"


def _save(sessions: SessionFactory, clock: FixedClock) -> None:
    with transaction(sessions) as session:
        session.add(InboundEvent(event_id="Ev1", body={"text": PRIVATE}, received_at=clock.now()))


def test_a_database_error_does_not_quote_its_parameters(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    _save(sessions, clock)
    with pytest.raises(IntegrityError) as raised:
        _save(sessions, clock)
    assert PRIVATE not in str(raised.value)
    assert "hidden due to hide_parameters" in str(raised.value)


@pytest.mark.parametrize("log_format", LOG_FORMATS)
def test_a_row_the_database_refuses_is_not_quoted_in_the_log(
    sessions: SessionFactory, log_format: str
) -> None:
    # PostgreSQL's refusal quotes the whole row: "Failing row contains (…, Anna Balson, …)".
    def save_someone_unreachable(session: Session, _item: int) -> int:
        session.add(Person(name="Anna Balson", email="a.balson@example.org"))
        session.flush()
        return 1

    log = logging.getLogger("bot.directory.jobs")
    with bot_log(log_format) as lines:
        done = each_in_its_own_transaction(
            sessions, [7], save_someone_unreachable, log=log, failed="saving person %s failed"
        )

    logged = lines.getvalue()
    assert done == 0 and "saving person 7 failed" in logged
    assert "IntegrityError" in logged and "save_someone_unreachable" in logged
    assert "Anna Balson" not in logged and "a.balson@example.org" not in logged
