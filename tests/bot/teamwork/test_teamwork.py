"""Team deployments and growing leaders in the core: who may join a deployment, what it
counts for, check-ins for the team, the shadow invitation, the digest and privacy."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.checkins.service import (
    COMPLETED,
    NEEDS_ATTENTION,
    ON_TRACK,
    SNOOZED,
    answer_checkin,
    change_cadence,
    load_view,
    pause_checkins,
    resume_checkins,
)
from bot.core.clock import FixedClock
from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.digest.service import build_digest, current_week_start, digest_week
from bot.members.service import load_of
from bot.privacy.service import erase_person, export_person
from bot.routing.service import accept_offer, load_candidates, rank_for
from bot.teamwork.flows import add_to_team, choose_shadow, decline_shadow, remove_from_team
from bot.teamwork.service import team_form
from storage.db import transaction
from storage.models import (
    AuditEntry,
    CheckIn,
    CheckInAnswer,
    DeploymentMember,
    Offer,
    SupportRequest,
)
from tests.support.blockkit import action_ids, texts
from tests.support.checkin_world import World, act, make_world, utc
from tests.support.team_directory import TEAM_DIRECTORY


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    with make_world(engine, clock, directory=TEAM_DIRECTORY) as world:
        yield world


def deploy(world: World, **kwargs: Any) -> int:
    """A deployment (see `World.deploy`), its messages delivered."""
    deployment_id = world.deploy(**kwargs)
    world.runtime.deliverer.drain()
    return deployment_id


def members(world: World, deployment_id: int) -> list[DeploymentMember]:
    with world.runtime.sessions() as session:
        return list(
            session.exec(
                select(DeploymentMember)
                .where(DeploymentMember.deployment_id == deployment_id)
                .order_by(DeploymentMember.id)
            )
        )


def load(world: World, slack_id: str) -> int:
    with world.runtime.sessions() as session:
        return load_of(session, world.person_id(slack_id))


def test_a_colleague_joins_is_told_and_uses_their_own_capacity(world: World) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    reply = act(
        world,
        add_to_team,
        actor="UNLE1",
        deployment_id=deployment_id,
        colleagues=["UOAK1"],
        shadow=None,
    )
    assert "<@UOAK1|" in reply
    [member] = members(world, deployment_id)
    assert (member.role, member.removed_at) == ("colleague", None)
    assert "Mere Green Primary School" in texts(world.dms("UOAK1")[-1]["blocks"])
    assert "UOAK1" in str(world.dms("UHEAD1")[-1]), "the head hears who is coming"
    assert load(world, "UOAK1") == 1 and load(world, "UNLE1") == 1
    # Olive's one place is taken: routing no longer offers her anything.
    with world.runtime.sessions() as session:
        olive = next(c for c in load_candidates(session) if c.user_id == "UOAK1")
        assert olive.active_deployments == 1
    second = world.request(tags=("maths",))
    with world.runtime.sessions() as session:
        request = session.get(SupportRequest, second)
        ranked = rank_for(session, request, world.runtime.vocabulary)
    assert "UOAK1" not in {m.candidate.user_id for m in ranked}
    assert "USLE1" in {m.candidate.user_id for m in ranked}


def test_a_colleague_at_capacity_cannot_accept_an_offer_too(world: World) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    act(
        world,
        add_to_team,
        actor="UNLE1",
        deployment_id=deployment_id,
        colleagues=["UOAK1"],
        shadow=None,
    )
    other = world.request(tags=("maths",))
    olive = world.person_id("UOAK1")
    with transaction(world.runtime.sessions) as session:
        request = session.get(SupportRequest, other)
        request.status = "offered"
        offer = Offer(request_id=other, supporter_id=olive, created_at=world.clock.now())
        session.add(offer)
        session.flush()
        offer_id = offer.id
    with pytest.raises(Conflict, match="capacity"):
        act(world, accept_offer, actor="UOAK1", offer_id=offer_id)


def test_only_the_lead_or_a_coordinator_changes_the_team_and_only_with_fitting_people(
    world: World,
) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    add = {"deployment_id": deployment_id, "shadow": None}
    with pytest.raises(NotAllowed):
        act(world, add_to_team, actor="USLE1", colleagues=["UOAK1"], **add)
    with pytest.raises(NotAllowed):
        act(world, add_to_team, actor="UOAK1", colleagues=["UOAK1"], **add)
    with pytest.raises(InvalidInput, match="isn't on your school's staff"):
        act(world, add_to_team, actor="UNLE1", colleagues=["USLE1"], **add)
    with pytest.raises(InvalidInput, match="no room"):
        act(world, add_to_team, actor="UNLE1", colleagues=["UOAKFULL"], **add)
    with pytest.raises(InvalidInput, match="choose a colleague"):
        act(world, add_to_team, actor="UNLE1", colleagues=[], **add)
    with pytest.raises(InvalidInput):  # all or nothing: Olive is not added either
        act(world, add_to_team, actor="UNLE1", colleagues=["UOAK1", "UOAKFULL"], **add)
    assert members(world, deployment_id) == []
    act(world, add_to_team, actor="UCOORD", colleagues=["UOAK2"], **add)
    with pytest.raises(InvalidInput, match="already on this deployment"):
        act(world, add_to_team, actor="UNLE1", colleagues=["UOAK2"], **add)
    form = act(world, team_form, actor="UNLE1", deployment_id=deployment_id)
    assert [c.slack_user_id for c in form.colleagues] == ["UASP1", "UOAK1"]
    assert form.colleagues_full == 1 and [m.role for m in form.members] == ["colleague"]


def test_team_members_get_check_ins_and_answer_but_do_not_complete(world: World) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    act(
        world,
        add_to_team,
        actor="UNLE1",
        deployment_id=deployment_id,
        colleagues=["UOAK1"],
        shadow="UASP2",
    )
    world.at(utc(2026, 11, 30, 9, 30))  # the first check-in, a week on
    [checkin] = world.checkins(deployment_id)[:1]
    for person in ("UHEAD1", "UNLE1", "UOAK1", "UASP2"):
        dm = world.dms(person, "checkin_on_track")
        assert dm, f"{person} got the check-in"
    olive = world.dms("UOAK1", "checkin_on_track")[-1]
    assert "checkin_completed" not in action_ids(olive["blocks"])
    assert "checkin_cadence" not in action_ids(olive["blocks"])
    assert "checkin_completed" in action_ids(world.dms("UNLE1", "checkin_on_track")[-1]["blocks"])
    act(world, answer_checkin, actor="UASP2", checkin_id=checkin.id, outcome=ON_TRACK)
    with pytest.raises(Conflict, match="only the head or the lead"):
        act(
            world,
            answer_checkin,
            actor="UOAK1",
            checkin_id=checkin.id,
            outcome=COMPLETED,
            note="Done",
        )
    with pytest.raises(NotAllowed):
        act(world, pause_checkins, actor="UOAK1", checkin_id=checkin.id)
    assert "(shadow)" in texts(world.dms("UHEAD1", "checkin_on_track")[-1]["blocks"])


def test_only_the_head_the_lead_or_a_coordinator_snooze_pause_or_resume(world: World) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    act(
        world,
        add_to_team,
        actor="UNLE1",
        deployment_id=deployment_id,
        colleagues=["UOAK1"],
        shadow="UASP2",
    )
    world.at(utc(2026, 11, 30, 9, 30))  # the first check-in goes out
    [checkin] = world.checkins(deployment_id)[:1]
    next_due = world.checkins(deployment_id)[-1].due_at
    for member in ("UOAK1", "UASP2"):
        with pytest.raises(NotAllowed, match="only they can snooze") as refused:
            act(world, answer_checkin, actor=member, checkin_id=checkin.id, outcome=SNOOZED)
        assert (refused.value.action, refused.value.subject_type) == ("checkin.snooze", "checkin")
        assert refused.value.subject_id == checkin.id
        for change in (pause_checkins, resume_checkins):
            with pytest.raises(NotAllowed, match="decide how often"):
                act(world, change, actor=member, checkin_id=checkin.id)
        with pytest.raises(NotAllowed, match="decide how often"):
            act(world, change_cadence, actor=member, checkin_id=checkin.id, days=14)
    assert world.checkins(deployment_id)[-1].due_at == next_due, "nothing moved"
    assert not world.deployment(deployment_id).checkins_paused
    # They still answer for themselves; a coordinator changes when check-ins come, never answers.
    act(world, answer_checkin, actor="UOAK1", checkin_id=checkin.id, outcome=ON_TRACK)
    with pytest.raises(NotAllowed, match="only they can answer"):
        act(world, answer_checkin, actor="UCOORD", checkin_id=checkin.id, outcome=ON_TRACK)
    act(world, pause_checkins, actor="UCOORD", checkin_id=checkin.id)
    assert world.deployment(deployment_id).checkins_paused
    act(world, resume_checkins, actor="UCOORD", checkin_id=checkin.id)
    assert not world.deployment(deployment_id).checkins_paused
    with transaction(world.runtime.sessions) as session:
        actions = session.exec(
            select(AuditEntry.action, AuditEntry.actor).where(
                AuditEntry.subject_type == "deployment",
                col(AuditEntry.action).like("deployment.checkins_%"),
            )
        ).all()
    assert sorted(actions) == [
        ("deployment.checkins_paused", "UCOORD"),
        ("deployment.checkins_resumed", "UCOORD"),
    ]


def test_a_coordinator_may_snooze_a_check_in_and_is_shown_as_the_coordinator(
    world: World,
) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    world.at(utc(2026, 11, 30, 9, 30))
    [checkin] = world.checkins(deployment_id)[:1]
    act(world, answer_checkin, actor="UCOORD", checkin_id=checkin.id, outcome=SNOOZED)
    assert world.checkins(deployment_id)[-1].due_at == utc(2026, 12, 7, 9, 30)
    with world.runtime.sessions() as session:
        [answer] = session.exec(select(CheckInAnswer)).all()
        view = load_view(session, world.runtime.context(), session.get(CheckIn, checkin.id))
    assert answer.outcome == SNOOZED
    assert [(a.name, a.role) for a in view.answers] == [("Chris Coordinator", "coordinator")]
    assert "(coordinator)" in texts(world.dms("UHEAD1", "checkin_on_track")[-1]["blocks"])


def test_removing_and_stepping_off_end_the_place_and_its_check_ins(world: World) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    act(
        world,
        add_to_team,
        actor="UNLE1",
        deployment_id=deployment_id,
        colleagues=["UOAK1", "UOAK2"],
        shadow=None,
    )
    world.at(utc(2026, 11, 30, 9, 30))
    act(
        world, remove_from_team, actor="UNLE1", deployment_id=deployment_id, person_slack_id="UOAK1"
    )
    # The check-in DM says so in place (Monday's personal digest came after it).
    texts_to_oak1 = [m["text"] for m in world.dms("UOAK1")]
    assert "You're no longer on this support's team, so this check-in is closed. Thank you." in (
        texts_to_oak1
    )
    assert load(world, "UOAK1") == 0
    with pytest.raises(NotAllowed):  # a member can't remove someone else
        act(
            world,
            remove_from_team,
            actor="UOAK1",
            deployment_id=deployment_id,
            person_slack_id="UOAK2",
        )
    reply = act(
        world, remove_from_team, actor="UOAK2", deployment_id=deployment_id, person_slack_id="UOAK2"
    )
    assert "stepped off" in reply
    assert "has stepped off" in str(world.dms("UNLE1")[-1])
    with pytest.raises(Conflict):
        act(
            world,
            remove_from_team,
            actor="UNLE1",
            deployment_id=deployment_id,
            person_slack_id="UOAK2",
        )
    assert all(m.removed_at is not None for m in members(world, deployment_id))
    with world.runtime.sessions() as session:
        actions = [
            (a.action, a.detail.get("reason"))
            for a in session.exec(select(AuditEntry).order_by(AuditEntry.id))
            if a.action.startswith("deployment.member")
        ]
    assert actions == [
        ("deployment.member_added", None),
        ("deployment.member_added", None),
        ("deployment.member_removed", "removed"),
        ("deployment.member_removed", "left"),
    ]


def test_the_shadow_invitation_offers_aspiring_leaders_own_school_first(world: World) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    [invite] = world.dms("UNLE1", "team_shadow_pick")
    options = next(
        e
        for b in invite["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == "team_shadow_pick"
    )
    groups = [[o["value"] for o in g["options"]] for g in options["option_groups"]]
    assert groups == [["UASP1"], ["UASP2"]], "own school first; never the supported school's"
    reply = act(world, choose_shadow, actor="UNLE1", deployment_id=deployment_id, shadow="UASP2")
    assert "<@UASP2|" in reply
    assert [(m.role, load(world, "UASP2")) for m in members(world, deployment_id)] == [
        ("shadow", 0)
    ]
    assert any("will shadow this deployment" in texts(m["blocks"]) for m in world.dms("UNLE1"))
    assert world.dms("UNLE1", "team_shadow_pick") == [], "the invitation was updated in place"
    with pytest.raises(Conflict):
        act(world, choose_shadow, actor="UNLE1", deployment_id=deployment_id, shadow="UASP2")
    with pytest.raises(Conflict):  # someone from the school being supported
        act(world, choose_shadow, actor="UNLE1", deployment_id=deployment_id, shadow="UASPMG")


def test_no_invitation_without_aspiring_leaders_and_not_this_time(
    engine: Engine, clock: FixedClock
) -> None:
    directory = "\n".join(line for line in TEAM_DIRECTORY.splitlines() if "aspiring" not in line)
    with make_world(engine, clock, directory=directory) as world:
        deploy(world, supporter="UNLE1", tags=("maths",))
        assert world.dms("UNLE1", "team_shadow_pick") == []
    with make_world(engine, clock, directory=TEAM_DIRECTORY) as world:
        deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
        act(world, decline_shadow, actor="UNLE1", deployment_id=deployment_id)
        assert any("No shadow this time" in texts(m["blocks"]) for m in world.dms("UNLE1"))


def test_the_digest_counts_deployments_shadowed_this_academic_year(world: World) -> None:
    world.clock.set(utc(2026, 7, 6, 9))  # last academic year
    old = deploy(world, supporter="UNLE1", tags=("maths",))
    act(world, choose_shadow, actor="UNLE1", deployment_id=old, shadow="UASP2")
    world.clock.set(utc(2026, 11, 23, 9))
    new = deploy(world, supporter="USLE1", tags=("send",))
    act(world, choose_shadow, actor="USLE1", deployment_id=new, shadow="UASP2")
    ctx = world.runtime.context()
    with world.runtime.sessions() as session:
        digest = build_digest(session, ctx, digest_week(ctx, current_week_start(ctx)))
    leaders = {g.name: g for g in digest.coordinators.growing_leaders}
    request_of_new = world.deployment(new).request_id
    assert leaders["Ben Aspiring"].request_ids == (request_of_new,)
    assert leaders["Amy Aspiring"].request_ids == ()
    assert leaders["Ben Aspiring"].roles == ("aspiring SLE",)
    assert "Mel Local" in leaders


def test_the_digest_names_who_flagged_attention_by_their_part(world: World) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    act(
        world,
        add_to_team,
        actor="UNLE1",
        deployment_id=deployment_id,
        colleagues=["UOAK1"],
        shadow="UASP2",
    )
    world.at(utc(2026, 11, 30, 9, 30))
    [checkin] = world.checkins(deployment_id)[:1]
    for person in ("UOAK1", "UASP2", "UNLE1", "UHEAD1"):
        act(
            world,
            answer_checkin,
            actor=person,
            checkin_id=checkin.id,
            outcome=NEEDS_ATTENTION,
            note="Visits keep moving",
        )
    act(
        world, remove_from_team, actor="UNLE1", deployment_id=deployment_id, person_slack_id="UASP2"
    )
    world.clock.set(utc(2026, 12, 7, 8, 0))
    ctx = world.runtime.context()
    with world.runtime.sessions() as session:
        digest = build_digest(session, ctx, digest_week(ctx, current_week_start(ctx)))
    flagged = [a.by for a in digest.coordinators.attention if a.kind == NEEDS_ATTENTION]
    assert flagged == [
        "Olive Teacher (colleague)",
        "Ben Aspiring (shadow)",  # as they were then, though they have left the team since
        "Nadia Leader (supporter)",
        "Hannah Head (head)",
    ]


def test_privacy_export_and_erase_cover_memberships(world: World) -> None:
    deployment_id = deploy(world, supporter="UNLE1", tags=("maths",))
    act(
        world,
        add_to_team,
        actor="UNLE1",
        deployment_id=deployment_id,
        colleagues=["UOAK1"],
        shadow=None,
    )
    with world.runtime.sessions() as session:
        exported = export_person(session, "UOAK1")
    assert exported is not None
    [place] = exported["deployment_memberships"]
    assert (place["deployment_id"], place["role"], place["removed_at"]) == (
        deployment_id,
        "colleague",
        None,
    )
    report = act(world, erase_person, slack_user_id="UOAK1")
    assert report.memberships_ended == [deployment_id]
    assert "place on a deployment's team ended" in report.summary(world.runtime.settings.tz)
    assert load(world, "UOAK1") == 0
    assert members(world, deployment_id)[0].removed_at is not None
