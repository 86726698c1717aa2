"""Team deployments and growing leaders through Slack: signed clicks and form submissions
against the real Bolt app, with the Web API answered by the local fake."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import col, select

from bot.entry.jobs import run_due
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    state_entry,
    view_submission_payload,
)
from storage.models import (
    AuditEntry,
    CheckIn,
    CheckInAnswer,
    Deployment,
    DeploymentMember,
    Offer,
    Person,
)
from tests.handlers.slack.conftest import SlackWorld
from tests.handlers.slack.test_home import click_in_home, open_home, values_of
from tests.handlers.slack.test_routing import request_now
from tests.support.blockkit import action_ids, texts
from tests.support.team_directory import TEAM_DIRECTORY


def accepted_by_nadia(slack: SlackWorld) -> int:
    """A head asks for maths support and Nadia (an NLE at Oak Hill) accepts; the deployment id."""
    slack.import_directory(TEAM_DIRECTORY)
    request_id, _ = request_now(slack, "Maths help please: our KS2 maths results have dropped")
    nadia_id = _person_id(slack, "UNLE1")
    with slack.runtime.sessions() as session:
        nadia = session.exec(
            select(Offer).where(Offer.request_id == request_id, Offer.supporter_id == nadia_id)
        ).one()
    assert interact(slack, block_actions_payload("UNLE1", "offer_accept", str(nadia.id))) == 200
    with slack.runtime.sessions() as session:
        deployment = session.exec(select(Deployment)).one()
    return deployment.id or 0


def _person_id(slack: SlackWorld, slack_id: str) -> int:
    with slack.runtime.sessions() as session:
        return session.exec(select(Person).where(Person.slack_user_id == slack_id)).one().id or 0


def interact(slack: SlackWorld, payload: dict[str, Any]) -> int:
    status, _, _ = slack.sender.interact(payload)
    slack.settle()
    return status


def team(slack: SlackWorld, deployment_id: int) -> list[tuple[str, str, bool]]:
    """(person id, role, still on it) for each membership, in order."""
    with slack.runtime.sessions() as session:
        rows = session.exec(
            select(DeploymentMember)
            .where(DeploymentMember.deployment_id == deployment_id)
            .order_by(DeploymentMember.id)
        ).all()
    return [(str(m.person_id), m.role, m.removed_at is None) for m in rows]


def submit_team(
    slack: SlackWorld, user: str, deployment_id: int, colleagues: list[str], shadow: str | None
) -> tuple[int, bytes]:
    values: dict[str, Any] = {"colleagues": {"value": state_entry(colleagues)}}
    if shadow is not None:
        values["shadow"] = {"value": state_entry(shadow, "static_select")}
    status, body, _ = slack.sender.interact(
        view_submission_payload(
            user, "team_add", values, json.dumps({"deployment_id": deployment_id})
        )
    )
    slack.settle()
    return status, body


def test_the_lead_adds_a_colleague_and_a_shadow_from_the_acceptance_message(
    slack: SlackWorld,
) -> None:
    deployment_id = accepted_by_nadia(slack)
    accepted = [
        m for m in slack.fake.messages("UNLE1") if "team_open" in action_ids(m.get("blocks"))
    ]
    assert accepted, "the acceptance message offers *Add colleagues or a shadow*"
    assert interact(slack, block_actions_payload("UNLE1", "team_open", str(deployment_id))) == 200
    [opened] = slack.fake.calls_to("views.open")
    assert opened.ok, opened.response
    form = opened.args["view"]
    assert form["callback_id"] == "team_add"
    colleagues = next(b for b in form["blocks"] if b.get("block_id") == "colleagues")
    assert [o["value"] for o in colleagues["element"]["options"]] == ["UASP1", "UOAK1", "UOAK2"]
    shadow = next(b for b in form["blocks"] if b.get("block_id") == "shadow")
    groups = shadow["element"]["option_groups"]
    assert [[o["value"] for o in g["options"]] for g in groups] == [["UASP1"], ["UASP2"]]

    status, body = submit_team(slack, "UNLE1", deployment_id, ["UOAK1"], "UASP2")
    assert (status == 200 and body in (b"", b"{}")) or b"errors" not in body
    olive, ben = _person_id(slack, "UOAK1"), _person_id(slack, "UASP2")
    assert team(slack, deployment_id) == [
        (str(olive), "colleague", True),
        (str(ben), "shadow", True),
    ]
    assert "Mere Green Primary School" in texts(slack.fake.messages("UOAK1")[-1]["blocks"])
    assert any("<@UOAK1>" in str(m) for m in slack.fake.messages("UHEAD1"))
    nadia_home = texts(open_home(slack, "UNLE1")["blocks"])
    assert "Team: <@UOAK1> (colleague), <@UASP2> (shadow)" in nadia_home
    olive_home = texts(open_home(slack, "UOAK1")["blocks"])
    assert "Deployments you're part of" in olive_home and "you're colleague" in olive_home
    assert "1 of 1 in use (1 as a colleague)" in olive_home


def test_refusals_and_form_errors_change_nothing(slack: SlackWorld) -> None:
    deployment_id = accepted_by_nadia(slack)
    assert interact(slack, block_actions_payload("USLE1", "team_open", str(deployment_id))) == 200
    assert slack.fake.calls_to("views.open") == []
    assert any("Only the lead supporter" in r for r in slack.fake.replies_to("USLE1"))
    status, body = submit_team(slack, "UNLE1", deployment_id, ["UOAKFULL"], None)
    assert status == 200 and json.loads(body)["response_action"] == "errors"
    assert "no room" in json.loads(body)["errors"]["colleagues"]
    status, body = submit_team(slack, "UNLE1", deployment_id, [], None)
    assert json.loads(body)["errors"] == {"colleagues": "Please choose a colleague or a shadow."}
    status, body = submit_team(slack, "USLE1", deployment_id, ["UOAK1"], None)
    assert json.loads(body)["response_action"] == "update"
    assert team(slack, deployment_id) == []


def test_picking_a_shadow_from_the_invitation_then_removing_and_stepping_off(
    slack: SlackWorld,
) -> None:
    deployment_id = accepted_by_nadia(slack)
    [invite] = [
        m for m in slack.fake.messages("UNLE1") if "team_shadow_pick" in action_ids(m["blocks"])
    ]
    pick = block_actions_payload(
        "UNLE1",
        "team_shadow_pick",
        "UASP1",
        message=invite,
        action_type="static_select",
    )
    assert interact(slack, pick) == 200
    assert interact(slack, pick) == 200, "a second pick is told politely"
    amy = _person_id(slack, "UASP1")
    assert team(slack, deployment_id) == [(str(amy), "shadow", True)]
    assert any("already on this deployment" in r for r in slack.fake.replies_to("UNLE1"))
    assert any("will shadow" in texts(m["blocks"]) for m in slack.fake.messages("UNLE1"))

    submit_team(slack, "UNLE1", deployment_id, ["UOAK2"], None)
    home = open_home(slack, "UNLE1")
    removes = {values_of(home["blocks"], f"team_remove:{n}").pop(): n for n in (0, 1)}
    assert set(removes) == {f"{deployment_id}:UASP1", f"{deployment_id}:UOAK2"}
    n = removes[f"{deployment_id}:UASP1"]
    click_in_home(slack, "UNLE1", f"team_remove:{n}", f"{deployment_id}:UASP1")
    slack.settle()
    open_home(slack, "UOAK2")
    click_in_home(slack, "UOAK2", "team_remove", f"{deployment_id}:self")
    slack.settle()
    assert [on for _, _, on in team(slack, deployment_id)] == [False, False]
    assert any("no longer on the team" in str(m) for m in slack.fake.messages("UASP1"))
    assert any("has stepped off" in str(m) for m in slack.fake.messages("UNLE1"))
    assert "Deployments you're part of" not in texts(slack.fake.home_view("UOAK2")["blocks"])


def test_a_colleague_or_shadow_answers_a_check_in_but_cannot_snooze_or_pause_it(
    slack: SlackWorld,
) -> None:
    deployment_id = accepted_by_nadia(slack)
    submit_team(slack, "UNLE1", deployment_id, ["UOAK1"], "UASP2")
    with slack.runtime.sessions() as session:
        checkin = session.exec(select(CheckIn)).one()
    slack.clock.set(checkin.due_at)
    run_due(slack.runtime)
    slack.settle()
    value = str(checkin.id)
    for member in ("UOAK1", "UASP2"):
        [dm] = [m for m in slack.fake.messages(member) if "checkin_on_track" in str(m)]
        assert "checkin_snooze" not in action_ids(dm["blocks"])
        assert "checkin_cadence" not in action_ids(dm["blocks"])
        # A forged or stale click is refused in their own words, and audited.
        interact(slack, block_actions_payload(member, "checkin_snooze", value, message=dm))
        pause = block_actions_payload(
            member, "checkin_cadence", f"{value}:pause", message=dm, action_type="static_select"
        )
        interact(slack, pause)
        refusals = slack.fake.replies_to(member)
        assert any("only they can snooze" in r for r in refusals), refusals
        assert any("decide how often" in r for r in refusals), refusals
    head_dm = next(m for m in slack.fake.messages("UHEAD1") if "checkin_on_track" in str(m))
    assert "checkin_snooze" in action_ids(head_dm["blocks"])
    with slack.runtime.sessions() as session:
        assert session.exec(select(CheckInAnswer)).all() == []
        assert not session.get(Deployment, deployment_id).checkins_paused
        refused = session.exec(
            select(AuditEntry.actor, AuditEntry.action).where(
                col(AuditEntry.action).like("checkin.%.refused")
            )
        ).all()
    assert sorted(refused) == [
        ("UASP2", "checkin.pause.refused"),
        ("UASP2", "checkin.snooze.refused"),
        ("UOAK1", "checkin.pause.refused"),
        ("UOAK1", "checkin.snooze.refused"),
    ]
    olive_dm = next(m for m in slack.fake.messages("UOAK1") if "checkin_on_track" in str(m))
    interact(slack, block_actions_payload("UOAK1", "checkin_on_track", value, message=olive_dm))
    with slack.runtime.sessions() as session:
        assert [a.outcome for a in session.exec(select(CheckInAnswer))] == ["on_track"]
