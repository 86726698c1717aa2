"""A coordinator's *End this support* on Teams, through `/api/messages`: the button on their
`home` card unfolds the reason box; the invoke ends the support (once) before it is answered,
and the head and the supporter, both on Teams, are told why; nobody else can do it."""

from __future__ import annotations

from sqlmodel import select

from bot.core.clock import FixedClock
from bot.deployments.ending import ENDED
from storage.models import AuditEntry, Deployment
from tests.handlers.teams.conftest import COORDINATOR, HEAD, NLE, ON_TEAMS, teams_world
from tests.handlers.teams.programme import actions_on, card_with, cards_to, deployed, value_of
from tests.handlers.teams.test_teams_flows import card_texts, press
from tests.handlers.teams.test_teams_forms import inputs
from tests.handlers.teams.test_teams_visits import say

END = "deployment_end"
REASON = "The school has joined a trust that supports it directly."


def test_a_coordinator_on_teams_ends_a_support_from_their_home_card(
    db_url: str, clock: FixedClock
) -> None:
    with teams_world(db_url, clock, on_teams={**ON_TEAMS, "UCOORD": COORDINATOR}) as world:
        deployment_id = deployed(world)
        say(world, COORDINATOR, "home")
        card = card_with(world, COORDINATOR, END)
        assert actions_on(card) == ["deployment_summary", END, "home_audit_trail"]
        assert inputs(card)["reason"]["maxLength"] == 300
        value = value_of(card, END)
        # Nobody else can, and a reason is required: both change nothing.
        assert "Only coordinators" in press(world, NLE, END, value, reason=REASON)["value"]
        assert (
            "Please say briefly why" in press(world, COORDINATOR, END, value, reason=" ")["value"]
        )
        with world.runtime.sessions() as session:
            assert session.get(Deployment, deployment_id).status == "active"  # type: ignore[union-attr]
        assert press(world, COORDINATOR, END, value, reason=REASON)["value"] == ENDED
        again = press(world, COORDINATOR, END, value, reason=REASON)  # a double click
        assert "already ended" in again["value"]
        with world.runtime.sessions() as session:
            ended = session.get(Deployment, deployment_id)
            assert ended is not None and (ended.status, ended.end_reason) == ("cancelled", REASON)
            audited = session.exec(select(AuditEntry.action).where(AuditEntry.actor == COORDINATOR))
            assert list(audited).count("deployment.ended") == 1
        for person in (HEAD, NLE):
            told = [c for c in cards_to(world, person) if "have ended the support" in card_texts(c)]
            assert len(told) == 1 and REASON in card_texts(told[0])
