"""A deployment led by Nadia (Oak Hill) on the listener tests' context, with the team
directory loaded on top: her colleagues and the aspiring leaders."""

from __future__ import annotations

import io

from sqlmodel import Session, select

from bot.directory.service import import_directory
from bot.entry.runtime import Runtime
from bot.routing.service import assign_request
from storage.models import DeploymentMember
from tests.handlers.slack.listeners.conftest import COORDINATOR, new_request
from tests.support.team_directory import TEAM_DIRECTORY


def nadias_deployment(ctx: Runtime) -> int:
    """The team directory imported, and a request assigned to Nadia; the deployment id."""
    report = import_directory(ctx.sessions, io.StringIO(TEAM_DIRECTORY), now=ctx.clock.now())
    assert report.ok, report.render()
    request_id = new_request(ctx, offered=False)
    with ctx.sessions() as session:
        deployment = assign_request(
            session,
            ctx.context(),
            actor=COORDINATOR,
            request_id=request_id,
            supporter_slack_id="UNLE1",
        )
        session.commit()
        return deployment.id or 0


def on_team(ctx: Runtime, deployment_id: int) -> list[tuple[str, bool]]:
    """(role, still on it) of each membership, as committed now."""
    with Session(ctx.engine) as session:
        rows = session.exec(
            select(DeploymentMember)
            .where(DeploymentMember.deployment_id == deployment_id)
            .order_by(DeploymentMember.id)  # type: ignore[arg-type]
        ).all()
        return [(str(m.role), m.removed_at is None) for m in rows]
