"""The personal digest beyond leading and being supported: deployments someone is on as a
colleague or a shadow, and their open-classroom visits (visiting or hosting, waiting, to come
and recent), on SQLite and PostgreSQL, rendered as Slack shows them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.core.school_calendar import EXAMPLE_HOLIDAYS_FILE
from bot.digest.service import build_digest, digest_week
from bot.digest.views import PersonalDigest, PersonalDigestMessage, personal_digest_text
from bot.members.service import COLLEAGUE, SHADOW, add_member, end_membership
from handlers.slack.blocks.render import view_as_text
from storage.db import transaction
from storage.models import Deployment, DeploymentMember, Person
from tests.support.checkin_world import World, make_world, utc
from tests.support.visit_world import VISIT_DIRECTORY, accept, ask, book


@pytest.fixture
def world(engine: Engine, clock: FixedClock) -> Iterator[World]:
    """Monday 23 November 2026: Nadia (Oak Hill) supports Hannah's school; Sally is on her
    team as a colleague and Harry shadows her."""
    with make_world(
        engine, clock, directory=VISIT_DIRECTORY, HOLIDAYS_FILE=str(EXAMPLE_HOLIDAYS_FILE)
    ) as world:
        deployment_id = world.deploy(supporter="UNLE1")
        with transaction(world.runtime.sessions) as session:
            deployment = session.get(Deployment, deployment_id)
            assert deployment is not None
            for user, role in (("USLE2", COLLEAGUE), ("UHEAD2", SHADOW)):
                person = session.exec(select(Person).where(Person.slack_user_id == user)).one()
                add_member(
                    session,
                    deployment=deployment,
                    person=person,
                    role=role,
                    added_by=None,
                    actor="UNLE1",
                    now=clock.now(),
                )
        yield world


def digests(world: World, day: date | None = None) -> dict[str, PersonalDigest]:
    ctx = world.runtime.context()
    with world.runtime.sessions() as session:
        week = digest_week(ctx, day or ctx.calendar.local(ctx.now).date())
        built = build_digest(session, ctx, week)
    return {d.slack_user_id: d for d in built.personal}


def shown(world: World, user: str, day: date | None = None) -> str:
    ctx = world.runtime.context()
    week = digest_week(ctx, day or ctx.calendar.local(ctx.now).date())
    return view_as_text(PersonalDigestMessage(digests(world, day)[user], week, "Europe/London"))


def test_colleagues_and_shadows_get_the_deployment_in_their_digest(world: World) -> None:
    sally, harry = digests(world)["USLE2"], digests(world)["UHEAD2"]
    assert [(p.role, p.deployment.supporter_name) for p in sally.team] == [
        ("colleague", "Nadia Leader")
    ]
    assert [p.role for p in harry.team] == ["shadow"]
    assert "You're on Nadia Leader's team supporting" in shown(world, "USLE2")
    assert "Mere Green Primary School" in shown(world, "USLE2")
    assert "You're shadowing Nadia Leader supporting" in shown(world, "UHEAD2")
    assert "on the team of 1 deployment" in personal_digest_text(sally)
    assert "shadowing 1 deployment" in personal_digest_text(harry)
    # The lead and the head see it as before, not as a team place.
    assert digests(world)["UNLE1"].team == [] and digests(world)["UHEAD1"].team == []


def test_someone_who_has_left_the_team_no_longer_sees_it(world: World) -> None:
    with transaction(world.runtime.sessions) as session:
        member = session.exec(
            select(DeploymentMember).where(DeploymentMember.role == COLLEAGUE)
        ).one()
        end_membership(
            session,
            member,
            removed_by=None,
            actor="UNLE1",
            now=utc(2026, 11, 23, 10, 0),
            reason="left",
        )
    assert "USLE2" not in digests(world)


def test_visits_to_come_waiting_and_recent_are_in_both_digests(world: World) -> None:
    booked = ask(world)  # Hannah asks; Nadia hosts on Tuesday 8 December
    accept(world, booked.id, "UNLE1")
    book(world, booked.id, "UNLE1", date(2026, 12, 8))
    waiting = ask(world, user="UHEAD2")  # Harry's: still offered to host schools
    hannah, nadia, harry = (digests(world)[u] for u in ("UHEAD1", "UNLE1", "UHEAD2"))
    assert [(v.id, v.as_host) for v in hannah.visits] == [(booked.id, False)]
    assert [(v.id, v.as_host) for v in nadia.visits] == [(booked.id, True)]
    assert [v.id for v in harry.visits] == [waiting.id]
    assert (
        "You're visiting Oak Hill Primary School to see Maths on Tuesday 8 December 2026."
        in shown(world, "UHEAD1")
    )
    assert "You're hosting @UHEAD1 (Mere Green Primary School) to see Maths" in shown(
        world, "UNLE1"
    )
    assert f"(visit #{waiting.id}): waiting for a host school" in shown(world, "UHEAD2")
    assert "1 open-classroom visit" in personal_digest_text(hannah)
    # The week after the visit: it was this period's, so it is still there, in the past tense.
    world.at(utc(2026, 12, 9, 9, 30))  # marked visited, "was it useful?" asked
    later = date(2026, 12, 14)
    world.clock.set(utc(2026, 12, 14, 9, 0))
    assert "You visited Oak Hill Primary School" in shown(world, "UHEAD1", later)
    assert "You hosted @UHEAD1" in shown(world, "UNLE1", later)
    # A fortnight on, it has gone.
    world.clock.set(utc(2026, 12, 21, 9, 0))
    assert not digests(world, date(2026, 12, 21))["UHEAD1"].visits


def test_a_visit_alone_earns_a_personal_digest(world: World) -> None:
    ask(world, user="USLE1", text="We'd like to see mastery maths in Year 4")
    assert "USLE1" in digests(world)
    assert "open-classroom visit" in personal_digest_text(digests(world)["USLE1"])
