"""Open classrooms through Slack, as Slack sends it: `/support visit` and the global shortcut
open the form, its submission offers the visit to host schools, *Host this visit* (first wins),
the date picker (school days and capacity), the reminder, and *was it useful?* clicks; signed
requests against the running bot and the fake Web API, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.entry.jobs import run_due
from handlers.slack.stand_in.signing import (
    TEAM_ID,
    block_actions_payload,
    new_trigger_id,
    view_submission_payload,
)
from storage.models import OfferStatus, VisitFeedback, VisitOffer, VisitRequest, VisitStatus
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL, SlackWorld
from tests.handlers.slack.test_home import open_home
from tests.support.blockkit import button_value, texts
from tests.support.visit_world import MATHS_VISIT, VISIT_DIRECTORY


@pytest.fixture
def world(slack: SlackWorld) -> SlackWorld:
    slack.import_directory(VISIT_DIRECTORY)
    return slack


def opened(slack: SlackWorld, callback_id: str) -> dict[str, Any]:
    """The last form the bot opened with `callback_id`."""
    views = [
        c.args["view"]
        for c in slack.fake.calls_to("views.open")
        if c.args["view"]["callback_id"] == callback_id
    ]
    assert views, f"no {callback_id} form was opened"
    return views[-1]


def submit(
    slack: SlackWorld, user: str, callback_id: str, values: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    """Submit a form; returns Slack's view of the response (errors, update or nothing)."""
    status, body, _ = slack.sender.interact(
        view_submission_payload(user, callback_id, values, **kwargs)
    )
    assert status == 200
    slack.settle()
    return json.loads(body) if body else {}


def click(slack: SlackWorld, user: str, action_id: str, value: str, **kwargs: Any) -> None:
    status, _, _ = slack.sender.interact(block_actions_payload(user, action_id, value, **kwargs))
    assert status == 200
    slack.settle()


def dm_with(slack: SlackWorld, user: str, action_id: str) -> dict[str, Any]:
    """The latest DM to `user` holding a button `action_id`."""
    found = [m for m in slack.fake.messages(user) if action_id in json.dumps(m.get("blocks"))]
    assert found, f"{user} has no DM with {action_id}"
    return found[-1]


def ask(slack: SlackWorld, view_id: str = "VVISIT0001") -> None:
    submit(
        slack,
        "UHEAD1",
        "visit_request",
        {"description": {"value": MATHS_VISIT}, "areas": {"value": []}},
        view_id=view_id,
    )


def visits(slack: SlackWorld) -> list[VisitRequest]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(VisitRequest).order_by(VisitRequest.id)))


def host_accepts(slack: SlackWorld, host: str = "UNLE1") -> None:
    dm = dm_with(slack, host, "visit_accept")
    click(slack, host, "visit_accept", button_value(dm["blocks"], "visit_accept"), message=dm)


def pick(slack: SlackWorld, day: str, host: str = "UNLE1") -> dict[str, Any]:
    dm = dm_with(slack, host, "visit_pick_date")
    click(slack, host, "visit_pick_date", button_value(dm["blocks"], "visit_pick_date"), message=dm)
    form = opened(slack, "visit_date")
    values = {"date": {"value": {"type": "datepicker", "selected_date": day}}}
    return submit(slack, host, "visit_date", values, private_metadata=form["private_metadata"])


def test_support_visit_opens_the_form_pre_filled(world: SlackWorld) -> None:
    status, _, _ = world.sender.command("/support", f"visit {MATHS_VISIT}", user_id="UHEAD1")
    assert status == 200
    world.settle()
    form = opened(world, "visit_request")
    assert MATHS_VISIT in json.dumps(form)
    assert '"value": "maths"' in json.dumps(form["blocks"])  # the area inferred, pre-chosen


def test_the_global_shortcut_opens_the_form(world: SlackWorld) -> None:
    payload = {
        "type": "shortcut",
        "token": "verification-token",
        "action_ts": "1700000000.000100",
        "team": {"id": TEAM_ID, "domain": "school-support"},
        "user": {"id": "UHEAD1", "username": "uhead1", "team_id": TEAM_ID},
        "is_enterprise_install": False,
        "enterprise": None,
        "callback_id": "ask_to_visit",
        "trigger_id": new_trigger_id(),
    }
    status, _, _ = world.sender.interact(payload)
    assert status == 200
    world.settle()
    assert opened(world, "visit_request")["title"]["text"] == "Visit a classroom"


def test_a_visit_from_the_form_reaches_the_hosts_once(world: SlackWorld) -> None:
    ask(world)
    ask(world)  # Slack's retry of the same submission
    [stored] = visits(world)
    assert stored.status == VisitStatus.OFFERED
    for host in ("UNLE1", "USLE1"):
        assert "Could your school host a visit?" in texts(
            dm_with(world, host, "visit_accept")["blocks"]
        )
    assert not world.fake.messages("USLE2")
    assert "has gone to 2 colleagues" in world.fake.messages("UHEAD1")[-1]["text"]


def test_a_form_without_an_area_stays_open_with_the_reason(world: SlackWorld) -> None:
    response = submit(
        world,
        "UHEAD1",
        "visit_request",
        {"description": {"value": "Could we look around?"}, "areas": {"value": []}},
    )
    assert response["response_action"] == "errors" and "areas" in response["errors"]
    assert visits(world) == []


def test_someone_not_in_the_directory_is_told_why(world: SlackWorld) -> None:
    response = submit(
        world,
        "UNOBODY",
        "visit_request",
        {"description": {"value": MATHS_VISIT}, "areas": {"value": []}},
    )
    assert response["response_action"] == "update"
    assert "directory" in json.dumps(response["view"])
    assert visits(world) == []


def test_first_host_wins_picks_a_school_day_and_both_hear(world: SlackWorld) -> None:
    ask(world)
    stale = dm_with(world, "USLE1", "visit_accept")  # Sam's DM as it was before Nadia clicked
    host_accepts(world, "UNLE1")
    assert "is hosting this visit" in texts(world.fake.messages("USLE1")[-1]["blocks"])
    click(
        world, "USLE1", "visit_accept", button_value(stale["blocks"], "visit_accept"), message=stale
    )
    assert any("Oak Hill Primary School is hosting" in r for r in world.fake.replies_to("USLE1"))
    assert visits(world)[0].status == VisitStatus.ACCEPTED
    weekend = pick(world, "2026-11-28")
    assert weekend["response_action"] == "errors"
    assert "weekend" in weekend["errors"]["date"]
    assert pick(world, "2026-12-08") == {}
    [stored] = visits(world)
    assert (stored.status, str(stored.visit_date)) == (VisitStatus.BOOKED, "2026-12-08")
    assert "booked for *Tuesday 8 December 2026*" in world.fake.messages("UHEAD1")[-1]["text"]
    assert "Change the date" in texts(dm_with(world, "UNLE1", "visit_pick_date")["blocks"])


def test_only_the_host_can_open_the_date_picker(world: SlackWorld) -> None:
    ask(world)
    host_accepts(world, "UNLE1")
    visit_id = str(visits(world)[0].id)
    click(world, "UHEAD1", "visit_pick_date", visit_id)
    assert not [
        c
        for c in world.fake.calls_to("views.open")
        if c.args["view"]["callback_id"] == "visit_date"
    ]
    assert any("Only the host" in r for r in world.fake.replies_to("UHEAD1"))


def test_reminder_then_was_it_useful_through_slack(world: SlackWorld) -> None:
    ask(world)
    host_accepts(world)
    pick(world, "2026-12-08")
    world.clock.set(datetime(2026, 12, 7, 9, 30, tzinfo=UTC))
    assert run_due(world.runtime)["visit_reminders"] == 1
    world.settle()
    # (Monday's personal digest, which lists the visit, may come just after the reminder.)
    assert any("Reminder" in m["text"] for m in world.fake.messages("UHEAD1")[-2:])
    world.clock.set(datetime(2026, 12, 9, 9, 30, tzinfo=UTC))
    assert run_due(world.runtime)["visits_followed_up"] == 1
    world.settle()
    dm = dm_with(world, "UHEAD1", "visit_useful_very")
    value = button_value(dm["blocks"], "visit_useful_very")
    click(world, "UHEAD1", "visit_useful_very", value, message=dm)
    click(world, "UHEAD1", "visit_useful_very", value, message=dm)  # a double click
    with world.runtime.sessions() as session:
        [answer] = session.exec(select(VisitFeedback)).all()
    assert answer.usefulness == "very"
    assert "you said *Very useful*" in texts(
        dm_with(world, "UHEAD1", "visit_useful_very")["blocks"]
    )
    assert not any("Open classrooms" in m["text"] for m in world.fake.messages(COORDINATOR_CHANNEL))


def test_a_host_accepts_from_the_home_tab_and_it_shows_the_visit(world: SlackWorld) -> None:
    ask(world)
    home = open_home(world, "USLE1")
    assert "Open classrooms" in texts(home["blocks"])
    value = button_value(home["blocks"], "visit_accept")
    before = len(world.fake.calls_to("views.publish"))
    click(world, "USLE1", "visit_accept", value, view=home)
    assert len(world.fake.calls_to("views.publish")) == before + 1  # the Home tab, refreshed
    refreshed = world.fake.home_view("USLE1")
    assert refreshed is not None
    assert "Hosting" in texts(refreshed["blocks"])
    assert "accepted; the host is picking a date" in texts(open_home(world, "UHEAD1")["blocks"])


def test_the_visitor_cancels_from_their_dm(world: SlackWorld) -> None:
    ask(world)
    host_accepts(world)
    dm = dm_with(world, "UHEAD1", "visit_cancel")
    click(world, "UHEAD1", "visit_cancel", button_value(dm["blocks"], "visit_cancel"), message=dm)
    assert visits(world)[0].status == VisitStatus.CANCELLED
    assert any("is cancelled" in r for r in world.fake.replies_to("UHEAD1"))
    assert "has cancelled the visit" in world.fake.messages("UNLE1")[-1]["text"]


def test_simultaneous_accepts_give_the_visit_one_host(world: SlackWorld) -> None:
    ask(world)
    clicks = []
    for host in ("UNLE1", "USLE1", "UNLE1"):  # two hosts, one of them clicking twice
        dm = dm_with(world, host, "visit_accept")
        value = button_value(dm["blocks"], "visit_accept")
        clicks.append(block_actions_payload(host, "visit_accept", value, message=dm))
    barrier = threading.Barrier(len(clicks))
    statuses: list[int] = []

    def send(payload: dict[str, Any]) -> None:
        barrier.wait()
        statuses.append(world.sender.interact(payload)[0])

    threads = [threading.Thread(target=send, args=(payload,)) for payload in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    world.settle()
    assert statuses == [200, 200, 200]
    [stored] = visits(world)
    assert stored.status == VisitStatus.ACCEPTED and stored.host_id is not None
    with world.runtime.sessions() as session:
        accepted = session.exec(
            select(VisitOffer).where(VisitOffer.status == OfferStatus.ACCEPTED)
        ).all()
    assert len(accepted) == 1
    good_news = [m for m in world.fake.messages("UHEAD1") if "Good news" in m["text"]]
    assert len(good_news) == 1


# --- invitations expire; coordinators assign a host (issue #13 gaps) -------------------------
def visit_assign(slack: SlackWorld, text: str, user: str = "UCOORD") -> None:
    status, _, _ = slack.sender.command("/support", text, user_id=user)
    assert status == 200
    slack.settle()


def the_visit(slack: SlackWorld) -> VisitRequest:
    with slack.runtime.sessions() as session:
        return session.exec(select(VisitRequest)).one()


def test_an_unanswered_invitation_expires_and_a_coordinator_assigns_a_host(
    world: SlackWorld,
) -> None:
    ask(world)
    world.clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))  # five school days on
    assert run_due(world.runtime)["visit_offers_expired"] == 1
    world.settle()
    visit = the_visit(world)
    assert visit.status == VisitStatus.UNMATCHED
    assert not [m for m in world.fake.messages("UNLE1") if "visit_accept" in json.dumps(m)]
    assert any("within 5 school days" in m["text"] for m in world.fake.messages("UHEAD1"))
    notices = [json.dumps(m["blocks"]) for m in world.fake.messages(COORDINATOR_CHANNEL)]
    assert any(f"`/support visit-assign {visit.id} @name`" in t for t in notices)

    visit_assign(world, f"visit-assign {visit.id} <@USLE1|sam>", user="UHEAD2")
    assert any("Only coordinators" in t for t in world.fake.replies_to("UHEAD2"))
    visit_assign(world, f"visit-assign {visit.id}")
    assert any("Try `/support visit-assign 7 @name`" in t for t in world.fake.replies_to("UCOORD"))
    assert the_visit(world).status == VisitStatus.UNMATCHED

    visit_assign(world, f"visit-assign {visit.id} <@USLE1|sam>")
    assert any(
        f"<@USLE1> is hosting visit #{visit.id}" in t for t in world.fake.replies_to("UCOORD")
    )
    assert the_visit(world).status == VisitStatus.ACCEPTED
    assert pick(world, "2026-12-08", host="USLE1") == {}
    assert the_visit(world).status == VisitStatus.BOOKED
    visit_assign(world, f"visit-assign {visit.id} <@UNLE1|nadia>")  # a second go: refused
    assert any("already has a host" in t for t in world.fake.replies_to("UCOORD"))
    assert the_visit(world).host_id is not None and the_visit(world).status == VisitStatus.BOOKED


def test_visit_assign_outside_the_hosting_rules_needs_override(world: SlackWorld) -> None:
    ask(world)
    visit = the_visit(world)
    visit_assign(world, f"visit-assign {visit.id} <@USLE2|sally>")
    assert any("doesn't host visits" in t for t in world.fake.replies_to("UCOORD"))
    assert the_visit(world).status == VisitStatus.OFFERED
    visit_assign(world, f"visit-assign {visit.id} <@USLE2|sally> override")
    assert any("rules set aside" in t for t in world.fake.replies_to("UCOORD"))
    assert the_visit(world).status == VisitStatus.ACCEPTED
    with world.runtime.sessions() as session:
        statuses = {o.status for o in session.exec(select(VisitOffer))}
    assert statuses == {OfferStatus.WITHDRAWN, OfferStatus.ACCEPTED}
    assert dm_with(world, "USLE2", "visit_pick_date")
