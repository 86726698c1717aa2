"""The App Home: each role sees what it should, nobody sees another school's request, the
away switch, and the page stays within Slack's limits however much is stored."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.core.clock import FixedClock
from bot.core.errors import NotAllowed, NotFound
from bot.core.vocabulary import default_vocabulary
from bot.directory.people import person_by_user_id
from bot.directory.service import import_directory
from bot.home.service import (
    ATTENTION_SHOWN,
    NEW,
    OWN_REQUESTS_SHOWN,
    UNASSIGNED,
    WAITING,
    HomeData,
    home_for,
    set_availability,
)
from handlers.slack.blocks.home import PRIVACY, home_view
from handlers.slack.stand_in.fake_slack import view_problems
from storage.db import SessionFactory, transaction
from storage.models import (
    AuditEntry,
    Deployment,
    Offer,
    Person,
    RequestTag,
    School,
    SupportRequest,
)
from tests.handlers.slack.conftest import DIRECTORY
from tests.support.blockkit import button_value, texts

LONDON = ZoneInfo("Europe/London")
VOCABULARY = default_vocabulary()


@dataclass
class World:
    """The directory plus four requests: Hannah's open, offered and accepted; Harry's expired."""

    sessions: SessionFactory
    clock: FixedClock
    open_id: int
    offered_id: int
    accepted_id: int
    expired_id: int
    sam_offer: int
    nadia_offer: int
    deployment_id: int

    def home(self, user: str, **kwargs: bool) -> HomeData:
        with self.sessions() as session:
            return home_for(session, user, now=self.clock.now(), vocabulary=VOCABULARY, **kwargs)


def person(session: Session, slack_id: str) -> Person:
    found = person_by_user_id(session, slack_id)
    assert found is not None and found.id is not None
    return found


def add_request(
    session: Session,
    head: str,
    *,
    title: str,
    status: str,
    created_at: datetime,
    tags: tuple[str, ...] = ("send",),
    **fields: object,
) -> SupportRequest:
    """A request by `head` for their school, stored directly."""
    requester = person(session, head)
    request = SupportRequest(
        requester_id=requester.id or 0,
        school_id=requester.school_id,
        title=title,
        description=f"{title}: the details only the people involved may read.",
        status=status,
        created_at=created_at,
        updated_at=created_at,
        **fields,
    )
    session.add(request)
    session.flush()
    for slug in tags:
        session.add(RequestTag(request_id=request.id or 0, tag_slug=slug))
    return request


def add_offer(
    session: Session, request: SupportRequest, supporter: str, *, at: datetime, **fields: object
) -> Offer:
    offer = Offer(
        request_id=request.id or 0,
        supporter_id=person(session, supporter).id or 0,
        reasons="SEND expertise; West Midlands",
        created_at=at,
        expires_at=at + timedelta(days=2),
        **fields,
    )
    session.add(offer)
    session.flush()
    return offer


@pytest.fixture
def world(sessions: SessionFactory, clock: FixedClock) -> World:
    report = import_directory(sessions, io.StringIO(DIRECTORY), now=clock.now())
    assert report.ok, report.render()
    now = clock.now()
    with transaction(sessions) as session:
        nadia = person(session, "UNLE1")
        opened = add_request(
            session, "UHEAD1", title="Help with <b>phonics</b> & reading", status="open",
            created_at=now - timedelta(days=5), tags=("phonics",),
        )  # fmt: skip
        offered = add_request(
            session, "UHEAD1", title="SENCO has left", status="offered",
            created_at=now - timedelta(days=3), offered_at=now - timedelta(days=2), offer_round=1,
        )  # fmt: skip
        sam_offer = add_offer(session, offered, "USLE1", at=now - timedelta(days=2))
        nadia_offer = add_offer(session, offered, "UNLE1", at=now - timedelta(days=2))
        add_offer(session, offered, "USPEC1", at=now - timedelta(days=2), status="declined")
        accepted = add_request(
            session, "UHEAD1", title="Maths leadership", status="accepted",
            created_at=now - timedelta(days=1), tags=("maths",), assigned_id=nadia.id,
            offered_at=now - timedelta(days=1), accepted_at=now - timedelta(hours=20),
        )  # fmt: skip
        deployment = Deployment(
            request_id=accepted.id or 0,
            supporter_id=nadia.id or 0,
            started_at=now - timedelta(hours=20),
        )
        session.add(deployment)
        expired = add_request(
            session, "UHEAD2", title="Castle Vale confidential matter", status="expired",
            created_at=now - timedelta(days=6), offered_at=now - timedelta(days=6),
            escalated_at=now - timedelta(days=4), offer_round=2,
        )  # fmt: skip
        session.flush()
        ids = (opened.id, offered.id, accepted.id, expired.id)
        offer_ids = (sam_offer.id, nadia_offer.id, deployment.id)
    return World(sessions, clock, *ids, *offer_ids)  # type: ignore[arg-type]


def shown(data: HomeData) -> str:
    view = home_view(data, LONDON, support_channel="C0SUPPORT")
    assert view_problems(view) == []
    return texts(view["blocks"])


# --- each role --------------------------------------------------------------------------------
def test_a_head_sees_their_own_requests_newest_first_with_status(world: World) -> None:
    data = world.home("UHEAD1")
    assert data.requests is not None
    assert [r.id for r in data.requests] == [world.accepted_id, world.offered_id, world.open_id]
    assert [r.status for r in data.requests] == ["accepted", "offered", "open"]
    assert data.requests[0].assigned_to == "<@UNLE1|Nadia Leader>"
    assert data.requests[1].open_offers == 2
    assert data.supporter is None and data.coordinator is None
    text = shown(data)
    assert "<@UNLE1> is supporting you" in text
    assert "*Offered* 2 days ago" in text
    assert "press *Find support*" in text
    assert "Help with &lt;b&gt;phonics&lt;/b&gt; &amp; reading" in text, "user text escaped"
    assert "<b>" not in text


def test_a_head_never_sees_another_schools_request(world: World) -> None:
    hannah = world.home("UHEAD1")
    harry = world.home("UHEAD2")
    assert world.expired_id not in {r.id for r in hannah.requests or ()}
    assert "Castle Vale confidential" not in shown(hannah)
    assert [r.id for r in harry.requests or ()] == [world.expired_id]
    text = shown(harry)
    assert "SENCO has left" not in text and "phonics" not in text and "Maths" not in text
    assert "coordinators are finding someone" in text
    assert "request_assign" not in str(home_view(harry, LONDON))


def test_a_supporter_sees_their_offers_with_the_offer_buttons_and_no_requests(
    world: World,
) -> None:
    data = world.home("USLE1")
    assert data.requests is None and data.coordinator is None
    assert data.supporter is not None
    assert [o.offer_id for o in data.supporter.offers] == [world.sam_offer]
    view = home_view(data, LONDON)
    assert button_value(view["blocks"], "offer_accept") == str(world.sam_offer)
    assert button_value(view["blocks"], "offer_decline") == str(world.sam_offer)
    text = texts(view["blocks"])
    assert "SENCO has left" in text
    assert "Mere Green" not in text, "the school is hidden before acceptance by default"
    assert "school shared when you accept" in text
    # Requests they were not offered are not theirs to see.
    assert "phonics" not in text and "Maths leadership" not in text and "Castle Vale" not in text
    # The reply-by time is London time (GMT in November): offered Saturday 09:00, two days.
    assert "Please reply by Monday 23 November, 09:00" in text
    assert "0 of 1 in use" in text
    assert button_value(view["blocks"], "home_availability") == "away"


def test_the_school_shows_on_offers_when_the_deployment_says_so(world: World) -> None:
    data = world.home("USLE1", show_school_before_accept=True)
    assert "Mere Green Primary School" in shown(data)


def test_a_supporter_sees_deployments_and_capacity_used(world: World) -> None:
    data = world.home("UNLE1")
    assert data.supporter is not None
    assert [d.deployment_id for d in data.supporter.deployments] == [world.deployment_id]
    deployment = data.supporter.deployments[0]
    assert deployment.school == "Mere Green Primary School"
    assert deployment.head == "<@UHEAD1|Hannah Head>"
    text = shown(data)
    assert "1 of 2 in use" in text
    assert "*Mere Green Primary School* — head <@UHEAD1>" in text
    assert "since 22 November 2026" in text
    assert [o.offer_id for o in data.supporter.offers] == [world.nadia_offer]


def test_a_declined_or_closed_offer_is_not_shown(world: World) -> None:
    data = world.home("USPEC1")
    assert data.supporter is not None and data.supporter.offers == ()
    assert "No offers are waiting" in shown(data)


def test_a_coordinator_sees_counts_and_what_needs_attention_most_pressing_first(
    world: World,
) -> None:
    data = world.home("UCOORD")
    assert data.coordinator is not None
    assert data.supporter is None
    counts = data.coordinator.counts
    assert (counts["open"], counts["offered"], counts["accepted"], counts["expired"]) == (
        1,
        1,
        1,
        1,
    )
    assert counts["closed"] == 0 and counts["cancelled"] == 0
    attention = [(a.kind, a.request.id) for a in data.coordinator.attention]
    assert attention == [
        (UNASSIGNED, world.expired_id),
        (WAITING, world.offered_id),
        (NEW, world.open_id),
    ]
    assert data.coordinator.attention_total == 3
    view = home_view(data, LONDON)
    assert button_value(view["blocks"], "request_assign") == str(world.expired_id)
    text = texts(view["blocks"])
    assert "Castle Vale confidential matter" in text and "SENCO has left" in text
    assert "waiting 4 days" in text
    assert "Offered 2 days ago — 2 replies awaited" in text
    assert "Not offered yet after 5 days" in text
    assert "Maths leadership" not in text, "accepted requests need no attention"


def test_someone_not_in_the_directory_sees_the_welcome_and_the_ask_button(world: World) -> None:
    data = world.home("UNOBODY")
    assert data.name is None and data.requests is None
    assert data.supporter is None and data.coordinator is None
    view = home_view(data, LONDON, support_channel="C0SUPPORT")
    assert button_value(view["blocks"], "home_ask_support")
    text = texts(view["blocks"])
    assert (
        "/support" in text
        and "<#C0SUPPORT>" in text
        and "Request support from this message" in text
    )
    assert "SENCO" not in text and "Castle Vale" not in text


# --- the away switch ---------------------------------------------------------------------------
def test_a_supporter_can_mark_themselves_away_and_back_with_an_audit_entry(
    world: World, sessions: SessionFactory, clock: FixedClock
) -> None:
    with transaction(sessions) as session:
        change = set_availability(session, now=clock.now(), actor="USLE1", available=False)
    assert change.changed and not change.available
    data = world.home("USLE1")
    assert data.supporter is not None and not data.supporter.available
    view = home_view(data, LONDON)
    assert button_value(view["blocks"], "home_availability") == "available"
    assert "*Away*" in texts(view["blocks"])
    with transaction(sessions) as session:
        again = set_availability(session, now=clock.now(), actor="USLE1", available=False)
        assert not again.changed
        set_availability(session, now=clock.now(), actor="USLE1", available=True)
    with sessions() as session:
        assert person(session, "USLE1").available
        actions = [
            (a.action, a.actor)
            for a in session.exec(select(AuditEntry).order_by(AuditEntry.id))  # type: ignore[arg-type]
            if a.action.startswith(("person.away", "person.available"))
        ]
    assert actions == [("person.away", "USLE1"), ("person.available", "USLE1")]


def test_only_supporters_have_an_away_switch(world: World, sessions: SessionFactory) -> None:
    with transaction(sessions) as session, pytest.raises(NotAllowed):
        set_availability(session, now=world.clock.now(), actor="UHEAD1", available=False)
    with transaction(sessions) as session, pytest.raises(NotFound):
        set_availability(session, now=world.clock.now(), actor="UNOBODY", available=False)
    with sessions() as session:
        assert person(session, "UHEAD1").available
    assert "home_availability" not in str(home_view(world.home("UHEAD1"), LONDON))
    assert "home_availability" not in str(home_view(world.home("UCOORD"), LONDON))


# --- volume and limits -------------------------------------------------------------------------
def test_a_busy_coordinator_who_is_also_a_head_and_supporter_stays_within_limits(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    busy = DIRECTORY.replace(
        "UCOORD,Chris Coordinator,c.coord@example.org,coordinator,,,,West Midlands,,0",
        "UCOORD,Chris Coordinator,c.coord@example.org,coordinator;head;nle,"
        "Oak Hill Primary School,103500,primary,West Midlands,send,20",
    )
    assert busy != DIRECTORY
    assert import_directory(sessions, io.StringIO(busy), now=clock.now()).ok
    now = clock.now()
    hostile = "<!channel> & <@UHEAD2> " + "&" * 3000
    statuses = ["open", "offered", "expired", "accepted", "closed", "cancelled"]
    with transaction(sessions) as session:
        chris = person(session, "UCOORD")
        for i in range(300):
            status = statuses[i % len(statuses)]
            request = add_request(
                session, "UCOORD" if i % 2 else "UHEAD1", title=f"{hostile} {i}", status=status,
                created_at=now - timedelta(hours=i), tags=tuple(VOCABULARY.slugs),
                offered_at=now - timedelta(hours=i) if status != "open" else None,
            )  # fmt: skip
            if status == "offered":
                add_offer(session, request, "UCOORD", at=now - timedelta(hours=i))
            if status == "accepted":
                session.add(
                    Deployment(
                        request_id=request.id or 0, supporter_id=chris.id or 0, started_at=now
                    )
                )
        sam = person(session, "USLE1")
        for i in range(20):  # everyone else's: a coordinator may end these too
            request = add_request(
                session, "UHEAD2", title=f"{hostile} other {i}", status="accepted",
                created_at=now - timedelta(days=2), tags=("maths",),
            )  # fmt: skip
            session.add(
                Deployment(
                    request_id=request.id or 0,
                    supporter_id=sam.id or 0,
                    started_at=now - timedelta(days=1, hours=i),
                )
            )
    with sessions() as session:
        data = home_for(session, "UCOORD", now=now, vocabulary=VOCABULARY)
    # Their own deployments and, apart, the most recent of everyone else's: none twice.
    assert (data.deployments_total, len(data.deployments)) == (50, 8)
    assert (data.others_total, len(data.others)) == (20, 8)
    own = {line.deployment_id for line in data.deployments}
    assert not own & {line.deployment_id for line in data.others}
    assert {line.role for line in data.others} == {"coordinator"}
    assert data.requests_total == 150 and len(data.requests or ()) == OWN_REQUESTS_SHOWN
    assert data.supporter is not None and data.supporter.offers_total == 50
    assert data.supporter.active == 50
    assert data.coordinator is not None and data.coordinator.attention_total == 150
    assert len(data.coordinator.attention) == ATTENTION_SHOWN
    view = home_view(data, LONDON, support_channel="C0SUPPORT")
    assert view_problems(view) == []
    assert len(view["blocks"]) <= 100
    text = texts(view["blocks"])
    # Every section is there (the long lists cut, each saying how many more): nothing cut
    # off the end of the page.
    for heading in ("Your requests", "Your support work", "Coordinator overview"):
        assert heading in text
    for heading in ("Your deployments", "Recent deployments"):
        assert heading in text
    assert "There's more than fits here." not in text and PRIVACY in text
    assert button_value(view["blocks"], "deployment_end_find") == "home"
    assert "and 140 more older requests" in text
    assert "and 45 more — see my messages to you" in text
    assert re.search(r"and 1[4-5]\d more — see the digest", text)
    assert re.search(r"and 1[2-9] more — find any that is under way with \*End a support…\*", text)
    assert "<!channel>" not in text and "<@UHEAD2>" not in text
    assert "&lt;!channel&gt; &amp; &lt;@UHEAD2&gt;" in text


def test_home_view_cuts_anything_over_the_block_limit_with_a_note() -> None:
    from handlers.slack.blocks import section
    from handlers.slack.blocks.home import fit_view

    blocks = fit_view([section(str(i)) for i in range(150)], "and more")
    assert len(blocks) == 100 and texts(blocks[-1:]) == "and more"
    assert fit_view([section("x")]) == [section("x")]


def test_times_are_shown_in_london_time_in_summer(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    assert import_directory(sessions, io.StringIO(DIRECTORY), now=clock.now()).ok
    june = datetime(2026, 6, 8, 23, 30, tzinfo=UTC)  # 00:30 on 9 June in London (BST)
    with transaction(sessions) as session:
        request = add_request(
            session, "UHEAD1", title="Summer", status="offered", created_at=june, offered_at=june
        )
        add_offer(session, request, "USLE1", at=june)
        school = session.get(School, request.school_id)
        assert school is not None
    with sessions() as session:
        data = home_for(session, "USLE1", now=june, vocabulary=VOCABULARY)
        head = home_for(session, "UHEAD1", now=june, vocabulary=VOCABULARY)
    assert "Thursday 11 June, 00:30" in shown(data)
    assert "asked 9 June 2026" in shown(head)
