"""A coordinator ends a support early (*End this support*): coordinators only, with a short
reason; once, however many clicks; check-ins stop, capacity is freed, everyone on it is told,
the audit says who (not why), and the record, the export and privacy handle the reason."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.checkins.service import COMPLETED, answer_checkin
from bot.core.audit_trail import describe
from bot.core.clock import FixedClock
from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.deployments.ending import ENDED, end_support
from bot.deployments.html import summary_html
from bot.deployments.record import export_records, records_between
from bot.members.service import load_of
from bot.privacy.retention import erase_request_text
from bot.privacy.service import erase_person, export_person
from bot.teamwork.flows import add_to_team
from storage.db import transaction
from storage.models import AuditEntry, CheckInStatus, SupportRequest
from tests.support.checkin_world import COORDINATOR_CHANNEL, World, act, make_world, utc
from tests.support.team_directory import TEAM_DIRECTORY

HEAD, LEAD, COLLEAGUE, SHADOW, COORDINATOR = "UHEAD1", "UNLE1", "UOAK1", "UASP2", "UCOORD"
REASON = "The school has joined a trust that supports it directly."


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock, directory=TEAM_DIRECTORY) as world:
        yield world


def end(world: World, deployment_id: int, *, actor: str = COORDINATOR, reason: str = REASON) -> Any:
    return act(world, end_support, actor=actor, deployment_id=deployment_id, reason=reason)


@pytest.fixture
def team(world: World) -> int:
    """Nadia leads a support with a colleague and a shadow; the first check-in has gone out."""
    deployment_id = world.deploy(supporter=LEAD, tags=("maths",))
    act(
        world,
        add_to_team,
        actor=LEAD,
        deployment_id=deployment_id,
        colleagues=[COLLEAGUE],
        shadow=SHADOW,
    )
    world.at(utc(2026, 11, 30, 9, 30))
    assert CheckInStatus.SENT in {c.status for c in world.checkins(deployment_id)}
    return deployment_id


def request_of(world: World, deployment_id: int) -> SupportRequest:
    with world.runtime.sessions() as session:
        request = session.get(SupportRequest, world.deployment(deployment_id).request_id)
        assert request is not None
        return request


def audited(world: World, action: str) -> list[AuditEntry]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def texts_to(world: World, channel: str) -> str:
    return "\n".join(str(m.get("blocks")) + m["text"] for m in world.fake.messages(channel))


def load(world: World, slack_id: str) -> int:
    with world.runtime.sessions() as session:
        return load_of(session, world.person_id(slack_id))


# --- ending ----------------------------------------------------------------------------------
def test_a_coordinator_ends_a_support_for_a_reason(world: World, team: int) -> None:
    assert load(world, LEAD) == 1 and load(world, COLLEAGUE) == 1
    assert end(world, team) == ENDED
    deployment, request = world.deployment(team), request_of(world, team)
    assert (deployment.status, deployment.end_reason) == ("cancelled", REASON)
    assert deployment.ended_at == world.clock.now()
    assert (request.status, request.closed_at) == ("cancelled", world.clock.now())
    assert {c.status for c in world.checkins(team)} == {CheckInStatus.CANCELLED}
    # Load counts only active deployments: the lead's and the colleague's places are free.
    assert load(world, LEAD) == 0 and load(world, COLLEAGUE) == 0
    # Nothing more is sent for it, however long the due work runs.
    checkins = len(world.checkins(team))
    world.at(utc(2026, 12, 21, 9, 30))
    assert len(world.checkins(team)) == checkins
    assert not world.dms(HEAD, "checkin_on_track") and not world.dms(LEAD, "checkin_on_track")


def test_everyone_on_the_support_is_told_and_the_check_in_dms_close(
    world: World, team: int
) -> None:
    end(world, team)
    request_id = world.deployment(team).request_id
    ended = (
        "The coordinators have ended the support for *Mere Green Primary School* "
        f"(request #{request_id})."
    )
    for person in (HEAD, LEAD, COLLEAGUE, SHADOW):
        assert ended in texts_to(world, person), person
    for person in (HEAD, LEAD):  # the head and the lead hear why; the team that it ended
        assert REASON in texts_to(world, person)
    for person in (COLLEAGUE, SHADOW):
        assert REASON not in texts_to(world, person)
    # The open check-in DMs say so in place.
    for person in (HEAD, LEAD, COLLEAGUE):
        assert "This support has ended, so this check-in is closed." in texts_to(world, person)
    notice = texts_to(world, COORDINATOR_CHANNEL)
    assert f"<@{COORDINATOR}> ended the support on request #{request_id}" in notice
    assert REASON in notice
    card = texts_to(world, HEAD)
    assert "The coordinators have ended this support." in card, "the card is refreshed"
    assert "This request has been cancelled." not in card


def test_the_audit_says_who_ended_it_not_why(world: World, team: int) -> None:
    end(world, team)
    [entry] = audited(world, "deployment.ended")
    assert (entry.actor, entry.subject_type, entry.subject_id) == (
        COORDINATOR,
        "deployment",
        str(team),
    )
    assert entry.detail == {"request_id": world.deployment(team).request_id}
    assert REASON not in json.dumps(entry.detail)
    assert describe(entry.action, entry.subject_type, entry.subject_id, entry.detail) == (
        "ended the support early (the reason is on the deployment record)"
    )


@pytest.mark.parametrize("who", [HEAD, LEAD, COLLEAGUE, SHADOW])
def test_only_a_coordinator_ends_a_support(world: World, team: int, who: str) -> None:
    with pytest.raises(NotAllowed) as refused:
        end(world, team, actor=who)
    assert (refused.value.action, refused.value.subject_type) == ("deployment.end", "deployment")
    assert refused.value.subject_id == team
    assert world.deployment(team).status == "active"
    assert request_of(world, team).status == "accepted"


@pytest.mark.parametrize("reason", ["", "   \n ", "x" * 301])
def test_a_short_reason_is_required(world: World, team: int, reason: str) -> None:
    with pytest.raises(InvalidInput) as invalid:
        end(world, team, reason=reason)
    assert list(invalid.value.errors) == ["reason"]
    assert world.deployment(team).status == "active"


def test_a_reason_of_the_most_characters_is_kept(world: World, team: int) -> None:
    end(world, team, reason="y" * 300)
    assert world.deployment(team).end_reason == "y" * 300


def test_ending_twice_ends_once(world: World, team: int) -> None:
    end(world, team)
    told = len(world.fake.messages(HEAD))
    with pytest.raises(Conflict, match="already ended"):  # a double click, or a second copy
        end(world, team, reason="Another reason")
    assert world.deployment(team).end_reason == REASON
    assert len(audited(world, "deployment.ended")) == 1
    assert len(world.fake.messages(HEAD)) == told
    assert texts_to(world, COORDINATOR_CHANNEL).count("ended the support on request") == 1


def test_a_support_already_completed_is_not_ended(world: World, team: int) -> None:
    [checkin] = [c for c in world.checkins(team) if c.status == CheckInStatus.SENT]
    act(
        world,
        answer_checkin,
        actor=HEAD,
        checkin_id=checkin.id,
        outcome=COMPLETED,
        note="All sorted.",
    )
    with pytest.raises(Conflict):
        end(world, team)
    deployment = world.deployment(team)
    assert (deployment.status, deployment.end_reason) == ("completed", None)
    assert request_of(world, team).status == "closed"
    assert not audited(world, "deployment.ended")


# --- the record, the export and privacy ------------------------------------------------------
def test_the_record_and_export_carry_the_reason(world: World, team: int) -> None:
    end(world, team)
    with world.runtime.sessions() as session:
        records = records_between(session, world.runtime.settings.tz, start=None, end=None)
    [record] = records
    assert (record["status"], record["end_reason"]) == ("cancelled", REASON)
    [row] = csv.DictReader(io.StringIO(export_records(records, "csv")))
    assert (row["status"], row["end_reason"]) == ("cancelled", REASON)
    assert json.loads(export_records(records, "json"))[0]["end_reason"] == REASON
    page = summary_html(record, generated=world.clock.now())
    assert "Ended by a coordinator" in page and "trust that supports it directly" in page


@pytest.mark.parametrize("erased", [COORDINATOR, LEAD])
def test_erasing_who_wrote_it_or_whom_it_is_about_erases_the_reason(
    world: World, team: int, erased: str
) -> None:
    end(world, team)
    with transaction(world.runtime.sessions) as session:
        assert REASON in json.dumps(export_person(session, LEAD))
        report = erase_person(session, world.runtime.context(), erased)
    assert report is not None and report.end_reasons == 1
    assert "reason a support was ended" in report.summary(world.runtime.settings.tz)
    assert world.deployment(team).end_reason is None


def test_retention_erases_the_reason_with_the_requests_text(world: World, team: int) -> None:
    end(world, team)
    with transaction(world.runtime.sessions) as session:
        erase_request_text(session, [request_of(world, team).id or 0], now=world.clock.now())
    assert world.deployment(team).end_reason is None
