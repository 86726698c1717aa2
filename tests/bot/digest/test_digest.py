"""The weekly digest: its weeks, its contents on a seeded history, Slack's limits at volume,
at most once per week (also across processes), and the `digest` command."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.checkins.service import COMPLETED, NEEDS_ATTENTION, answer_checkin
from bot.core.clock import FixedClock
from bot.core.context import ServiceContext
from bot.digest.jobs import send_due_digest
from bot.digest.service import (
    build_digest,
    digest_week,
    preview_digest,
    send_weekly_digest,
    week_start_of,
)
from bot.entry.scheduler import digest_trigger, start_scheduler
from handlers.slack.blocks import MESSAGE_BLOCK_LIMIT, SECTION_TEXT_LIMIT
from handlers.slack.blocks.render import view_as_text
from handlers.slack.stand_in.fake_slack import FakeSlack
from storage.db import transaction
from storage.models import (
    CheckIn,
    CheckInAnswer,
    Deployment,
    DigestRun,
    ExpertiseTag,
    Offer,
    OutboxMessage,
    Person,
    PersonExpertise,
    PersonRole,
    RequestTag,
    School,
    SupportRequest,
)
from tests.support.blockkit import texts
from tests.support.checkin_world import COORDINATOR_CHANNEL, World, make_world, utc

ROOT = Path(__file__).resolve().parents[3]


def ctx_at(world: World) -> ServiceContext:
    return world.runtime.context()


def deliver_all(world: World) -> None:
    while world.runtime.deliverer.drain().sent:
        pass


def digest_posts(fake: FakeSlack) -> list[dict[str, Any]]:
    return [
        c.args
        for c in fake.calls_to("chat.postMessage")
        if c.args["channel"] == COORDINATOR_CHANNEL and "Weekly digest" in c.args["text"]
    ]


# --- weeks -------------------------------------------------------------------------------------
def test_weeks_run_monday_to_sunday_and_fall_due_at_digest_cron_local_time(
    engine: Engine, clock: FixedClock
) -> None:
    assert week_start_of(date(2026, 11, 1)) == date(2026, 10, 26)  # a Sunday
    assert week_start_of(date(2026, 11, 2)) == date(2026, 11, 2)
    with make_world(engine, clock) as world:
        world.clock.set(utc(2026, 10, 15, 12, 0))
        bst = digest_week(ctx_at(world), date(2026, 10, 15))
        assert bst.week_start == date(2026, 10, 12)
        assert bst.due_at == utc(2026, 10, 12, 7, 0)  # 08:00 BST
        assert (bst.start, bst.end) == (utc(2026, 10, 5, 7, 0), utc(2026, 10, 12, 7, 0))
        gmt = digest_week(ctx_at(world), date(2026, 11, 8))
        assert gmt.week_start == date(2026, 11, 2)
        assert gmt.due_at == utc(2026, 11, 2, 8, 0)  # 08:00 GMT, after the clocks went back
        # A week whose digest time hasn't come covers the seven days up to now.
        assert gmt.end == world.clock.now() and gmt.start == gmt.end - timedelta(days=7)
    with make_world(engine, clock, DIGEST_CRON="fri 16:30") as world:
        friday = digest_week(ctx_at(world), date(2026, 11, 23))
        assert friday.due_at == utc(2026, 11, 27, 16, 30)


def mondays(first: date, count: int) -> list[date]:
    return [first + timedelta(weeks=n) for n in range(count)]


@pytest.mark.parametrize(
    "first",
    [date(2026, 10, 12), date(2027, 3, 15)],
    ids=["october-2026", "march-2027"],
)
def test_consecutive_weeks_tile_across_the_clock_changes(
    engine: Engine, clock: FixedClock, first: date
) -> None:
    clock.set(utc(2027, 6, 1, 12, 0))
    with make_world(engine, clock) as world:
        weeks = [digest_week(ctx_at(world), monday) for monday in mondays(first, 4)]
    for previous, week in pairwise(weeks):
        assert week.start == previous.end == previous.due_at, week.week_start
    # The week with the change is an hour longer (October) or shorter (March) than 168 hours.
    lengths = [(w.end - w.start) / timedelta(hours=1) for w in weeks]
    assert lengths == ([168, 168, 169, 168] if first.month == 10 else [168, 168, 167, 168])


def new_requests_in_digests(world: World) -> list[str]:
    """Each coordinator digest sent so far: its week and how many new requests it counted."""
    deliver_all(world)
    return [
        p["text"].split(": ")[0].removeprefix("Weekly digest for the week of ")
        + ": "
        + p["text"].split(": ")[1].split(",")[0]
        for p in digest_posts(world.fake)
    ]


@pytest.mark.parametrize(
    ("made", "first_due", "second_due"),
    [
        # 08:30 BST on Monday 19 October 2026, just after that week's 08:00 digest; the
        # clocks go back on the 25th, so the next digest is at 08:00 GMT.
        (utc(2026, 10, 19, 7, 30), utc(2026, 10, 19, 7, 0), utc(2026, 10, 26, 8, 0)),
        # 07:30 GMT on Monday 22 March 2027, just before that week's 08:00 digest; the
        # clocks go forward on the 28th, so the next digest is at 08:00 BST.
        (utc(2027, 3, 22, 7, 30), utc(2027, 3, 22, 8, 0), utc(2027, 3, 29, 7, 0)),
    ],
    ids=["october-2026", "march-2027"],
)
def test_a_request_is_new_in_exactly_one_digest_across_the_clock_change(
    engine: Engine, clock: FixedClock, made: Any, first_due: Any, second_due: Any
) -> None:
    clock.set(made - timedelta(days=3))
    with make_world(engine, clock) as world:
        for when in sorted([made, first_due, second_due]):
            if when == made:
                world.clock.set(made)
                world.request(confirm=True)
            else:
                assert world.at(when)["digests_sent"] == 1
        counted = new_requests_in_digests(world)
    assert len(counted) == 2
    assert sorted(c.split(": ")[1] for c in counted) == ["0 new requests", "1 new request"]


def test_a_digest_sent_early_by_hand_leaves_no_gap_before_the_next(
    engine: Engine, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 25, 12, 0))
    with make_world(engine, clock) as world:
        world.clock.set(utc(2026, 11, 30, 5, 0))
        world.request(confirm=True)
        # `python -m bot digest` at 06:00, two hours before the week's 08:00 digest time.
        world.clock.set(utc(2026, 11, 30, 6, 0))
        assert send_weekly_digest(
            world.runtime.sessions, ctx_at(world), week_start=date(2026, 11, 30)
        ).sent
        world.clock.set(utc(2026, 11, 30, 7, 0))
        world.request(head="UHEAD2", confirm=True, school="Castle Vale Academy")
        assert world.at(utc(2026, 11, 30, 8, 0))["digests_sent"] == 0
        assert world.at(utc(2026, 12, 7, 8, 0))["digests_sent"] == 1
        counted = new_requests_in_digests(world)
    assert counted == ["30 November 2026: 1 new request", "7 December 2026: 1 new request"]


def test_the_digest_cron_job_fires_at_local_time_across_the_clock_changes(
    engine: Engine, clock: FixedClock
) -> None:
    with make_world(engine, clock) as world:
        trigger = digest_trigger(world.runtime.settings)
        after_autumn_change = trigger.get_next_fire_time(None, utc(2026, 10, 24, 12, 0))
        after_spring_change = trigger.get_next_fire_time(None, utc(2027, 3, 27, 12, 0))
        assert after_autumn_change.astimezone(UTC) == utc(2026, 10, 26, 8, 0)  # 08:00 GMT
        assert after_spring_change.astimezone(UTC) == utc(2027, 3, 29, 7, 0)  # 08:00 BST
        scheduler = start_scheduler(world.runtime)
        try:
            job = scheduler.get_job("weekly-digest")
            assert job.func is send_due_digest
            assert job.coalesce and job.max_instances == 1
            assert job.misfire_grace_time >= 6 * 24 * 3600
            assert scheduler.get_job("due-work") is not None
        finally:
            scheduler.shutdown(wait=True)


# --- contents ----------------------------------------------------------------------------------
@pytest.fixture
def history(engine: Engine, clock: FixedClock) -> Iterator[World]:
    """Four weeks of a hub's life, ending as the digest for the week of 30 November is due.

    E: Castle Vale (UHEAD2), SEND, Priya since 2 Nov; its 9 Nov check-in missed on 23 Nov.
    C: Oak Academy (UHEAD3), leadership, Nadia since 10 Nov; completed on 27 Nov.
    A: Mere Green (UHEAD1), SEND, Sam since 17 Nov; needs attention on 26 Nov.
    B: Castle Vale (UHEAD2), maths, offered on 24 Nov and still waiting.
    D: Elm Tree (UHEAD4), governance, on 25 Nov: nobody to offer it to, escalated.
    F: Oak Academy (UHEAD3), SEND, Nadia from 26 Nov.
    """
    clock.set(utc(2026, 11, 2, 9, 0))
    with make_world(engine, clock) as world:
        clock.set(utc(2026, 11, 2, 10, 0))
        world.deploy(head="UHEAD2", school="Castle Vale Academy", supporter="USPEC1")
        world.at(utc(2026, 11, 9, 9, 30))  # E's first check-in
        clock.set(utc(2026, 11, 10, 10, 0))
        world.deploy(
            head="UHEAD3",
            head_name="Olive Head",
            school="Oak Academy",
            tags=("leadership",),
            supporter="UNLE1",
        )
        world.at(utc(2026, 11, 17, 9, 30))  # C's first check-in
        clock.set(utc(2026, 11, 17, 10, 0))
        world.deploy(head="UHEAD1", supporter="USLE1")
        world.at(utc(2026, 11, 23, 9, 30))  # E's first missed, its second sent
        world.at(utc(2026, 11, 24, 9, 30))  # A's first check-in
        clock.set(utc(2026, 11, 24, 10, 0))
        world.request(head="UHEAD2", school="Castle Vale Academy", tags=("maths",), confirm=True)
        clock.set(utc(2026, 11, 25, 10, 0))
        world.request(
            head="UHEAD4",
            head_name="Dev Head",
            school="Elm Tree Primary School",
            tags=("governance",),
            confirm=True,
        )
        clock.set(utc(2026, 11, 26, 10, 0))
        a_checkin = _open_checkin(world, "Mere Green Primary School")
        with transaction(world.runtime.sessions) as session:
            answer_checkin(
                session,
                world.runtime.context(),
                actor="UHEAD1",
                checkin_id=a_checkin,
                outcome=NEEDS_ATTENTION,
                note="Visits keep being cancelled",
            )
        world.deploy(head="UHEAD3", school="Oak Academy", supporter="UNLE1")
        clock.set(utc(2026, 11, 27, 14, 0))
        c_checkin = _open_checkin(world, "Oak Academy", tag="Headship and whole-school leadership")
        with transaction(world.runtime.sessions) as session:
            answer_checkin(
                session,
                world.runtime.context(),
                actor="UNLE1",
                checkin_id=c_checkin,
                outcome=COMPLETED,
                note="Leadership team now runs its own reviews & data <drops>.\nGovernors too.",
            )
        deliver_all(world)
        clock.set(utc(2026, 11, 30, 8, 0))
        yield world


def _open_checkin(world: World, school: str, tag: str | None = None) -> int:
    """The id of the sent check-in of the active deployment at `school` (with `tag`)."""
    with world.runtime.sessions() as session:
        rows = session.exec(
            select(CheckIn.id, SupportRequest.id)
            .join(Deployment, Deployment.id == CheckIn.deployment_id)
            .join(SupportRequest, SupportRequest.id == Deployment.request_id)
            .join(School, School.id == SupportRequest.school_id)
            .where(CheckIn.status == "sent", School.name == school, Deployment.status == "active")
        ).all()
        for checkin_id, request_id in rows:
            labels = set(
                session.exec(
                    select(ExpertiseTag.label)
                    .join(RequestTag, RequestTag.tag_slug == ExpertiseTag.slug)
                    .where(RequestTag.request_id == request_id)
                )
            )
            if tag is None or tag in labels:
                return checkin_id or 0
    raise AssertionError(f"no open check-in at {school}")


def test_digest_contents_on_a_seeded_history(history: World) -> None:
    world = history
    ctx = ctx_at(world)
    week = digest_week(ctx, date(2026, 11, 30))
    assert (week.start, week.end) == (utc(2026, 11, 23, 8, 0), utc(2026, 11, 30, 8, 0))
    with world.runtime.sessions() as session:
        digest = build_digest(session, ctx, week).coordinators

    def where(items: list[Any]) -> list[tuple[str | None, tuple[str, ...]]]:
        return [(i.school, i.needs) for i in items]

    send = ("Special educational needs and disabilities (SEND)",)
    assert where(digest.new_requests) == [
        ("Castle Vale Academy", ("Maths",)),
        ("Elm Tree Primary School", ("Governance",)),
        ("Oak Academy", send),
    ]
    assert [(i.school, i.escalated) for i in digest.awaiting] == [
        ("Castle Vale Academy", False),
        ("Elm Tree Primary School", True),
    ]
    assert digest.awaiting[0].waiting_since == utc(2026, 11, 24, 10, 0)
    assert digest.awaiting[0].offers_open >= 1
    assert [(i.school, i.supporter_name) for i in digest.accepted] == [
        ("Oak Academy", "Nadia Leader")
    ]
    assert [(i.supporter_name, i.school) for i in digest.active] == [
        ("Nadia Leader", "Oak Academy"),
        ("Priya Senco", "Castle Vale Academy"),
        ("Sam Specialist", "Mere Green Primary School"),
    ]
    assert [(a.kind, a.school, a.by) for a in digest.attention] == [
        ("needs_attention", "Mere Green Primary School", "Hannah Head (head)"),
        ("missed", "Castle Vale Academy", None),
    ]
    assert [(c.school, c.supporter_name) for c in digest.completed] == [
        ("Oak Academy", "Nadia Leader")
    ]
    assert [(c.name, c.active, c.capacity) for c in digest.capacity] == [
        ("Priya Senco", 1, 1),
        ("Sam Specialist", 1, 1),
        ("Nadia Leader", 1, 2),
    ]
    assert [(d.label, d.waiting) for d in digest.unmet_demand] == [("Governance", 1)]

    text = preview_digest(
        world.runtime.sessions, ctx, week_start=week.week_start, as_text=view_as_text
    )
    for expected in (
        "Weekly digest — week of 30 November 2026",
        "New requests: 3",
        "Awaiting acceptance: 2 (longest 5 days)",
        "Needs attention: 1",
        "Missed check-ins: 1",
        "Completed: 1",
        "Elm Tree Primary School (Governance) — nobody available; needs assigning by hand",
        "Mere Green Primary School — needs attention, flagged by Hannah Head (head)",
        "Castle Vale Academy — check-in missed Mon 23 Nov (supporter Priya Senco)",
        "Impact: “Leadership team now runs its own reviews & data <drops>. Governors too.”",
        "Sam Specialist — 1 of 1 (full)",
        "Nadia Leader — 1 of 2 (one place left)",
        "Governance — 1 request waiting",
        f"Personal digests ({len(PERSONAL | _offered(world))}):",
        "--- to Dev Head (UHEAD4) ---",
        "Request #",
    ):
        assert expected in text, expected
    assert "Visits keep being cancelled" not in text, "needs-attention notes stay in the alert"
    assert "Our SENCO has left" not in text, "no request descriptions in a digest"


def test_sent_digest_escapes_user_text_and_personal_digests_go_to_each_person(
    history: World,
) -> None:
    world = history
    world.fake.clear()
    outcome = send_weekly_digest(
        world.runtime.sessions, ctx_at(world), week_start=date(2026, 11, 30)
    )
    assert outcome.sent and outcome.coordinator_messages == 1
    deliver_all(world)
    [post] = digest_posts(world.fake)
    shown = texts(post["blocks"])
    assert "data &lt;drops&gt;" in shown and "<drops>" not in shown
    assert "reviews &amp; data" in shown
    personal = {
        c.args["channel"]: c.args
        for c in world.fake.calls_to("chat.postMessage")
        if c.args["text"].startswith("Your week")
    }
    assert set(personal) == PERSONAL | _offered(world)
    assert "supporting *Mere Green Primary School*" in texts(personal["USLE1"]["blocks"])
    assert "Sam Specialist is supporting your school" in texts(personal["UHEAD1"]["blocks"])
    assert "coordinators are finding someone" in texts(personal["UHEAD4"]["blocks"])
    # Nobody hears about anyone else's support.
    assert "Castle Vale" not in texts(personal["UHEAD1"]["blocks"])
    assert "Mere Green" not in texts(personal["UHEAD2"]["blocks"])


# Everyone in `history` with something active; anyone with an open offer gets one too.
PERSONAL = {"UHEAD1", "UHEAD2", "UHEAD3", "UHEAD4", "USLE1", "USPEC1", "UNLE1"}


def _offered(world: World) -> set[str]:
    with world.runtime.sessions() as session:
        return set(
            session.exec(
                select(Person.slack_user_id)
                .join(Offer, Offer.supporter_id == Person.id)
                .where(Offer.status == "open")
            )
        )


def test_a_weeks_digest_is_sent_at_most_once(history: World) -> None:
    world = history
    first = send_weekly_digest(world.runtime.sessions, ctx_at(world), week_start=date(2026, 12, 2))
    world.clock.advance(hours=3)
    again = send_weekly_digest(world.runtime.sessions, ctx_at(world), week_start=date(2026, 12, 4))
    assert first.sent and first.week_start == date(2026, 11, 30)
    assert not again.sent and again.sent_at == utc(2026, 11, 30, 8, 0)
    assert world.at(utc(2026, 12, 1, 9, 0))["digests_sent"] == 0
    deliver_all(world)
    this_week = [p for p in digest_posts(world.fake) if "week of 30 November" in p["text"]]
    assert len(this_week) == 1
    with world.runtime.sessions() as session:
        assert session.get(DigestRun, date(2026, 11, 30)) is not None


def test_due_digest_waits_for_its_time_and_catches_up_after_downtime(
    engine: Engine, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 20, 12, 0))
    with make_world(engine, clock) as world:
        assert world.at(utc(2026, 11, 23, 7, 59))["digests_sent"] == 0
        assert world.at(utc(2026, 11, 23, 8, 0))["digests_sent"] == 1
        assert world.at(utc(2026, 11, 23, 8, 1))["digests_sent"] == 0
        # Down from Sunday to Wednesday: the Monday digest goes out once, when back.
        assert world.at(utc(2026, 12, 2, 15, 0))["digests_sent"] == 1
        assert world.at(utc(2026, 12, 2, 15, 1))["digests_sent"] == 0
        assert [p["text"].split(":")[0] for p in digest_posts(world.fake)] == [
            "Weekly digest for the week of 23 November 2026",
            "Weekly digest for the week of 30 November 2026",
        ]


def test_a_digest_missed_over_the_weekend_is_caught_up_after_monday(
    engine: Engine, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 16, 12, 0))
    with make_world(engine, clock, DIGEST_CRON="fri 17:00") as world:
        assert world.at(utc(2026, 11, 20, 17, 0))["digests_sent"] == 1
        # Down from Friday afternoon (before 17:00) to Monday: that Friday's digest is owed.
        assert world.at(utc(2026, 11, 30, 9, 0))["digests_sent"] == 1
        assert world.at(utc(2026, 11, 30, 9, 1))["digests_sent"] == 0
        assert world.at(utc(2026, 12, 4, 17, 0))["digests_sent"] == 1
        assert [p["text"].split(":")[0] for p in digest_posts(world.fake)] == [
            "Weekly digest for the week of 16 November 2026",
            "Weekly digest for the week of 23 November 2026",
            "Weekly digest for the week of 30 November 2026",
        ]


def test_a_new_installation_waits_for_the_next_digest_time(world_at_monday_noon: World) -> None:
    world = world_at_monday_noon
    assert world.at(utc(2026, 11, 23, 13, 0))["digests_sent"] == 0
    assert world.at(utc(2026, 11, 30, 8, 0))["digests_sent"] == 1


@pytest.fixture
def world_at_monday_noon(engine: Engine, clock: FixedClock) -> Iterator[World]:
    clock.set(utc(2026, 11, 23, 12, 0))
    with make_world(engine, clock) as world:
        yield world


def test_without_a_coordinator_channel_each_coordinator_gets_the_digest(
    engine: Engine, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 20, 12, 0))
    with make_world(engine, clock, COORDINATOR_CHANNEL_ID="") as world:
        world.at(utc(2026, 11, 23, 8, 0))
        [dm] = [m for m in world.fake.messages("UCOORD") if "Weekly digest" in m["text"]]
        assert "A quiet week" in texts(dm["blocks"])


# --- volume ------------------------------------------------------------------------------------
def seed_busy_hub(world: World, *, deployments: int = 500, waiting: int = 300) -> None:
    """A very busy hub: `deployments` active ones (half needing attention or missed this
    week, a third completed), `waiting` requests offered and unanswered, long names."""
    now = world.clock.now()
    week_ago = now - timedelta(days=6)
    long_ago = now - timedelta(days=30)
    long = "Saint Bartholomew-the-Great Church of England Voluntary Aided Primary School"
    with transaction(world.runtime.sessions) as session:
        supporters = []
        for n in range(100):
            person = Person(
                slack_user_id=f"UBUSY{n:03d}",
                name=f"Supporter {n:03d} with a fairly long name",
                capacity=6,
                created_at=week_ago,
                updated_at=week_ago,
            )
            session.add(person)
            session.flush()
            session.add(PersonRole(person_id=person.id or 0, role="sle"))
            session.add(PersonExpertise(person_id=person.id or 0, tag_slug="maths"))
            supporters.append(person)
        for n in range(deployments + waiting + deployments // 3):
            school = School(name=f"{long} {n:04d}", phase="primary", region="London")
            session.add(school)
            session.flush()
            head = Person(
                slack_user_id=f"UHEADB{n:04d}",
                name=f"Head {n:04d}",
                school_id=school.id,
                created_at=week_ago,
                updated_at=week_ago,
            )
            session.add(head)
            session.flush()
            kind = (
                "active"
                if n < deployments
                else "waiting"
                if n < deployments + waiting
                else "completed"
            )
            created = now - timedelta(days=2) if kind == "waiting" else long_ago
            request = SupportRequest(
                requester_id=head.id or 0,
                school_id=school.id,
                title="t",
                description="d",
                status={"active": "accepted", "waiting": "offered", "completed": "closed"}[kind],
                created_at=created,
                updated_at=created,
                offered_at=created,
            )
            session.add(request)
            session.flush()
            for slug in ("send", "maths", "phonics", "behaviour", "governance"):
                session.add(RequestTag(request_id=request.id or 0, tag_slug=slug))
            supporter = supporters[n % len(supporters)]
            if kind == "waiting":
                session.add(
                    Offer(
                        request_id=request.id or 0,
                        supporter_id=supporter.id or 0,
                        created_at=created,
                    )
                )
                continue
            deployment = Deployment(
                request_id=request.id or 0,
                supporter_id=supporter.id or 0,
                status="active" if kind == "active" else "completed",
                started_at=long_ago,
                ended_at=now - timedelta(days=1) if kind == "completed" else None,
                impact_note="Much better outcomes & calmer corridors. " * 40
                if kind == "completed"
                else None,
            )
            session.add(deployment)
            session.flush()
            missed = kind == "active" and n % 4 == 1
            checkin = CheckIn(
                deployment_id=deployment.id or 0,
                sequence=1,
                due_at=week_ago,
                status="missed" if missed else "answered",
                sent_at=week_ago,
                missed_at=now - timedelta(days=1) if missed else None,
            )
            session.add(checkin)
            session.flush()
            if kind == "active" and n % 4 == 0:
                session.add(
                    CheckInAnswer(
                        checkin_id=checkin.id or 0,
                        person_id=head.id or 0,
                        outcome=NEEDS_ATTENTION,
                        note="A long note. " * 50,
                        answered_at=now - timedelta(days=2),
                    )
                )


def test_the_digest_stays_within_slack_limits_with_500_active_deployments(
    engine: Engine, clock: FixedClock
) -> None:
    clock.set(utc(2026, 11, 23, 8, 0))
    with make_world(engine, clock) as world:
        seed_busy_hub(world)
        outcome = send_weekly_digest(
            world.runtime.sessions, ctx_at(world), week_start=date(2026, 11, 23)
        )
        assert outcome.sent
        deliver_all(world)
        posts = world.fake.calls_to("chat.postMessage")
        refused = [(c.args["channel"], c.error) for c in posts if not c.ok]
        assert refused == [], "the fake Slack refuses what Slack would"
        [digest] = [c for c in posts if c.args["channel"] == COORDINATOR_CHANNEL]
        blocks = digest.args["blocks"]
        assert len(blocks) <= MESSAGE_BLOCK_LIMIT
        assert all(len(b.get("text", {}).get("text", "")) <= SECTION_TEXT_LIMIT for b in blocks)
        shown = texts(blocks)
        assert "*Active deployments*\n500" in shown
        assert "*New requests*\n300" in shown
        assert "*Awaiting acceptance*\n300" in shown
        assert "*Needs attention*\n125" in shown and "*Missed check-ins*\n125" in shown
        assert "*Completed*\n166" in shown
        for title in (
            "New requests",
            "Active deployments by supporter",
            "Awaiting acceptance",
            "Check-ins needing attention or missed",
            "Completed",
        ):
            section = next(t for t in shown.split("\n*:") if title in t.split("\n")[0])
            assert "more_" in section, f"{title} is summarised"
        # Personal digests: 500 heads with support, 300 waiting, 100 supporters.
        personal = [c for c in posts if c.args["text"].startswith("Your week")]
        assert len(personal) == 900
        with world.runtime.sessions() as session:
            owed = session.exec(select(OutboxMessage).where(OutboxMessage.status != "sent"))
            assert list(owed) == []


# --- the command -------------------------------------------------------------------------------
def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "WARNING",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_digest_command_dry_run_prints_and_records_nothing_then_sends_once(
    engine: Engine, clock: FixedClock, db_url: str, tmp_path: Path
) -> None:
    # The command runs on the real clock, so the week is one safely in the past; its Monday,
    # 5 October, is written as people write it, without a leading zero.
    clock.set(utc(2026, 9, 28, 9, 0))
    with make_world(engine, clock) as world:
        clock.set(utc(2026, 9, 29, 10, 0))
        world.deploy(head="UHEAD1", supporter="USLE1")
        clock.set(utc(2026, 9, 30, 10, 0))
        world.request(
            head="UHEAD4", school="Elm Tree Primary School", tags=("governance",), confirm=True
        )
        deliver_all(world)
        world.fake.clear()
        env = {
            "DATABASE_URL": db_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": world.fake.url,
            "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
        }
        dry = cli("digest", "--week", "2026-10-07", "--dry-run", env=env, cwd=tmp_path)
        assert dry.returncode == 0, dry.stderr
        assert "Weekly digest — week of 5 October 2026" in dry.stdout
        assert "New requests: 2" in dry.stdout
        assert "Elm Tree Primary School (Governance) — nobody available" in dry.stdout
        assert "--- to Hannah Head (UHEAD1) ---" in dry.stdout
        assert "<@" not in dry.stdout and "&amp;" not in dry.stdout
        assert world.fake.calls_to("chat.postMessage") == []
        with world.runtime.sessions() as session:
            assert session.get(DigestRun, date(2026, 10, 5)) is None
            digest_rows = select(OutboxMessage).where(OutboxMessage.ref.like("digest:%"))
            assert session.exec(digest_rows).all() == []

        sent = cli("digest", "--week", "2026-10-05", env=env, cwd=tmp_path)
        assert sent.returncode == 0, sent.stderr
        assert "Sent the digest for the week of 5 October 2026" in sent.stdout
        assert len(digest_posts(world.fake)) == 1
        again = cli("digest", "--week", "2026-10-11", env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "The digest for the week of 5 October 2026 was already sent on " in again.stdout
        assert re.search(rf"already sent on {LOCAL_DAY}, \d\d:\d\d; ", again.stdout)
        assert "nothing was sent" in again.stdout
        assert len(digest_posts(world.fake)) == 1
        preview = cli("digest", "--week", "2026-10-05", "--dry-run", env=env, cwd=tmp_path)
        assert preview.returncode == 0, preview.stderr
        assert re.search(rf"already sent: {LOCAL_DAY}, \d\d:\d\d\.\)", preview.stdout)

        future = cli("digest", "--week", "2099-01-07", env=env, cwd=tmp_path)
        assert future.returncode != 0
        assert future.stderr.count("\n") == 1
        assert "the week of 5 January 2099 hasn't started yet" in future.stderr


# The day something happened, as people write it: "Monday 5 October 2026".
LOCAL_DAY = r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day [1-9]\d? [A-Z][a-z]+ \d{4}"


# --- several processes -------------------------------------------------------------------------
@pytest.mark.slow
def test_two_run_due_processes_send_each_checkin_and_the_digest_exactly_once(
    engine: Engine, clock: FixedClock, db_url: str, tmp_path: Path
) -> None:
    clock.set(utc(2026, 11, 16, 9, 0))
    with make_world(engine, clock) as world:
        clock.set(utc(2026, 11, 16, 10, 0))
        heads = ("UHEAD1", "UHEAD2")
        supporters = ("UNLE1", "USLE1", "USLE2", "USPEC1")
        for n in range(24):
            world.deploy(head=heads[n % 2], supporter=supporters[n % 4])
        deliver_all(world)
        world.fake.clear()
        env = {
            "DATABASE_URL": db_url,
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_API_URL": world.fake.url,
            "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
            "LOG_LEVEL": "WARNING",
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(ROOT),
        }
        # Both processes run as of the same instant, started together.
        command = [sys.executable, "-m", "bot", "jobs", "run-due", "--now", "2026-11-23T09:31Z"]
        processes = [
            subprocess.Popen(
                command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(2)
        ]
        outputs = [p.communicate(timeout=180) for p in processes]
        for process, (_out, err) in zip(processes, outputs, strict=True):
            assert process.returncode == 0, err.decode()

        with world.runtime.sessions() as session:
            checkins = session.exec(select(CheckIn).where(CheckIn.sequence == 1)).all()
            refs = {
                row.id: row.ref
                for row in session.exec(
                    select(OutboxMessage).where(OutboxMessage.method == "chat.postMessage")
                )
            }
            runs = session.exec(select(DigestRun)).all()
        posted = Counter(
            refs.get(call.args["metadata"]["event_payload"]["outbox_id"])
            for call in world.fake.calls_to("chat.postMessage")
            if call.ok
        )
        for checkin in checkins:
            to_people = [r for r in posted if r and r.startswith(f"checkin:{checkin.id}:")]
            assert len(to_people) == 2, checkin.id
            assert all(posted[r] == 1 for r in to_people), posted
        assert posted["digest:2026-11-23"] == 1
        assert [r.week_start for r in runs] == [date(2026, 11, 23)]
        personal = [r for r in posted if r and r.startswith("digest:2026-11-23:")]
        assert len(personal) == len(heads) + len(supporters)
        assert all(posted[r] == 1 for r in personal)
        # Each new deployment's two "next steps" DMs (bot.deployments) go out once too.
        next_steps = [r for r in posted if r and ":next_steps:" in r]
        assert len(next_steps) == 24 * 2 and all(posted[r] == 1 for r in next_steps)
        assert sum(posted.values()) == 24 * 2 + 1 + len(personal) + len(next_steps)
        assert len(checkins) == 24 and {c.status for c in checkins} == {"sent"}
