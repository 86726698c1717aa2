"""The engine: database errors, which end up in logs, never quote what was being saved."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from bot.core.clock import FixedClock
from storage.db import SessionFactory, transaction
from storage.models import InboundEvent

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
