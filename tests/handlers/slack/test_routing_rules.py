"""The hub's matching rules through Slack: no offer to a supporter in the requesting school's
trust or before their available_from date, phase and region required, and coordinators told
why when the rules leave nobody."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from handlers.slack.stand_in.signing import view_submission_payload
from storage.models import AuditEntry, Deployment, Offer, Person
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL, SlackWorld
from tests.handlers.slack.test_routing import click, offer_dms, offers, request_now
from tests.support.blockkit import action_ids, texts

HEADER = "slack_user_id,name,email,roles,school,school_urn,phase,region,expertise,capacity"
# Hannah's school and Sam's are in one trust; Priya is not available until January.
DIRECTORY = f"""{HEADER},trust,available_from
UHEAD1,Hannah Head,,head,Mere Green Primary School,103413,primary,West Midlands,,1,Arden Trust,
UHEAD2,Harry Head,,head,Castle Vale Academy,140001,secondary,West Midlands,,1,,
UNLE1,Nadia Leader,,nle,Oak Hill Primary,103500,primary,West Midlands,leadership;send;maths,2,,
USLE1,Sam Specialist,,sle,Birch Primary,103600,primary,West Midlands,send;maths,1,ARDEN  trust,
USLE2,Sally Maths,,sle,Elm Primary School,103700,primary,East Midlands,maths,1,,
USPEC1,Priya Senco,,specialist,Ash Primary School,103800,primary,West Midlands,send,1,,2027-01-04
UCOORD,Chris Coordinator,,coordinator,,,,,,0,,
"""


@pytest.fixture
def slack_settings_env(slack_settings_env: dict[str, str]) -> dict[str, str]:
    """A hub that requires the phase and the region to match."""
    return {**slack_settings_env, "PHASE_MATCH": "require", "REGION_MATCH": "require"}


def coordinator_alerts(slack: SlackWorld) -> list[str]:
    """The text of every alert with an *Assign someone* button in the coordinators' channel."""
    return [
        texts(call.args["blocks"])
        for call in slack.fake.calls_to("chat.postMessage")
        if call.args["channel"] == COORDINATOR_CHANNEL
        and "request_assign" in action_ids(call.args.get("blocks"))
    ]


def test_the_same_trust_and_a_later_available_from_are_never_offered(slack: SlackWorld) -> None:
    slack.import_directory(DIRECTORY)
    request_id, _ = request_now(slack, "We need help with SEND: our SENCO has left")
    assert set(offer_dms(slack)) == {"UNLE1"}
    [offer] = offers(slack, request_id)

    click(slack, "UNLE1", "offer_decline", str(offer.id))
    slack.fake.wait_for("views.open")
    slack.sender.interact(
        view_submission_payload(
            "UNLE1", "offer_decline", {"reason": {"value": ""}}, private_metadata=str(offer.id)
        )
    )
    slack.settle()
    [alert] = coordinator_alerts(slack)
    assert f"Request #{request_id} needs someone assigned by hand" in alert
    assert "1 in the requesting school's trust (a conflict of interest)" in alert
    assert "1 not available yet" in alert
    with slack.runtime.sessions() as session:
        offered = session.exec(select(Offer.supporter_id)).all()
        sam = session.exec(select(Person).where(Person.slack_user_id == "USLE1")).one()
    assert sam.id not in offered


def test_a_required_phase_leaves_nobody_and_coordinators_are_told_why(slack: SlackWorld) -> None:
    slack.import_directory(DIRECTORY)
    request_id, _ = request_now(slack, "Help with KS3 maths please", user="UHEAD2")
    assert offers(slack, request_id) == []
    [alert] = coordinator_alerts(slack)
    assert "3 from another phase (PHASE_MATCH=require)" in alert


def test_a_required_region_keeps_the_offer_in_the_region(slack: SlackWorld) -> None:
    slack.import_directory(DIRECTORY)
    request_id, _ = request_now(slack, "Help with KS2 maths please")
    # Sally (maths, East Midlands) is outside the region; Sam is in Hannah's trust.
    assert set(offer_dms(slack)) == {"UNLE1"}
    assert len(offers(slack, request_id)) == 1


def _deployed(slack: SlackWorld, request_id: int) -> list[int]:
    """The supporters (person ids) deployed on a request."""
    with slack.runtime.sessions() as session:
        return list(
            session.exec(select(Deployment.supporter_id).where(Deployment.request_id == request_id))
        )


def _person(slack: SlackWorld, user: str) -> Person:
    with slack.runtime.sessions() as session:
        return session.exec(select(Person).where(Person.slack_user_id == user)).one()


def test_a_hand_assignment_in_the_same_trust_is_refused_unless_anyway(slack: SlackWorld) -> None:
    slack.import_directory(DIRECTORY)
    request_id, _ = request_now(slack, "We need help with SEND: our SENCO has left")
    slack.fake.clear()

    assert slack.sender.command("/support", f"assign {request_id} <@USLE1>", user_id="UCOORD")[0]
    slack.settle()
    [reply] = slack.fake.responses("UCOORD")
    assert "in the requesting school's trust (a conflict of interest)" in reply["text"]
    assert "anyway" in reply["text"]
    assert _deployed(slack, request_id) == []

    command = f"assign {request_id} <@USLE1|sam> anyway"
    assert slack.sender.command("/support", command, user_id="UCOORD")[0] == 200
    slack.settle()
    assert _deployed(slack, request_id) == [_person(slack, "USLE1").id]
    with slack.runtime.sessions() as session:
        [overruled] = session.exec(
            select(AuditEntry).where(AuditEntry.action == "request.assigned_over_rule")
        ).all()
    assert overruled.actor == "UCOORD" and "trust" in overruled.detail["rule"]


def test_nobody_is_assigned_to_their_own_schools_request(slack: SlackWorld) -> None:
    directory = DIRECTORY + "UNLE9,Nia Colleague,,nle,Mere Green Primary School,103413,,,send,1,,\n"
    slack.import_directory(directory)
    request_id, _ = request_now(slack, "We need help with SEND: our SENCO has left")
    slack.fake.clear()
    command = f"assign {request_id} <@UNLE9> anyway"
    assert slack.sender.command("/support", command, user_id="UCOORD")[0] == 200
    slack.settle()
    [reply] = slack.fake.responses("UCOORD")
    assert "from the school that asked" in reply["text"]
    assert _deployed(slack, request_id) == []


def _assign_form(slack: SlackWorld, request_id: int, user: str, *, anyway: bool) -> bytes:
    """The coordinator submits the assign modal for `user`; returns the response body."""
    values = {"supporter": {"value": {"type": "users_select", "selected_user": user}}}
    if anyway:
        chosen = {"type": "checkboxes", "selected_options": [{"value": "anyway"}]}
        values["anyway"] = {"value": chosen}
    status, body, _ = slack.sender.interact(
        view_submission_payload(
            "UCOORD", "assign", values, private_metadata=json.dumps({"request_id": request_id})
        )
    )
    assert status == 200
    return body


def test_the_assign_form_says_when_a_supporter_is_free_and_can_overrule(slack: SlackWorld) -> None:
    slack.import_directory(DIRECTORY)
    request_id, _ = request_now(slack, "We need help with SEND: our SENCO has left")

    refused = json.loads(_assign_form(slack, request_id, "USPEC1", anyway=False))
    assert refused["response_action"] == "errors"
    assert "not available until 4 January 2027" in refused["errors"]["supporter"]
    assert _deployed(slack, request_id) == []

    assert _assign_form(slack, request_id, "USPEC1", anyway=True) in (b"", b"{}")
    slack.settle()
    assert _deployed(slack, request_id) == [_person(slack, "USPEC1").id]
