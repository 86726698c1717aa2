"""Migration 0013 (invitations to host a visit expire) on a database with invitations
already out: the open ones get a week from when they were made, the answered ones none."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine
from sqlmodel import Session, select

from storage.db import alembic_config
from storage.models import Person, UTCDateTime, VisitOffer, VisitRequest
from tests.conftest import MONDAY_MORNING

_OFFERS = sa.table(
    "visit_offer",
    sa.column("visit_id", sa.Integer()),
    sa.column("host_id", sa.Integer()),
    sa.column("status", sa.String()),
    sa.column("reasons", sa.String()),
    sa.column("created_at", UTCDateTime(timezone=True)),
)


def test_open_invitations_get_a_week_and_answered_ones_none(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0013-1")
    with Session(engine) as session:
        people = [
            Person(
                slack_user_id=f"U{n}",
                name=f"P{n}",
                created_at=MONDAY_MORNING,
                updated_at=MONDAY_MORNING,
            )
            for n in range(3)
        ]
        session.add_all(people)
        session.flush()
        visit = VisitRequest(
            requester_id=people[0].id or 0, created_at=MONDAY_MORNING, updated_at=MONDAY_MORNING
        )
        session.add(visit)
        session.flush()
        session.execute(
            _OFFERS.insert(),
            [
                {
                    "visit_id": visit.id,
                    "host_id": people[1].id,
                    "status": "open",
                    "reasons": "",
                    "created_at": MONDAY_MORNING,
                },
                {
                    "visit_id": visit.id,
                    "host_id": people[2].id,
                    "status": "declined",
                    "reasons": "",
                    "created_at": MONDAY_MORNING,
                },
            ],
        )
        session.commit()
    command.upgrade(config, "head")
    with Session(engine) as session:
        offers = session.exec(select(VisitOffer).order_by(VisitOffer.id)).all()
        assert [(o.status, o.expires_at) for o in offers] == [
            ("open", MONDAY_MORNING + timedelta(days=7)),
            ("declined", None),
        ]
