"""Migration 0009 (the deployment lifecycle) on a database with deployments already running:
they get a plan without being sent the "next steps", and ended ones are not asked to close."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Boolean, Engine, Integer, String, column, insert, table
from sqlmodel import Session, select

from storage.db import alembic_config
from storage.models import Deployment, DeploymentStatus, Person, SupportRequest, UTCDateTime
from tests.conftest import MONDAY_MORNING

# The deployment table as it was then: the model has grown since (`end_reason`, 0018).
DEPLOYMENT_BEFORE_0009 = table(
    "deployment",
    column("request_id", Integer),
    column("supporter_id", Integer),
    column("status", String),
    column("started_at", UTCDateTime()),
    column("ended_at", UTCDateTime()),
    column("checkins_paused", Boolean),
)


def _deployment(session: Session, person_id: int, status: DeploymentStatus) -> None:
    request = SupportRequest(
        requester_id=person_id, created_at=MONDAY_MORNING, updated_at=MONDAY_MORNING
    )
    session.add(request)
    session.flush()
    session.execute(
        insert(DEPLOYMENT_BEFORE_0009).values(
            request_id=request.id or 0,
            supporter_id=person_id,
            status=str(status),
            started_at=MONDAY_MORNING,
            ended_at=None if status == DeploymentStatus.ACTIVE else MONDAY_MORNING,
            checkins_paused=False,
        )
    )


def test_existing_deployments_get_a_plan_marked_as_already_started(engine: Engine) -> None:
    config = alembic_config(engine)
    command.downgrade(config, "0009-1")
    with Session(engine) as session:
        person = Person(
            slack_user_id="U1", name="A", created_at=MONDAY_MORNING, updated_at=MONDAY_MORNING
        )
        session.add(person)
        session.flush()
        _deployment(session, person.id or 0, DeploymentStatus.ACTIVE)
        _deployment(session, person.id or 0, DeploymentStatus.COMPLETED)
        session.commit()
    command.upgrade(config, "head")
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT deployment_id, next_steps_sent_at IS NOT NULL, closing_asked_at IS NOT NULL "
            "FROM deployment_plan ORDER BY deployment_id"
        ).all()
    assert [tuple(row) for row in rows] == [(1, True, False), (2, True, True)]
    with Session(engine) as session:
        assert len(session.exec(select(Deployment)).all()) == 2
