"""Team deployments and the coordinators' audit trail on Teams (issue 13), through
`/api/messages`: a Teams lead adds a colleague of their own school from a drop-down of the
directory's staff, picks a shadow from the invitation; `audit N` and *Audit trail* show the
trail to coordinators only, in their own 1:1 chat."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select

from bot.core.clock import FixedClock
from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from storage.models import (
    AuditEntry,
    CheckIn,
    CheckInAnswer,
    DeploymentMember,
    OutboxMessage,
    SupportRequest,
)
from tests.handlers.teams.conftest import COORDINATOR, HEAD, NLE, ON_TEAMS, teams_world
from tests.handlers.teams.programme import (
    actions_on,
    answer_card,
    buttons,
    card_with,
    cards_to,
    deployed,
    person_id,
    press_on_card,
    value_of,
)
from tests.handlers.teams.test_teams_flows import card_texts, fake, head_posts, press, requests
from tests.handlers.teams.test_teams_forms import inputs
from tests.handlers.teams.test_teams_visits import say
from tests.support.team_directory import TEAM_DIRECTORY

OLIVE = "66666666-6666-4666-8666-666666666666"  # Olive Teacher, Oak Hill, on Teams
MATHS = "Maths help please: our KS2 maths results have dropped"


@pytest.fixture
def world(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """Hannah (head), Nadia (NLE at Oak Hill) and her colleague Olive on Teams."""
    people = {**ON_TEAMS, "UOAK1": OLIVE}
    with teams_world(db_url, clock, directory=TEAM_DIRECTORY, on_teams=people) as running:
        yield running


@pytest.fixture
def coordinated(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """The usual directory, with Chris Coordinator on Teams too."""
    with teams_world(db_url, clock, on_teams={**ON_TEAMS, "UCOORD": COORDINATOR}) as running:
        yield running


def members(world: SlackWorld) -> list[tuple[int, str]]:
    with world.runtime.sessions() as session:
        rows = session.exec(select(DeploymentMember).order_by(col(DeploymentMember.id)))
        return [(m.person_id, str(m.role)) for m in rows if m.removed_at is None]


def test_a_teams_lead_adds_a_colleague_from_their_own_school(world: SlackWorld) -> None:
    deployment_id = deployed(world, MATHS)
    accepted = card_with(world, NLE, "team_open")
    assert "deployment_release" in actions_on(accepted)
    form = answer_card(press_on_card(world, NLE, "team_open"))
    colleagues = inputs(form)["colleagues"]
    assert colleagues["isMultiSelect"] and colleagues["type"] == "Input.ChoiceSet"
    names = [c["title"] for c in colleagues["choices"]]
    assert any("Olive Teacher" in n for n in names) and any("Oscar Office" in n for n in names)
    assert not any("Owen Busy" in n for n in names), "at capacity: counted, not listed"
    assert "1 more at capacity" in card_texts({"card": form})
    shadows = [c["title"] for c in inputs(form)["shadow"]["choices"]]
    assert any("Amy Aspiring" in n for n in shadows)
    assert not any("Mel Local" in n for n in shadows), "never the supported school's staff"

    empty = press(world, NLE, "team_add", deployment_id)
    assert "choose a colleague or a shadow" in empty["value"]
    assert members(world) == []
    olive_value = next(c["value"] for c in colleagues["choices"] if "Olive" in c["title"])
    assert olive_value == OLIVE
    for _ in range(2):  # a double submit adds her once
        answer = press(world, NLE, "team_add", deployment_id, colleagues=olive_value)
    assert members(world) == [(person_id(world, OLIVE), "colleague")]
    assert answer["type"].endswith("message") and "Olive" in answer["value"]
    told = [c for c in cards_to(world, OLIVE) if "Mere Green" in card_texts(c)]
    assert told, "Olive hears on Teams that she is on the team"


def test_only_the_lead_may_open_or_change_the_team(world: SlackWorld) -> None:
    deployment_id = deployed(world, MATHS)
    refused = press(world, HEAD, "team_open", deployment_id)
    assert refused["type"].endswith("message") and "lead" in refused["value"].lower()
    press(world, HEAD, "team_add", deployment_id, colleagues=OLIVE)
    assert members(world) == []


def test_the_shadow_is_picked_on_the_invitation(world: SlackWorld) -> None:
    deployed(world, MATHS)
    invitation = card_with(world, NLE, "team_shadow_pick")
    assert actions_on(invitation) == ["team_shadow_pick", "team_shadow_decline"]
    choices = inputs(invitation)["shadow"]["choices"]
    amy = next(c["value"] for c in choices if "Amy" in c["title"])
    nobody = press_on_card(world, NLE, "team_shadow_pick")
    assert "choose someone first" in nobody["value"]
    assert members(world) == []
    picked = press_on_card(world, NLE, "team_shadow_pick", shadow=amy)
    assert picked["value"] == (  # the core's mention <@id|name> as the name
        "Thanks — Amy Aspiring is now on this deployment. They'll get its check-ins too."
    )
    with world.runtime.sessions() as session:
        amy_id = session.exec(select(DeploymentMember.person_id)).one()
    assert members(world) == [(amy_id, "shadow")]


# --- the audit trail --------------------------------------------------------------------------
def trail_cards(world: SlackWorld, aad: str) -> list[str]:
    return [card_texts(c) for c in cards_to(world, aad) if "Audit trail of request" in str(c)]


def test_audit_n_sends_a_coordinator_the_trail_in_their_own_chat(coordinated: SlackWorld) -> None:
    deployed(coordinated)
    reply = say(coordinated, COORDINATOR, "audit 1")  # delivered twice: one trail
    [trail] = trail_cards(coordinated, COORDINATOR)
    assert reply == trail, "in the 1:1 chat the trail is the answer"
    assert "Audit trail of request #1" in trail and "Europe/London" in trail
    assert "Hannah Head" in trail and "Nadia Leader" in trail  # people named, not ids
    assert "accepted" in trail.lower()


def test_the_trail_is_refused_to_anyone_else_and_the_refusal_audited(
    coordinated: SlackWorld,
) -> None:
    deployed(coordinated)
    reply = say(coordinated, HEAD, "audit 1")
    assert "Only coordinators" in reply
    assert trail_cards(coordinated, HEAD) == []
    refused = press(coordinated, NLE, "home_audit_trail", 1)
    assert "Only coordinators" in refused["value"]
    with coordinated.runtime.sessions() as session:
        audited = session.exec(
            select(AuditEntry.actor).where(AuditEntry.action == "request.audit_trail.refused")
        ).all()
        trails = [
            m
            for m in session.exec(select(OutboxMessage))
            if "Audit trail of request" in str(m.payload)
        ]
    assert sorted(audited) == sorted([HEAD, NLE]) and trails == []


def test_audit_text_that_is_a_request_or_a_bad_number(coordinated: SlackWorld) -> None:
    assert "audit 12" in say(coordinated, COORDINATOR, "audit")  # how to ask
    assert (
        "can't find" in say(coordinated, COORDINATOR, "audit 999").lower()
        or trail_cards(coordinated, COORDINATOR) == []
    )
    say(coordinated, HEAD, "audit of our SEND provision: we need help with EHCPs")
    with coordinated.runtime.sessions() as session:
        assert len(list(session.exec(select(SupportRequest)))) == 1  # a request, as on Slack


def test_the_audit_trail_button_on_a_coordinator_card(coordinated: SlackWorld) -> None:
    head_posts(coordinated, "We need help with governance: our board of governors has resigned")
    [request] = requests(coordinated)
    press(coordinated, HEAD, "request_confirm", request.id)  # nobody has the expertise
    channel = fake(coordinated).messages("19:coordinators@thread.tacv2")
    alert = next(m for m in channel if "needs a coordinator" in card_texts(m))
    content = alert["attachments"][0]["content"]
    assert "home_audit_trail" in actions_on(content)
    answer = press(
        coordinated, COORDINATOR, "home_audit_trail", value_of(content, "home_audit_trail")
    )
    assert f"sent you the audit trail of request #{request.id}" in answer["value"]
    [trail] = trail_cards(coordinated, COORDINATOR)
    assert "Hannah Head" in trail
    assert trail_cards(coordinated, HEAD) == []


def test_from_home_the_lead_removes_someone_and_a_colleague_steps_off(world: SlackWorld) -> None:
    deployment_id = deployed(world, MATHS)
    press(world, NLE, "team_add", deployment_id, colleagues=f"{OLIVE},UOAK2")
    say(world, NLE, "home")
    lead_card = card_with(world, NLE, "team_remove")
    assert "Olive Teacher (colleague)" in card_texts(lead_card)
    removes = [b for b in buttons(lead_card) if b["data"]["action"] == "team_remove"]
    assert [b["title"] for b in removes] == ["Remove Olive Teacher", "Remove Oscar Office"]
    oscar = next(b["data"]["value"] for b in removes if "Oscar" in b["title"])
    answer = press(world, NLE, "team_remove", oscar)
    assert answer["type"].endswith("message")
    assert members(world) == [(person_id(world, OLIVE), "colleague")]

    say(world, OLIVE, "home")
    place = card_with(world, OLIVE, "team_remove")
    assert "as a colleague" in card_texts(place)
    refused = press(world, HEAD, "team_remove", f"{deployment_id}:{OLIVE}")  # not the lead
    assert members(world) == [(person_id(world, OLIVE), "colleague")], refused
    press_on_card(world, OLIVE, "team_remove")
    assert members(world) == []
    forged = press(world, NLE, "team_remove", f"{deployment_id}:<script>")
    assert "couldn't tell who" in forged["value"]


def test_a_teams_colleague_answers_a_check_in_but_cannot_snooze_it(world: SlackWorld) -> None:
    deployment_id = deployed(world, MATHS)
    press(world, NLE, "team_add", deployment_id, colleagues=OLIVE)
    with world.runtime.sessions() as session:
        checkin = session.exec(select(CheckIn)).one()
    world.clock.set(checkin.due_at)
    run_due(world.runtime)
    world.settle()
    olive_card = card_with(world, OLIVE, "checkin_on_track")
    assert "checkin_completed" not in actions_on(olive_card)
    assert "checkin_completed" in actions_on(card_with(world, HEAD, "checkin_on_track"))
    refused = press(world, OLIVE, "checkin_snooze", checkin.id)  # a forged or old button
    assert "only they can snooze" in refused["value"]
    with world.runtime.sessions() as session:
        assert session.exec(select(CheckInAnswer)).all() == []
        audited = session.exec(select(AuditEntry.action).where(AuditEntry.actor == OLIVE)).all()
    assert "checkin.snooze.refused" in audited
    assert press(world, OLIVE, "checkin_on_track", checkin.id)["value"] == "Thank you: noted."
