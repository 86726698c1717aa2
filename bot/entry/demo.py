"""`python -m bot demo`: the life of a request, played against local stand-ins for Slack and
Microsoft Teams (its Teams chapter: `bot.entry.demo_teams`).

It runs the real app — Bolt listeners, services, database, outbox — serving signed requests
on a loopback port, with `SLACK_API_URL` pointed at
`handlers.slack.stand_in.fake_slack.FakeSlack`, and prints what each person would see. No Slack
workspace or settings are needed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from sqlmodel import col, select

from bot.core.clock import FixedClock
from bot.deployments.record import records_between
from bot.directory.people import person_by_user_id
from bot.entry.demo_teams import play_teams
from bot.entry.demo_visits import play_visit
from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld, running_world
from bot.reach.people import user_id_of
from bot.requests.report import list_requests
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_event,
    view_submission_payload,
)
from handlers.slack.stand_in.transcript import describe
from storage.models import CheckIn, Deployment, DeploymentObjective, Offer, Person, SupportRequest

DIRECTORY = Path(__file__).parents[1] / "data" / "demo_directory.csv"
SUPPORT_CHANNEL = "C0SUPPORT"
COORDINATOR_CHANNEL = "G0COORDS"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning in term
REQUEST_TEXT = (
    "Morning all. Our SENCO has been signed off for the rest of term and we have six EHCP "
    "annual reviews due before Christmas. Could anyone help us get on top of SEND? "
    "KS2 maths is also a worry after this summer's results."
)


class Demo:
    """Steps of the story, each printing what changed in Slack since the last."""

    def __init__(self, world: SlackWorld, out: TextIO) -> None:
        self.world = world
        self.out = out
        self.seen = 0
        self.names = {
            SUPPORT_CHANNEL: "#school-support",
            COORDINATOR_CHANNEL: "#coordinators (private)",
        }

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def step(self, title: str, action: Callable[[], Any] | None = None) -> None:
        """Narrate, act, wait for the bot, then print what it did."""
        self.say(f"\n== {title}")
        if action is not None:
            action()
        self.world.settle()
        calls = self.world.fake.calls
        for call in calls[self.seen :]:
            for line in describe(call, self.names):
                self.say(line)
        self.seen = len(calls)

    def load_names(self) -> None:
        with self.world.runtime.sessions() as session:
            for person in session.exec(select(Person)):
                self.names[user_id_of(person)] = person.name

    def latest_request(self) -> SupportRequest:
        with self.world.runtime.sessions() as session:
            request = session.exec(
                select(SupportRequest).order_by(col(SupportRequest.id).desc())
            ).first()
        assert request is not None, "the demo request was not captured"
        return request

    def deployment_id(self) -> int:
        with self.world.runtime.sessions() as session:
            found = session.exec(select(Deployment.id).order_by(col(Deployment.id))).first()
        assert found is not None, "nobody accepted the demo request"
        return found

    def offer_for(self, request_id: int, user: str) -> Offer:
        with self.world.runtime.sessions() as session:
            person = person_by_user_id(session, user)
            assert person is not None, f"{user} is not in the directory"
            offer = session.exec(
                select(Offer).where(Offer.request_id == request_id, Offer.supporter_id == person.id)
            ).first()
        assert offer is not None, f"{user} was not offered the request"
        return offer

    def click(self, user: str, action_id: str, value: str, channel: str | None = None) -> None:
        self.world.sender.interact(
            block_actions_payload(user, action_id, value, channel_id=channel)
        )

    def fill_in(self, user: str, action_id: str, value: str, answers: dict[str, Any]) -> None:
        """Press a button that opens a form, then submit the form with `answers`
        ({block_id: state entry})."""
        self.click(user, action_id, value)
        self.world.settle()
        form = self.world.fake.calls_to("views.open")[-1].args["view"]
        values = {block: {"value": entry} for block, entry in answers.items()}
        payload = view_submission_payload(
            user, form["callback_id"], values, form["private_metadata"]
        )
        self.world.sender.interact(payload)


def play(demo: Demo) -> None:
    """The story of one request, from a head's post to an accepted deployment."""
    world = demo.world
    demo.step("The directory is loaded from a CSV", lambda: world.import_directory())
    demo.load_names()
    demo.say("    7 people: two heads, an NLE, two SLEs, a SENCO specialist and a coordinator.")

    event = message_event("UHEAD1", REQUEST_TEXT, SUPPORT_CHANNEL)
    demo.step(
        "Hannah Head (Mere Green Primary) posts in #school-support:\n    “" + REQUEST_TEXT + "”",
        lambda: world.sender.event(event),
    )
    request = demo.latest_request()
    demo.step(
        "Hannah presses [Find support]",
        lambda: demo.click("UHEAD1", "request_confirm", str(request.id), SUPPORT_CHANNEL),
    )
    offer = demo.offer_for(request.id or 0, "USLE1")
    demo.step(
        "Sam Specialist presses [Accept] in the DM",
        lambda: demo.click("USLE1", "offer_accept", str(offer.id)),
    )
    nadia = demo.offer_for(request.id or 0, "UNLE1")
    demo.step(
        "Nadia Leader presses [Accept] a moment too late",
        lambda: demo.click("UNLE1", "offer_accept", str(nadia.id)),
    )
    with world.runtime.sessions() as session:
        rows = list_requests(session)
    demo.say("\n== python -m bot requests list --json")
    demo.say(json.dumps(rows[0], indent=2, ensure_ascii=False))
    play_agreement(demo)
    play_checkin_and_digest(demo)
    play_closure(demo)
    play_visit(demo)
    play_teams(demo)


def play_checkin_and_digest(demo: Demo) -> None:
    """A week on: the weekly digest and the first check-in go out; Sam answers it."""
    world = demo.world
    with world.runtime.sessions() as session:
        checkin = session.exec(select(CheckIn).order_by(col(CheckIn.id))).first()
    assert checkin is not None, "no check-in was scheduled"

    def a_week_later() -> None:
        world.clock.set(checkin.due_at)
        run_due(world.runtime)

    demo.step(
        "A week later, Monday 30 November at 09:30: the scheduler sends the weekly digest "
        "(due at 08:00) and the first check-in",
        a_week_later,
    )
    demo.step(
        "Sam Specialist presses [On track] on the check-in",
        lambda: demo.click("USLE1", "checkin_on_track", str(checkin.id)),
    )


def _text(value: str) -> dict[str, str]:
    return {"type": "plain_text_input", "value": value}


def play_agreement(demo: Demo) -> None:
    """The next steps after acceptance: Sam drafts the agreement and Hannah confirms it."""
    world = demo.world
    demo.step(
        "The scheduler's next run sends Sam and Hannah the next steps",
        lambda: run_due(world.runtime),
    )
    deployment = demo.deployment_id()
    agreement = {
        "objectives": _text(
            "Set up a SEND register and a plan for the six EHCP reviews\n"
            "Coach the acting SENCO through the first two reviews\n"
            "Audit KS2 maths teaching and agree three priorities"
        ),
        "impact": _text("All EHCP reviews held on time; a maths plan the staff own."),
        "days": {"type": "number_input", "value": "6"},
        "review_on": {"type": "datepicker", "selected_date": "2027-01-15"},
    }
    demo.step(
        "Sam presses [Draft the agreement] and fills in the form: three objectives, the "
        "expected impact, 6 days, a review on 15 January",
        lambda: demo.fill_in("USLE1", "deployment_agreement", str(deployment), agreement),
    )
    demo.step(
        "Hannah presses [Confirm agreement]",
        lambda: demo.click("UHEAD1", "deployment_confirm_agreement", str(deployment)),
    )


def play_closure(demo: Demo) -> None:
    """Sam logs days from the check-in; Hannah closes the support and rates each objective."""
    world = demo.world
    deployment = demo.deployment_id()
    with world.runtime.sessions() as session:
        checkin = session.exec(select(CheckIn).order_by(col(CheckIn.id))).first()
        objectives = list(session.exec(select(DeploymentObjective.id).order_by("position")))
    assert checkin is not None
    visit = {"days": {"type": "number_input", "value": "3"}, "note": _text("Register set up.")}
    demo.step(
        "Sam presses [Log days and a visit note] on the check-in: 3 days, one line",
        lambda: demo.fill_in("USLE1", "deployment_log_visit", f"{deployment}:{checkin.id}", visit),
    )
    demo.step(
        "Hannah presses [Completed] on the check-in and says what difference it made",
        lambda: demo.fill_in(
            "UHEAD1",
            "checkin_completed",
            str(checkin.id),
            {"impact": _text("All six reviews were held on time.")},
        ),
    )
    demo.step("The next run asks both for the closing record", lambda: run_due(world.runtime))
    ratings: dict[str, Any] = {
        f"rating:{objective_id}": {"type": "static_select", "selected_option": {"value": rating}}
        for objective_id, rating in zip(objectives, ("met", "good", "some"), strict=False)
    }
    ratings["overall"] = _text("We are in a far stronger position. Governors have seen it.")
    demo.step(
        "Hannah presses [Rate progress]: met, good and some progress on the three objectives",
        lambda: demo.fill_in("UHEAD1", "deployment_impact", str(deployment), ratings),
    )
    with world.runtime.sessions() as session:
        [record] = records_between(session, world.runtime.settings.tz, start=None, end=None)
    demo.say("\n== python -m bot deployments export --format json  (the closing impact record)")
    demo.say(json.dumps(record, indent=2, ensure_ascii=False))


def run_demo(out: TextIO, *, story: Callable[[Demo], None] = play) -> int:
    """Play the demo story and print the transcript; returns the exit status."""
    with tempfile.TemporaryDirectory(prefix="support-demo-") as folder:
        env = {
            "SLACK_BOT_TOKEN": "xoxb-demo",
            "DATABASE_URL": f"sqlite:///{folder}/demo.db",
            "SUPPORT_CHANNEL_ID": SUPPORT_CHANNEL,
            "COORDINATOR_CHANNEL_ID": COORDINATOR_CHANNEL,
            "SCHEDULER_ENABLED": "false",
        }
        directory = DIRECTORY.read_text()
        with running_world(env, FixedClock(START), directory=directory, teams=True) as world:
            print(
                "school-support-bot demo — a local stand-in for Slack, no workspace needed.",
                file=out,
            )
            story(Demo(world, out))
            problems = [record.getMessage() for record in world.errors]
    if problems:
        print(f"error: the demo hit a problem: {problems[0]}", file=out)
        return 1
    print("\nThat's the life of a request. See README.md to run the bot for real.", file=out)
    return 0
