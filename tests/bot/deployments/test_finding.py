"""Finding any active support to end it: by school, URN (exact or its start), the lead
supporter's name or the request's number, case aside, each word counting; only active ones,
most recent first, limited with the total kept, each with how its check-ins stand (read in the
same query); coordinators only."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.clock import LONDON, FixedClock
from bot.core.errors import NotAllowed
from bot.deployments.finding import (
    ActiveSupport,
    SupportSearch,
    checkins_words,
    find_active_supports,
)
from bot.directory.service import import_directory
from storage.db import SessionFactory, transaction
from storage.models import (
    CheckIn,
    CheckInStatus,
    Deployment,
    DeploymentStatus,
    School,
    SupportRequest,
)
from tests.bot.home.test_home import person
from tests.conftest import MONDAY_MORNING
from tests.handlers.slack.conftest import DIRECTORY
from tests.support.sql_trace import statements_sent

COORDINATOR = "UCOORD"


def deploy(
    session: Session, head: str, supporter: str, *, hours_ago: int, status: str = "active"
) -> int:
    """A deployment of `supporter` at `head`'s school, stored directly; its id."""
    now = MONDAY_MORNING
    requester = person(session, head)
    request = SupportRequest(
        requester_id=requester.id or 0,
        school_id=requester.school_id,
        title="Support",
        created_at=now,
        updated_at=now,
        status="accepted" if status == "active" else "closed",
    )
    session.add(request)
    session.flush()
    deployment = Deployment(
        request_id=request.id or 0,
        supporter_id=person(session, supporter).id or 0,
        status=DeploymentStatus(status),
        started_at=now - timedelta(hours=hours_ago),
    )
    session.add(deployment)
    session.flush()
    return deployment.id or 0


@pytest.fixture
def supports(sessions: SessionFactory, clock: FixedClock) -> dict[str, int]:
    """Mere Green (URN 103413) supported by Sam, Castle Vale (140001) by Nadia (and earlier,
    completed, by Sally), a second Mere Green support by Priya, most recent first."""
    assert import_directory(sessions, io.StringIO(DIRECTORY), now=clock.now()).ok
    with transaction(sessions) as session:
        return {
            "mere green, priya": deploy(session, "UHEAD1", "USPEC1", hours_ago=1),
            "castle vale, nadia": deploy(session, "UHEAD2", "UNLE1", hours_ago=2),
            "mere green, sam": deploy(session, "UHEAD1", "USLE1", hours_ago=3),
            "castle vale, sally": deploy(
                session, "UHEAD2", "USLE2", hours_ago=4, status="completed"
            ),
        }


def find(sessions: SessionFactory, query: str, **kwargs: int) -> SupportSearch:
    with sessions() as session:
        return find_active_supports(session, actor=COORDINATOR, query=query, **kwargs)


def ids(search: SupportSearch) -> list[int]:
    return [match.deployment_id for match in search.matches]


def test_by_school_name_in_any_case_most_recent_first(
    sessions: SessionFactory, supports: dict[str, int]
) -> None:
    found = find(sessions, "mere GREEN")
    assert ids(found) == [supports["mere green, priya"], supports["mere green, sam"]]
    assert found.total == 2 and found.left_out == 0
    first = found.matches[0]
    assert (first.school, first.urn, first.supporter) == (
        "Mere Green Primary School",
        "103413",
        "Priya Senco",
    )


def test_by_urn_exact_or_its_start_and_by_request_number(
    sessions: SessionFactory, supports: dict[str, int]
) -> None:
    assert ids(find(sessions, "140001")) == [supports["castle vale, nadia"]]
    assert ids(find(sessions, "1034")) == [
        supports["mere green, priya"],
        supports["mere green, sam"],
    ]
    assert ids(find(sessions, "3413")) == [], "a URN matches from its start"
    with sessions() as session:
        request_id = session.get(Deployment, supports["mere green, sam"]).request_id  # type: ignore[union-attr]  # it exists
    assert ids(find(sessions, f"#{request_id}")) == [supports["mere green, sam"]]


def test_by_the_lead_supporters_name_each_word_counting(
    sessions: SessionFactory, supports: dict[str, int]
) -> None:
    assert ids(find(sessions, "nadia")) == [supports["castle vale, nadia"]]
    assert ids(find(sessions, "sam mere")) == [supports["mere green, sam"]]
    assert ids(find(sessions, "sam castle")) == []
    assert ids(find(sessions, "sally")) == [], "only active supports"


def test_wildcards_are_taken_literally(sessions: SessionFactory, supports: dict[str, int]) -> None:
    assert find(sessions, "%").total == 0
    assert find(sessions, "_").total == 0
    with transaction(sessions) as session:
        school = session.get(School, person(session, "UHEAD2").school_id)
        assert school is not None
        school.name = "St Mary's 100% Academy"
    assert ids(find(sessions, "100%")) == [supports["castle vale, nadia"]]


def test_a_blank_query_lists_the_most_recent_within_the_limit_with_the_total(
    sessions: SessionFactory, supports: dict[str, int]
) -> None:
    found = find(sessions, "  ", limit=2)
    assert ids(found) == [supports["mere green, priya"], supports["castle vale, nadia"]]
    assert (found.total, found.left_out) == (3, 1)


def test_an_erased_supporter_is_not_named_nor_found_by_name(
    sessions: SessionFactory, supports: dict[str, int]
) -> None:
    with transaction(sessions) as session:
        sam = person(session, "USLE1")
        sam.erased_at = MONDAY_MORNING
    assert find(sessions, "sam").total == 0
    [found] = [m for m in find(sessions, "mere").matches if m.supporter is None]
    assert found.deployment_id == supports["mere green, sam"]


def checkins(session: Session, deployment_id: int, *due: tuple[datetime, CheckInStatus]) -> None:
    """Check-ins of a support, stored directly, numbered in order."""
    for sequence, (due_at, status) in enumerate(due, start=1):
        session.add(
            CheckIn(deployment_id=deployment_id, sequence=sequence, due_at=due_at, status=status)
        )


def test_each_support_found_says_how_its_checkins_stand_in_one_query(
    sessions: SessionFactory, engine: Engine, supports: dict[str, int]
) -> None:
    with statements_sent(engine) as sent:
        find(sessions, "no such school")
    with transaction(sessions) as session:
        # Priya's next is due at 23:30 UTC on Monday 5 April: Tuesday in London (BST).
        checkins(
            session,
            supports["mere green, priya"],
            (MONDAY_MORNING, CheckInStatus.CANCELLED),
            (datetime(2027, 4, 5, 23, 30, tzinfo=UTC), CheckInStatus.SCHEDULED),
        )
        nadia = session.get(Deployment, supports["castle vale, nadia"])
        assert nadia is not None
        nadia.checkins_paused = True
        checkins(session, supports["castle vale, nadia"], (MONDAY_MORNING, CheckInStatus.CANCELLED))
        checkins(session, supports["mere green, sam"], (MONDAY_MORNING, CheckInStatus.SENT))
    with statements_sent(engine) as sent_for_three:
        found = find(sessions, "")
    assert [(m.checkins_paused, m.next_checkin_at) for m in found.matches] == [
        (False, datetime(2027, 4, 5, 23, 30, tzinfo=UTC)),
        (True, None),
        (False, None),
    ]
    assert [checkins_words(m, LONDON, MONDAY_MORNING) for m in found.matches] == [
        "next Tue 6 Apr",
        "paused",
        "none scheduled",
    ]
    assert len(sent_for_three) == len(sent), "no query more for each support shown"


@pytest.mark.parametrize(
    ("now", "words"),
    [
        # The check-in is due at 23:30 UTC on Monday 5 April 2027: Tuesday 6 April in London.
        (datetime(2027, 4, 1, 9, 0, tzinfo=UTC), "next Tue 6 Apr"),
        (datetime(2027, 4, 5, 9, 0, tzinfo=UTC), "due tomorrow"),
        (datetime(2027, 4, 5, 23, 0, tzinfo=UTC), "due today"),  # just past midnight, BST
        (datetime(2027, 4, 6, 22, 0, tzinfo=UTC), "due today"),
        (datetime(2027, 4, 6, 23, 5, tzinfo=UTC), "due now"),  # Wednesday in London: gone by
    ],
)
def test_a_check_in_due_soon_is_said_as_people_say_it(now: datetime, words: str) -> None:
    due = datetime(2027, 4, 5, 23, 30, tzinfo=UTC)
    support = ActiveSupport(1, 1, "Mere Green", "103413", "Sam", now, next_checkin_at=due)
    assert checkins_words(support, LONDON, now) == words


def test_only_a_coordinator_may_search(sessions: SessionFactory, supports: dict[str, int]) -> None:
    with sessions() as session, pytest.raises(NotAllowed, match="Only coordinators"):
        find_active_supports(session, actor="UHEAD1", query="mere")


def test_case_is_ignored_in_any_alphabet_wildcards_still_literal(
    sessions: SessionFactory, supports: dict[str, int]
) -> None:
    with transaction(sessions) as session:
        school = session.get(School, person(session, "UHEAD2").school_id)
        assert school is not None
        school.name = "Émile Zola Academy"
        person(session, "USPEC1").name = "Zoë Ångström"
        person(session, "USLE1").name = "Jürgen Großmann"
    castle_vale = [supports["castle vale, nadia"]]
    assert ids(find(sessions, "émile")) == castle_vale
    assert ids(find(sessions, "ÉMILE ZOLA")) == castle_vale
    assert ids(find(sessions, "ZOË ÅNGSTRÖM")) == [supports["mere green, priya"]]
    assert ids(find(sessions, "GROSSMANN")) == [supports["mere green, sam"]], "ß is ss"
    assert ids(find(sessions, "großmann")) == [supports["mere green, sam"]]
    assert find(sessions, "é_ile").total == 0
    assert find(sessions, "zo%m").total == 0


@pytest.mark.parametrize("name", ["Soﬁa Raﬁq", "Ἀθηνᾳ Ἀϐραάμ", "Raǰ Patel"])
def test_a_name_casefold_changes_finds_its_support(
    sessions: SessionFactory, supports: dict[str, int], name: str
) -> None:
    """Letters PostgreSQL's lower() leaves but casefold() changes (a ligature, a Greek iota
    subscript or symbol form, a letter casefold() decomposes): the name still finds itself."""
    with transaction(sessions) as session:
        school = session.get(School, person(session, "UHEAD2").school_id)
        assert school is not None
        school.name = f"{name} Academy"
        person(session, "USPEC1").name = name
    assert ids(find(sessions, f"{name} Academy")) == [supports["castle vale, nadia"]]
    assert ids(find(sessions, name)) == [
        supports["mere green, priya"],
        supports["castle vale, nadia"],
    ]
    assert ids(find(sessions, f"{name} {name.split()[0].upper()[:2]}")) != []


def test_wildcards_stay_literal_in_words_that_fold(
    sessions: SessionFactory, supports: dict[str, int]
) -> None:
    with transaction(sessions) as session:
        school = session.get(School, person(session, "UHEAD2").school_id)
        assert school is not None
        school.name = "STRAẞE_100% \\ İnce Academy"
    nadia = [supports["castle vale, nadia"]]
    assert ids(find(sessions, "straße_100%")) == nadia
    assert ids(find(sessions, "STRASSE_100% \\ İNCE")) == nadia
    assert ids(find(sessions, "strasse%100")) == []
    assert ids(find(sessions, "strasse_1_0")) == []
    assert ids(find(sessions, "e_1")) == nadia
    assert ids(find(sessions, "\\\\")) == []
