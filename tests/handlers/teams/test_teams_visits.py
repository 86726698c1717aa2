"""Open classrooms on Teams (issue 13) through `/api/messages`: `visit: …` in a chat, a Teams
host accepting and picking a school day on the card (within the school's capacity),
"was it useful?", and a Teams coordinator assigning a host with `visit-assign`; bad input and
repeats change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlmodel import col, select

from bot.core.clock import FixedClock
from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from storage.models import (
    AuditEntry,
    Person,
    SupportRequest,
    VisitFeedback,
    VisitRequest,
    VisitStatus,
)
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL
from tests.handlers.teams.conftest import (
    COORDINATOR,
    COORDINATORS_CHANNEL,
    HEAD,
    NLE,
    ON_TEAMS,
    teams_user,
    teams_world,
)
from tests.handlers.teams.programme import (
    actions_on,
    card_with,
    cards_to,
    chat_of,
    press_on_card,
)
from tests.handlers.teams.test_teams_flows import card_texts, fake, press
from tests.handlers.teams.test_teams_forms import inputs
from tests.support.visit_world import VISIT_DIRECTORY

NEWCOMER = "55555555-5555-4555-8555-555555555555"  # on Teams, not in the directory
MATHS = "visit: mastery maths teaching in Year 4"


@pytest.fixture
def world(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """Hannah (a visitor) and Nadia (Oak Hill: one visit a half term) on Teams."""
    with teams_world(db_url, clock, directory=VISIT_DIRECTORY) as running:
        yield running


def say(world: SlackWorld, aad: str, text: str) -> str:
    """`aad` writes `text` to the bot (delivered twice, as Teams may); the bot's last reply."""
    activity = fake(world).message(text, user=teams_user(aad), aad=aad)
    for _ in range(2):
        assert world.teams_send(activity).status_code == 200
        world.settle()
    replies = fake(world).messages(activity["conversation"]["id"])
    return card_texts(replies[-1]) if replies else ""


def visits(world: SlackWorld) -> list[VisitRequest]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(VisitRequest).order_by(col(VisitRequest.id))))


def test_visit_in_a_chat_asks_host_schools_once(world: SlackWorld) -> None:
    reply = say(world, HEAD, MATHS)
    assert "has gone to 2 colleagues at 2 schools" in reply and "Maths" in reply
    assert "Cancel the visit" in reply
    [visit] = visits(world)
    assert visit.status == VisitStatus.OFFERED
    assert "mastery maths" in visit.description
    offer = card_with(world, NLE, "visit_accept")
    assert actions_on(offer) == ["visit_accept", "visit_decline"]
    assert "Year 4" in card_texts(offer)
    assert world.fake.messages("USLE1"), "Sam, on Slack, is asked too"


def support_requests(world: SlackWorld) -> list[SupportRequest]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(SupportRequest).order_by(col(SupportRequest.id))))


VISIT_NO_COLON = "visit mastery maths teaching in Year 4"
WHICH = ["request_visit_instead", "request_show"]


@pytest.mark.parametrize(
    "text",
    [VISIT_NO_COLON, "Visit from a maths SLE needed please: our KS2 maths results have dropped"],
)
@pytest.mark.parametrize("channel", [False, True], ids=["chat", "channel"])
def test_a_message_starting_with_visit_is_kept_unsent_and_asks_which_was_meant(
    world: SlackWorld, text: str, channel: bool
) -> None:
    activity = fake(world).message(text, user=teams_user(HEAD), aad=HEAD, channel=channel)
    for _ in range(2):  # Teams may deliver it twice: asked once
        assert world.teams_send(activity).status_code == 200
        world.settle()
    assert visits(world) == []
    [request] = support_requests(world)
    assert (request.description, request.status, request.offer_round) == (text, "open", 0)
    [question] = [
        m["attachments"][0]["content"]
        for m in fake(world).messages(activity["conversation"]["id"])
        if m.get("attachments")
    ]
    assert "Did you mean to visit a school" in card_texts(question)
    assert actions_on(question) == WHICH
    assert text not in json.dumps(question), "their words are not repeated"


def test_visit_a_school_asks_host_schools_with_the_same_words_once(world: SlackWorld) -> None:
    say(world, HEAD, VISIT_NO_COLON)
    answer = press_on_card(world, HEAD, "request_visit_instead")
    assert "I've asked schools that open their classrooms" in answer["value"]
    [visit] = visits(world)
    assert (visit.description, visit.status) == ("mastery maths teaching in Year 4", "offered")
    assert "Year 4" in card_texts(card_with(world, NLE, "visit_accept"))
    [request] = support_requests(world)
    assert request.status == "cancelled"
    request_id = str(request.id)
    again = press(world, HEAD, "request_visit_instead", request_id)
    assert "asked to visit already" in again["value"]
    assert len(visits(world)) == 1
    refused = press(world, HEAD, "request_show", request_id)
    assert "nothing to choose" in refused["value"]
    said = [card_texts(c) for c in cards_to(world, HEAD)]
    assert any("You asked to visit a school instead" in s for s in said)
    assert not any("Did you mean" in s for s in said), "the question gave way to the answer"
    with world.runtime.sessions() as session:
        trail = session.exec(
            select(AuditEntry.action).where(AuditEntry.subject_id == request_id)
        ).all()
    assert "request.visit_instead" in trail


def test_ask_for_support_shows_the_request_ready_to_send(world: SlackWorld) -> None:
    say(world, HEAD, VISIT_NO_COLON)
    answer = press_on_card(world, HEAD, "request_show")
    assert "Here's your request" in answer["value"]
    assert visits(world) == []
    card = card_with(world, HEAD, "request_confirm")
    assert "request_visit_instead" not in actions_on(card)
    press_on_card(world, HEAD, "request_confirm")
    [request] = support_requests(world)
    assert (request.status, request.description) == ("offered", VISIT_NO_COLON)


def test_only_the_author_chooses_and_a_visit_needs_an_area(world: SlackWorld) -> None:
    say(world, HEAD, "visit some lovely bright classrooms somewhere near us, please")
    [request] = support_requests(world)
    value = str(request.id)
    assert (
        "Only the person who wrote this"
        in press(world, NLE, "request_visit_instead", value)["value"]
    )
    assert "Only the head who asked" in press(world, NLE, "request_show", value)["value"]
    assert "which area of practice" in press(world, HEAD, "request_visit_instead", value)["value"]
    assert visits(world) == []
    assert [r.status for r in support_requests(world)] == ["open"]


def test_a_visit_without_an_area_or_from_a_stranger_changes_nothing(world: SlackWorld) -> None:
    assert "which area of practice" in say(world, HEAD, "visit: some lovely classrooms")
    assert "visit: mastery maths" in say(world, HEAD, "visit")
    assert "directory" in say(world, NEWCOMER, MATHS)
    assert visits(world) == []


def test_a_teams_host_accepts_and_books_a_school_day(world: SlackWorld) -> None:
    say(world, HEAD, MATHS)
    answer = press_on_card(world, NLE, "visit_accept")
    assert "you're hosting this visit" in answer["value"]
    hosting = card_with(world, NLE, "visit_pick_date")
    assert inputs(hosting)["date"]["type"] == "Input.Date"
    for day, words in (
        ("2026-11-28", "weekend"),
        ("2026-12-25", "Christmas Day"),
        ("2026-11-20", "after today"),
        ("", "Please pick a date"),
    ):
        assert words in press_on_card(world, NLE, "visit_pick_date", date=day)["value"], day
    assert visits(world)[0].status == VisitStatus.ACCEPTED
    booked = press_on_card(world, NLE, "visit_pick_date", date="2026-12-08")
    assert "Booked for Tuesday 8 December 2026" in booked["value"]
    [stored] = visits(world)
    assert (stored.status, str(stored.visit_date)) == (VisitStatus.BOOKED, "2026-12-08")
    told = [c for c in cards_to(world, HEAD) if "Tuesday 8 December 2026" in card_texts(c)]
    assert told, "the visitor hears the day"
    assert "Change the date" in card_texts(card_with(world, NLE, "visit_pick_date"))


def test_the_host_school_has_room_for_one_visit_a_half_term(world: SlackWorld) -> None:
    say(world, HEAD, MATHS)
    press_on_card(world, NLE, "visit_accept")
    press_on_card(world, NLE, "visit_pick_date", date="2026-12-08")
    say(world, HEAD, "Visit: maths mastery in Year 6 please")
    assert len(visits(world)) == 2
    press_on_card(world, NLE, "visit_accept")
    full = press_on_card(world, NLE, "visit_pick_date", date="2026-12-09")
    assert "its limit per half term" in full["value"]
    assert visits(world)[1].visit_date is None
    assert visits(world)[1].status == VisitStatus.ACCEPTED


def test_only_the_host_picks_the_date(world: SlackWorld) -> None:
    say(world, HEAD, MATHS)
    press_on_card(world, NLE, "visit_accept")
    visit_id = visits(world)[0].id
    activity = fake(world).card_action(
        {"action": "visit_pick_date", "value": str(visit_id), "date": "2026-12-08"},
        user=teams_user(HEAD),
        aad=HEAD,
    )
    answer = world.teams_send(activity).json()
    world.settle()
    assert "Only the host" in answer["value"]
    assert visits(world)[0].visit_date is None


def test_was_it_useful_is_answered_on_teams_once(world: SlackWorld) -> None:
    say(world, HEAD, MATHS)
    press_on_card(world, NLE, "visit_accept")
    press_on_card(world, NLE, "visit_pick_date", date="2026-12-08")
    world.clock.set(datetime(2026, 12, 9, 9, 30, tzinfo=UTC))
    assert run_due(world.runtime)["visits_followed_up"] == 1
    world.settle()
    feedback = card_with(world, HEAD, "visit_useful_very")
    assert actions_on(feedback) == [
        "visit_useful_very",
        "visit_useful_somewhat",
        "visit_useful_not_really",
    ]
    for _ in range(2):  # a double click
        press_on_card(world, HEAD, "visit_useful_very")
    press_on_card(world, NLE, "visit_useful_somewhat")
    with world.runtime.sessions() as session:
        answers = sorted(str(f.usefulness) for f in session.exec(select(VisitFeedback)))
    assert answers == ["somewhat", "very"]


def test_the_visitor_calls_the_visit_off_after_being_asked_if_sure(world: SlackWorld) -> None:
    say(world, HEAD, MATHS)
    press_on_card(world, NLE, "visit_accept")
    mine = card_with(world, HEAD, "visit_cancel")
    [fold] = [a for a in mine["actions"] if a["type"] == "Action.ShowCard"]
    assert "Cancel the visit?" in card_texts({"card": fold})
    by_host = press_on_card(world, NLE, "visit_pick_date", date="2026-12-08")
    assert "Booked" in by_host["value"]
    answer = press_on_card(world, HEAD, "visit_cancel")
    assert answer["statusCode"] == 200
    assert visits(world)[0].status == VisitStatus.CANCELLED
    assert "visit_pick_date" not in str(cards_to(world, NLE)), "the host's card says it's off"
    stale = press(world, NLE, "visit_pick_date", visits(world)[0].id, date="2026-12-09")
    assert "cancelled" in stale["value"]


# --- a Teams coordinator assigns a host: `visit-assign N <name or email> [override]` ----------
@pytest.fixture
def coordinated(db_url: str, clock: FixedClock) -> Iterator[SlackWorld]:
    """The visit world with Chris Coordinator on Teams too."""
    on_teams = {**ON_TEAMS, "UCOORD": COORDINATOR}
    with teams_world(db_url, clock, directory=VISIT_DIRECTORY, on_teams=on_teams) as running:
        yield running


def said_once(world: SlackWorld, aad: str, text: str) -> list[str]:
    """`aad` writes `text` (delivered twice, as Teams may); every reply in that chat."""
    activity = fake(world).message(text, user=teams_user(aad), aad=aad)
    for _ in range(2):
        assert world.teams_send(activity).status_code == 200
        world.settle()
    return [card_texts(m) for m in fake(world).messages(activity["conversation"]["id"])]


def host_name(world: SlackWorld) -> str | None:
    with world.runtime.sessions() as session:
        visit = session.exec(select(VisitRequest)).one()
        host = session.get(Person, visit.host_id) if visit.host_id else None
        return host.name if host else None


def expire_the_invitations(world: SlackWorld) -> int:
    """Hannah asks to visit; nobody answers within five school days: the visit's id."""
    say(world, HEAD, MATHS)
    world.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    assert run_due(world.runtime)["visit_offers_expired"] == 1
    world.settle()
    [visit] = visits(world)
    assert visit.status == VisitStatus.UNMATCHED
    return visit.id or 0


def test_the_no_host_notice_names_each_platforms_command(coordinated: SlackWorld) -> None:
    visit_id = expire_the_invitations(coordinated)
    in_channel = [card_texts(m) for m in fake(coordinated).messages(COORDINATORS_CHANNEL)]
    [on_teams] = [t for t in in_channel if "found no host" in t or "no school asked" in t]
    assert f"Visit #{visit_id}" in on_teams and "within 5 school days" in on_teams
    assert f"**visit-assign {visit_id}** followed by the host's name or email" in on_teams
    assert "/support" not in on_teams
    on_slack = [json.dumps(m["blocks"]) for m in coordinated.fake.messages(COORDINATOR_CHANNEL)]
    assert any(f"`/support visit-assign {visit_id} @name`" in t for t in on_slack)
    assert not any("followed by the host's name" in t for t in on_slack)


def test_a_visit_nobody_could_host_is_also_noticed_with_the_teams_command(
    coordinated: SlackWorld,
) -> None:
    say(coordinated, HEAD, "visit: phonics teaching in Reception")  # no host school has phonics
    [visit] = visits(coordinated)
    assert visit.status == VisitStatus.UNMATCHED
    in_channel = [card_texts(m) for m in fake(coordinated).messages(COORDINATORS_CHANNEL)]
    [notice] = [t for t in in_channel if "found no host" in t]
    assert f"**visit-assign {visit.id}** followed by the host's name" in notice


def test_a_teams_coordinator_assigns_a_host_by_name_once(coordinated: SlackWorld) -> None:
    visit_id = expire_the_invitations(coordinated)
    refused = said_once(coordinated, HEAD, f"visit-assign {visit_id} Nadia Leader")
    assert refused[-1] == "Only coordinators can assign a host to a visit."
    assert refused.count(refused[-1]) == 1
    with coordinated.runtime.sessions() as session:
        audited = session.exec(select(AuditEntry.action).where(AuditEntry.actor == HEAD)).all()
    assert audited.count("visit.assign.refused") == 1
    usage = said_once(coordinated, COORDINATOR, f"visit-assign {visit_id}")
    assert usage == ["Try **visit-assign 7 Sam Jones** (the visit number, then the person)."]
    assert host_name(coordinated) is None

    replies = said_once(coordinated, COORDINATOR, f"visit-assign #{visit_id} nadia leader")
    done = f"Done: Nadia Leader is hosting visit #{visit_id}. They'll pick the day."
    assert replies[-1] == done and replies.count(done) == 1, "answered once"
    assert host_name(coordinated) == "Nadia Leader"
    assert visits(coordinated)[0].status == VisitStatus.ACCEPTED
    hosting = card_with(coordinated, NLE, "visit_pick_date")
    assert "You're hosting this visit" in card_texts(hosting)
    to_visitor = [card_texts(m) for m in fake(coordinated).messages(chat_of(coordinated, HEAD))]
    [good_news] = [t for t in to_visitor if "Good news" in t]
    assert "Nadia Leader at Oak Hill Primary School" in good_news

    again = said_once(coordinated, COORDINATOR, f"visit-assign {visit_id} Sam Specialist")
    assert "already has a host (Nadia Leader)" in again[-1]
    assert host_name(coordinated) == "Nadia Leader"


def test_a_school_that_does_not_host_needs_override(coordinated: SlackWorld) -> None:
    visit_id = expire_the_invitations(coordinated)
    refused = said_once(coordinated, COORDINATOR, f"visit-assign {visit_id} s.maths@example.org")
    assert "Elm Primary School doesn't host visits" in refused[-1]
    assert "add the word override" in refused[-1]
    assert host_name(coordinated) is None
    done = said_once(
        coordinated, COORDINATOR, f"visit-assign {visit_id} s.maths@example.org override"
    )
    assert "Sally Maths is hosting" in done[-1] and "hosting rules set aside" in done[-1]
    assert host_name(coordinated) == "Sally Maths"
    with coordinated.runtime.sessions() as session:
        [entry] = session.exec(
            select(AuditEntry).where(AuditEntry.action == "visit.host_assigned")
        ).all()
    assert entry.actor == COORDINATOR and "hosts visits" not in str(entry.detail)
    assert "doesn't host visits" in str(entry.detail)
