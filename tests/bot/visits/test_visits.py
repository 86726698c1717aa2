"""Open classrooms through the core, on SQLite and PostgreSQL: asking to visit, who is asked,
the first accept winning, booking a school day within the half term's capacity, the reminder
the working day before, "was it useful?" after, the digest, and privacy export and erasure."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlmodel import select

from bot.core.errors import Conflict, InvalidInput, NotAllowed
from bot.digest.service import build_digest, digest_week
from bot.digest.views import CoordinatorDigestMessage
from bot.directory.service import import_directory
from bot.home.service import home_for
from bot.privacy.service import erase_person, export_person
from bot.visits.booking import record_usefulness
from bot.visits.cancelling import cancel_visit
from bot.visits.hosting import accept_visit_offer, decline_visit_offer
from bot.visits.matching import find_hosts
from handlers.slack.blocks.home import home_view
from handlers.slack.blocks.render import view_as_text
from storage.db import transaction
from storage.models import (
    OfferStatus,
    Person,
    VisitFeedback,
    VisitStatus,
)
from tests.support.checkin_world import COORDINATOR_CHANNEL, World, utc
from tests.support.visit_world import (
    accept,
    actions,
    ask,
    book,
    offer_to,
    offers,
    visit,
)


def delivered(world: World) -> None:
    world.runtime.deliverer.drain()


# --- asking and who is asked -----------------------------------------------------------------
def test_a_visit_goes_to_staff_with_the_expertise_at_schools_that_host(world: World) -> None:
    summary = ask(world)
    assert summary.areas == ("Maths",)
    assert summary.status == VisitStatus.OFFERED
    # Nadia (Oak Hill) and Sam (Birch) host and know maths; Sally's school hosts no visits.
    assert set(offers(world, summary.id)) == {
        world.person_id("UNLE1"),
        world.person_id("USLE1"),
    }
    delivered(world)
    assert world.dms("UNLE1", "visit_accept") and world.dms("USLE1", "visit_accept")
    assert not world.dms("USLE2")
    [told] = world.dms("UHEAD1")
    assert "2 colleagues at 2 schools" in told["text"]
    assert actions(world, summary.id) == ["visit.requested", "visit.offered"]


def test_nobody_to_host_tells_the_visitor_and_the_coordinators(world: World) -> None:
    summary = ask(world, text="We'd love to see how others run their EYFS outdoor provision")
    assert summary.status == VisitStatus.UNMATCHED
    delivered(world)
    assert "couldn't find a school" in world.dms("UHEAD1")[0]["text"]
    assert any("found no host" in m["text"] for m in world.fake.messages(COORDINATOR_CHANNEL))
    assert actions(world, summary.id)[-1] == "visit.unmatched"


def test_a_visit_needs_an_area_and_a_person_in_the_directory(world: World) -> None:
    with pytest.raises(InvalidInput) as no_area:
        ask(world, text="Could we come and look around one day?")
    assert "areas" in no_area.value.errors
    with pytest.raises(InvalidInput) as empty:
        ask(world, text="   ")
    assert "description" in empty.value.errors
    with pytest.raises(NotAllowed):
        ask(world, user="UNOBODY")


def test_areas_chosen_on_the_form_win_over_the_inferred_ones(world: World) -> None:
    summary = ask(world, text="Anything you can show us", tags=("send",))
    assert summary.areas == ("Special educational needs and disabilities (SEND)",)


# --- accepting ---------------------------------------------------------------------------------
def test_the_first_accept_wins_and_the_other_offers_are_withdrawn(world: World) -> None:
    summary = ask(world)
    accept(world, summary.id, "UNLE1")
    with pytest.raises(Conflict, match="Oak Hill Primary School is hosting"):
        accept(world, summary.id, "USLE1")
    stored = visit(world, summary.id)
    assert (stored.status, stored.host_id) == (VisitStatus.ACCEPTED, world.person_id("UNLE1"))
    assert offers(world, summary.id) == {
        world.person_id("UNLE1"): OfferStatus.ACCEPTED,
        world.person_id("USLE1"): OfferStatus.WITHDRAWN,
    }
    delivered(world)
    assert "will host your visit" in world.dms("UHEAD1")[-1]["text"]
    assert "visit_pick_date" in str(world.dms("UNLE1")[-1]["blocks"])
    assert "Taken" not in str(world.dms("USLE1")[-1]) and "is hosting this visit" in str(
        world.dms("USLE1")[-1]
    )


def test_only_the_person_offered_may_accept(world: World) -> None:
    summary = ask(world)
    offer_id = offer_to(world, summary.id, "UNLE1")
    with pytest.raises(NotAllowed), transaction(world.runtime.sessions) as session:
        accept_visit_offer(session, world.runtime.context(), actor="USLE1", offer_id=offer_id)


def test_when_every_host_declines_the_coordinators_hear(world: World) -> None:
    summary = ask(world)
    for host in ("UNLE1", "USLE1"):
        with transaction(world.runtime.sessions) as session:
            decline_visit_offer(
                session,
                world.runtime.context(),
                actor=host,
                offer_id=offer_to(world, summary.id, host),
            )
    assert visit(world, summary.id).status == VisitStatus.UNMATCHED
    delivered(world)
    assert any("declined" in m["text"] for m in world.fake.messages(COORDINATOR_CHANNEL))


# --- booking a school day ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "why"),
    [
        (date(2026, 11, 28), "a weekend"),
        (date(2027, 2, 16), "Spring half-term"),
        (date(2026, 12, 28), "Christmas holiday"),
        (date(2026, 11, 23), "after today"),
        (None, "pick a date"),
    ],
)
def test_only_a_future_school_day_can_be_booked(world: World, day: date | None, why: str) -> None:
    summary = ask(world)
    accept(world, summary.id, "UNLE1")
    with pytest.raises(InvalidInput) as refused:
        book(world, summary.id, "UNLE1", day)
    assert why in refused.value.errors["date"]
    assert visit(world, summary.id).status == VisitStatus.ACCEPTED


def test_booking_sets_the_reminder_and_the_follow_up_on_working_days(world: World) -> None:
    summary = ask(world)
    accept(world, summary.id, "UNLE1")
    assert "Tuesday 8 December 2026" in book(world, summary.id, "UNLE1", date(2026, 12, 8))
    stored = visit(world, summary.id)
    assert stored.status == VisitStatus.BOOKED
    assert stored.remind_at == utc(2026, 12, 7, 9, 30)  # Monday, CHECKIN_TIME, GMT
    assert stored.follow_up_at == utc(2026, 12, 9, 9, 30)
    # A Monday visit is reminded on the Friday before.
    book(world, summary.id, "UNLE1", date(2026, 12, 14))
    assert visit(world, summary.id).remind_at == utc(2026, 12, 11, 9, 30)
    delivered(world)
    assert "moved from Tuesday 8 December 2026" in world.dms("UHEAD1")[-1]["text"]
    assert actions(world, summary.id)[-2:] == ["visit.booked", "visit.booked"]


def test_only_the_host_may_pick_the_date(world: World) -> None:
    summary = ask(world)
    accept(world, summary.id, "UNLE1")
    with pytest.raises(NotAllowed):
        book(world, summary.id, "USLE1", date(2026, 12, 8))


def test_a_school_hosts_no_more_visits_in_a_half_term_than_its_capacity(world: World) -> None:
    first, second = ask(world), ask(world, user="UHEAD2")
    for summary in (first, second):
        accept(world, summary.id, "UNLE1")
    book(world, first.id, "UNLE1", date(2026, 12, 8))
    with pytest.raises(InvalidInput) as full:
        book(world, second.id, "UNLE1", date(2026, 12, 10))
    assert "Autumn 2 2026" in full.value.errors["date"]
    assert "its limit per half term" in full.value.errors["date"]
    # After the Christmas holiday is Spring 1: room again.
    book(world, second.id, "UNLE1", date(2027, 1, 12))
    # Moving a visit within its own half term never counts it against itself.
    book(world, first.id, "UNLE1", date(2026, 12, 9))


def test_a_full_school_is_asked_after_those_with_room(world: World) -> None:
    first = ask(world)
    accept(world, first.id, "UNLE1")
    book(world, first.id, "UNLE1", date(2026, 12, 8))
    with world.runtime.sessions() as session:
        visitor = session.exec(select(Person).where(Person.slack_user_id == "UHEAD2")).one()
        half = world.runtime.context().calendar.half_term_of(date(2026, 11, 23))
        hosts = find_hosts(session, ("maths",), visitor=visitor, half=half, schools_wanted=1)
    assert [h.person.slack_user_id for h in hosts] == ["USLE1"]


# --- the day before and the day after -------------------------------------------------------
def booked_visit(world: World) -> int:
    summary = ask(world)
    accept(world, summary.id, "UNLE1")
    book(world, summary.id, "UNLE1", date(2026, 12, 8))
    delivered(world)
    return summary.id


def test_both_are_reminded_once_the_working_day_before(world: World) -> None:
    booked_visit(world)
    assert world.at(utc(2026, 12, 7, 9, 29))["visit_reminders"] == 0
    assert world.at(utc(2026, 12, 7, 9, 30))["visit_reminders"] == 1
    assert world.at(utc(2026, 12, 7, 10, 0))["visit_reminders"] == 0
    for user in ("UHEAD1", "UNLE1"):
        reminders = [m for m in world.dms(user) if "Reminder" in m["text"]]
        assert len(reminders) == 1
        assert "Tuesday 8 December 2026" in reminders[0]["text"]


def test_a_reminder_due_while_the_bot_was_down_still_comes_before_the_visit(
    world: World,
) -> None:
    visit_id = booked_visit(world)  # Tuesday 8 December: reminded Monday 7th at 09:30
    # Down from the Sunday, back on Monday evening: the next working morning is the visit's.
    assert world.at(utc(2026, 12, 7, 19, 0))["visit_reminders"] == 1
    assert visit(world, visit_id).reminded_at == utc(2026, 12, 7, 19, 0)
    assert [m for m in world.dms("UHEAD1") if "Reminder" in m["text"]]
    assert world.at(utc(2026, 12, 8, 9, 30))["visit_reminders"] == 0


def test_afterwards_both_are_asked_whether_it_was_useful(world: World) -> None:
    visit_id = booked_visit(world)
    world.at(utc(2026, 12, 7, 9, 30))
    assert world.at(utc(2026, 12, 9, 9, 29))["visits_followed_up"] == 0
    assert world.at(utc(2026, 12, 9, 9, 30))["visits_followed_up"] == 1
    assert world.at(utc(2026, 12, 9, 9, 31))["visits_followed_up"] == 0
    assert visit(world, visit_id).status == VisitStatus.VISITED
    assert world.dms("UHEAD1", "visit_useful") and world.dms("UNLE1", "visit_useful")
    ctx = world.runtime.context
    with transaction(world.runtime.sessions) as session:
        record_usefulness(session, ctx(), actor="UHEAD1", visit_id=visit_id, usefulness="very")
        record_usefulness(session, ctx(), actor="UNLE1", visit_id=visit_id, usefulness="somewhat")
    with transaction(world.runtime.sessions) as session:  # a change of mind replaces the answer
        record_usefulness(session, ctx(), actor="UNLE1", visit_id=visit_id, usefulness="very")
    with pytest.raises(NotAllowed), transaction(world.runtime.sessions) as session:
        record_usefulness(session, ctx(), actor="USLE1", visit_id=visit_id, usefulness="very")
    with world.runtime.sessions() as session:
        answers = session.exec(select(VisitFeedback.usefulness)).all()
    assert sorted(answers) == ["very", "very"]
    delivered(world)
    assert "you said *Very useful*" in str(world.dms("UHEAD1", "visit_useful")[-1]["blocks"])


def test_was_it_useful_due_while_the_bot_was_down_waits_for_the_next_working_morning(
    world: World,
) -> None:
    visit_id = booked_visit(world)  # Tuesday 8 December: asked Wednesday 9th at 09:30
    world.at(utc(2026, 12, 7, 9, 30))
    # Down from Wednesday morning, back at 02:00 on Saturday, and again on Sunday.
    for back in (utc(2026, 12, 12, 2, 0), utc(2026, 12, 13, 14, 0)):
        assert world.at(back)["visits_followed_up"] == 0
    waiting = visit(world, visit_id)
    assert (waiting.status, waiting.follow_up_at) == (VisitStatus.BOOKED, utc(2026, 12, 14, 9, 30))
    assert not world.dms("UHEAD1", "visit_useful") and not world.dms("UNLE1", "visit_useful")
    assert world.at(utc(2026, 12, 14, 9, 30))["visits_followed_up"] == 1
    assert visit(world, visit_id).status == VisitStatus.VISITED
    assert world.dms("UHEAD1", "visit_useful") and world.dms("UNLE1", "visit_useful")


def test_the_coordinators_digest_counts_visits_and_how_useful_they_were(world: World) -> None:
    visit_id = booked_visit(world)
    world.at(utc(2026, 12, 9, 9, 30))
    with transaction(world.runtime.sessions) as session:
        record_usefulness(
            session, world.runtime.context(), actor="UHEAD1", visit_id=visit_id, usefulness="very"
        )
    world.clock.set(utc(2026, 12, 14, 8, 0))
    ctx = world.runtime.context()
    with world.runtime.sessions() as session:
        digest = build_digest(session, ctx, digest_week(ctx, date(2026, 12, 14)))
    visits = digest.coordinators.visits
    assert visits is not None
    assert (visits.visited, visits.upcoming, visits.usefulness["Very useful"]) == (1, 0, 1)

    text = view_as_text(CoordinatorDigestMessage(digest.coordinators, "Europe/London"))
    assert "Open classrooms" in text and "Very useful 1" in text
    assert "Hannah" not in text and "mastery" not in text  # counts only


# --- privacy --------------------------------------------------------------------------------
def test_subject_access_shows_visits_asked_for_and_hosted(world: World) -> None:
    visit_id = booked_visit(world)
    with world.runtime.sessions() as session:
        visitor = export_person(session, "UHEAD1")
        host = export_person(session, "UNLE1")
    assert visitor is not None and host is not None
    [mine] = visitor["visits"]
    assert (mine["id"], mine["role"], mine["visit_date"]) == (visit_id, "visitor", "2026-12-08")
    assert "mastery" in mine["description"]
    assert {v["role"] for v in host["visits"]} == {"host", "asked to host"}


def test_erasure_erases_visit_text_and_cancels_visits_to_come(world: World) -> None:
    booked = booked_visit(world)
    waiting = ask(world).id
    with transaction(world.runtime.sessions) as session:
        report = erase_person(session, world.runtime.context(), "UHEAD1")
    assert report is not None and report.visits == 2
    for visit_id in (booked, waiting):
        stored = visit(world, visit_id)
        assert (stored.status, stored.description) == (VisitStatus.CANCELLED, "[erased]")
    assert OfferStatus.OPEN not in offers(world, waiting).values()
    delivered(world)
    assert "has been cancelled" in world.dms("UNLE1")[-1]["text"]
    with transaction(world.runtime.sessions) as session:
        again = erase_person(session, world.runtime.context(), "UHEAD1")
    assert again is not None and again.visits == 0


def test_visit_text_is_erased_once_kept_for_the_retention_period(world: World) -> None:
    visit_id = booked_visit(world)
    world.at(utc(2026, 12, 9, 9, 30))  # visited, and asked whether useful
    assert world.at(utc(2027, 12, 9, 9, 29))["visits_text_erased"] == 0
    assert world.at(utc(2027, 12, 9, 9, 30))["visits_text_erased"] == 1
    stored = visit(world, visit_id)
    assert (stored.description, stored.status) == ("[erased]", VisitStatus.VISITED)
    assert world.at(utc(2027, 12, 10, 9, 30))["visits_text_erased"] == 0


# --- App Home --------------------------------------------------------------------------------
def test_home_shows_visits_to_the_visitor_and_offers_to_hosts(world: World) -> None:

    booked_visit(world)
    waiting = ask(world, user="UHEAD2")
    runtime = world.runtime
    with runtime.sessions() as session:
        visitor = home_for(session, "UHEAD1", now=world.clock.now(), vocabulary=runtime.vocabulary)
        host = home_for(session, "UNLE1", now=world.clock.now(), vocabulary=runtime.vocabulary)
        sam = home_for(session, "USLE1", now=world.clock.now(), vocabulary=runtime.vocabulary)
    [mine] = visitor.visits
    assert (mine.as_host, mine.status, mine.school, mine.other) == (
        False,
        VisitStatus.BOOKED,
        "Oak Hill Primary School",
        "UNLE1",
    )
    assert [(v.id, v.as_host, v.offer_id is not None) for v in host.visits][-1][1] is True
    assert [v.id for v in sam.visits if v.offer_id] == [waiting.id]
    shown = str(home_view(sam, runtime.settings.tz)["blocks"])
    assert "Open classrooms" in shown and "visit_accept" in shown
    assert "booked for *Tuesday 8 December 2026*" in str(
        home_view(visitor, runtime.settings.tz)["blocks"]
    )


def test_the_visitor_can_cancel_and_the_host_is_told(world: World) -> None:
    visit_id = booked_visit(world)

    def cancel(actor: str) -> str:
        with transaction(world.runtime.sessions) as session:
            return cancel_visit(session, world.runtime.context(), actor=actor, visit_id=visit_id)

    with pytest.raises(NotAllowed):
        cancel("USLE1")
    assert "is cancelled" in cancel("UHEAD1")
    with pytest.raises(Conflict):
        cancel("UHEAD1")
    assert visit(world, visit_id).status == VisitStatus.CANCELLED
    assert world.at(utc(2026, 12, 7, 9, 30))["visit_reminders"] == 0
    assert world.at(utc(2026, 12, 9, 9, 30))["visits_followed_up"] == 0
    assert "has cancelled the visit on Tuesday 8 December 2026" in world.dms("UNLE1")[-1]["text"]
    assert actions(world, visit_id)[-1] == "visit.cancelled"


def test_a_coordinator_can_cancel_a_visit_still_looking_for_a_host(world: World) -> None:
    summary = ask(world)
    with transaction(world.runtime.sessions) as session:
        cancel_visit(session, world.runtime.context(), actor="UCOORD", visit_id=summary.id)
    assert set(offers(world, summary.id).values()) == {OfferStatus.WITHDRAWN}
    delivered(world)
    assert "was cancelled, so nothing more is needed" in str(world.dms("USLE1")[-1]["blocks"])


def test_hosts_in_the_visitors_phase_come_first(world: World) -> None:
    secondary = (
        "slack_user_id,name,roles,school,school_urn,phase,region,expertise,hosts_visits\n"
        "USEC1,Sue Secondary,sle,Heath Secondary School,140500,secondary,West Midlands,maths,yes\n"
    )
    report = import_directory(world.runtime.sessions, io.StringIO(secondary), now=world.clock.now())
    assert report.ok, report.render()
    half = world.runtime.context().calendar.half_term_of(date(2026, 11, 23))

    def first_host(visitor_id: str) -> str:
        with world.runtime.sessions() as session:
            visitor = session.exec(select(Person).where(Person.slack_user_id == visitor_id)).one()
            hosts = find_hosts(session, ("maths",), visitor=visitor, half=half, schools_wanted=1)
        return hosts[0].person.slack_user_id

    assert first_host("UHEAD2") == "USEC1"  # Castle Vale Academy is a secondary
    assert first_host("UHEAD1") == "USLE1"  # Mere Green is primary: Birch, then Oak Hill
