"""The demo's Teams chapter: people on Microsoft Teams and on Slack working on one request.

Harry Head and Priya Senco use Teams; everyone else Slack. Harry asks in a 1:1 chat with the
bot and a Slack NLE accepts; then Hannah Head asks in Slack and Priya accepts in Teams. Priya
drafts that agreement on her Teams card and Hannah confirms it in Slack; Harry confirms his in
Teams, closes the support on a Teams check-in and rates each objective on the closing card.
Teams' side is `handlers.teams.stand_in.fake_microsoft.FakeMicrosoft`, and every activity
carries a token signed like Teams', checked by the bot's production verifier.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import update
from sqlmodel import col, select

from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from handlers.slack.stand_in.signing import message_event
from handlers.teams.stand_in.transcript import card_lines, describe
from storage.models import CheckIn, Deployment, DeploymentObjective, Offer, Person, SupportRequest


class Demo(Protocol):
    """What this chapter uses of `bot.entry.demo.Demo`."""

    world: SlackWorld
    names: dict[str, str]

    def say(self, text: str) -> None: ...

    def step(self, title: str, action: Callable[[], Any] | None = None) -> None: ...

    def click(self, user: str, action_id: str, value: str, channel: str | None = None) -> None: ...

    def fill_in(self, user: str, action_id: str, value: str, answers: dict[str, Any]) -> None: ...


ON_TEAMS = {  # slack id in the demo directory -> their Entra object id
    "UHEAD2": "0a1b2c3d-0000-4000-8000-0000000000a2",
    "USPEC1": "0a1b2c3d-0000-4000-8000-0000000000c1",
}
TEAMS_REQUEST = (
    "We're a secondary with a new maths department this year and Year 7 results have dipped. "
    "Could an experienced maths leader help us plan the next two terms?"
)
SLACK_REQUEST = (
    "Our new SENCO would value some mentoring on SEND provision and writing EHCP reviews."
)


def play_teams(demo: Demo) -> None:
    """Teams head → Slack NLE, then Slack head → Teams specialist."""
    world, teams = demo.world, demo.world.teams
    assert teams is not None
    demo.say("\n\n=== Microsoft Teams: the same bot, people on either platform ===")
    _move_to_teams(demo)
    for aad in ON_TEAMS.values():  # the admin's setup policy installed the app for them
        world.teams_send(teams.installation_update(user=f"29:{aad[:8]}", aad=aad))
    harry = ON_TEAMS["UHEAD2"]
    chat = teams.message(TEAMS_REQUEST, user="29:harry", aad=harry)
    names = {
        teams.personal_conversation(ON_TEAMS["UHEAD2"]) or "": "Harry's 1:1 chat with the bot",
        teams.personal_conversation(ON_TEAMS["USPEC1"]) or "": "Priya's 1:1 chat with the bot",
    }
    teams_step(
        demo,
        names,
        "Harry Head (Castle Vale Academy) asks in a Teams chat:\n    “" + TEAMS_REQUEST + "”",
        lambda: world.teams_send(chat),
    )
    request = _latest_request(demo)
    teams_step(
        demo,
        names,
        "Harry presses [Find support] on the card in Teams",
        lambda: _press(demo, harry, "request_confirm", request.id),
    )
    offer = _first_open_offer(demo, request.id, platform="slack")
    supporter = _slack_id(demo, offer.supporter_id)
    teams_step(
        demo,
        names,
        f"{demo.names.get(supporter, supporter)} presses [Accept] in Slack",
        lambda: demo.click(supporter, "offer_accept", str(offer.id)),
    )

    event = message_event("UHEAD1", SLACK_REQUEST, "C0SUPPORT")
    teams_step(
        demo,
        names,
        "Hannah Head posts in #school-support (Slack):\n    “" + SLACK_REQUEST + "”",
        lambda: world.sender.event(event),
    )
    second = _latest_request(demo)
    teams_step(
        demo,
        names,
        "Hannah presses [Find support] in Slack",
        lambda: demo.click("UHEAD1", "request_confirm", str(second.id), "C0SUPPORT"),
    )
    priya = ON_TEAMS["USPEC1"]
    priya_offer = _offer_to(demo, second.id, priya)
    teams_step(
        demo,
        names,
        "Priya Senco presses [Accept] on the card in Teams",
        lambda: _press(demo, priya, "offer_accept", priya_offer.id),
    )
    play_teams_programme(demo, names, harry_request=request.id or 0, supporter=supporter)


AGREEMENT = {
    "objectives": "Plan the Year 7 maths curriculum for spring and summer\n"
    "Coach the new head of maths through two lesson studies",
    "impact": "Year 7 assessments back in line with last year's",
    "days": "4",
}


def play_teams_programme(
    demo: Demo, names: dict[str, str], *, harry_request: int, supporter: str
) -> None:
    """The agreement drafted on a Teams card, confirmed in Teams, and closing ratings in Teams."""
    world = demo.world
    teams_step(
        demo,
        names,
        "The scheduler's next run sends both pairs their next steps",
        lambda: run_due(world.runtime),
    )
    priya, harry = ON_TEAMS["USPEC1"], ON_TEAMS["UHEAD2"]
    hannahs = _deployment_of(demo, _latest_request(demo).id or 0)
    priya_agreement = {**AGREEMENT, "objectives": "Mentor the new SENCO through two EHCP reviews"}
    teams_step(
        demo,
        names,
        "Priya unfolds [Draft the agreement] on her Teams card, fills it in and presses "
        "[Save and send to the head]",
        lambda: _press(demo, priya, "deployment_agreement", hannahs, **priya_agreement),
    )
    teams_step(
        demo,
        names,
        "Hannah presses [Confirm agreement] in Slack",
        lambda: demo.click("UHEAD1", "deployment_confirm_agreement", str(hannahs)),
    )
    harrys = _deployment_of(demo, harry_request)
    slack_agreement = {
        "objectives": {"type": "plain_text_input", "value": AGREEMENT["objectives"]},
        "impact": {"type": "plain_text_input", "value": AGREEMENT["impact"]},
        "days": {"type": "number_input", "value": AGREEMENT["days"]},
    }
    teams_step(
        demo,
        names,
        f"{demo.names.get(supporter, supporter)} drafts the agreement for Castle Vale in Slack",
        lambda: demo.fill_in(supporter, "deployment_agreement", str(harrys), slack_agreement),
    )
    teams_step(
        demo,
        names,
        "Harry presses [Confirm agreement] on the card in Teams",
        lambda: _press(demo, harry, "deployment_confirm_agreement", harrys),
    )
    play_teams_closure(demo, names, harrys)


def play_teams_closure(demo: Demo, names: dict[str, str], deployment_id: int) -> None:
    """Harry closes the support on a Teams check-in and rates each objective on the card."""
    world = demo.world
    harry = ON_TEAMS["UHEAD2"]
    with world.runtime.sessions() as session:
        checkin = session.exec(
            select(CheckIn).where(CheckIn.deployment_id == deployment_id)
        ).first()
        objectives = list(
            session.exec(
                select(DeploymentObjective.id)
                .where(DeploymentObjective.deployment_id == deployment_id)
                .order_by(col(DeploymentObjective.position))
            )
        )
    assert checkin is not None, "no check-in was scheduled for Castle Vale"

    def at_the_checkin() -> None:
        world.clock.set(checkin.due_at)
        run_due(world.runtime)

    teams_step(demo, names, "A week on, the check-in reaches Harry in Teams", at_the_checkin)
    teams_step(
        demo,
        names,
        "Harry writes what difference it made and presses [Completed]",
        lambda: _press(
            demo,
            harry,
            "checkin_completed",
            checkin.id,
            note="Year 7 assessments are back on track.",
        ),
    )
    teams_step(
        demo, names, "The next run asks both for the closing record", lambda: run_due(world.runtime)
    )
    play_teams_ratings(demo, names, deployment_id, objectives)


def play_teams_ratings(
    demo: Demo, names: dict[str, str], deployment_id: int, objectives: list[int | None]
) -> None:
    """Harry gives the closing ratings on the Teams card; the record shows them."""
    world = demo.world
    harry = ON_TEAMS["UHEAD2"]
    teams_step(
        demo,
        names,
        "Harry presses [Rate progress]: the card becomes the form, one rating per objective",
        lambda: _show_answer(demo, names, _press(demo, harry, "deployment_impact", deployment_id)),
    )
    ratings = {f"rating:{o}": r for o, r in zip(objectives, ("met", "good"), strict=False)}
    teams_step(
        demo,
        names,
        "Harry chooses Met and Good progress, adds a comment and presses [Save]",
        lambda: _show_answer(
            demo,
            names,
            _press(
                demo,
                harry,
                "deployment_impact_save",
                deployment_id,
                overall="Our maths team has a plan it owns.",
                **ratings,
            ),
        ),
    )
    with world.runtime.sessions() as session:
        rated = session.exec(
            select(DeploymentObjective)
            .where(DeploymentObjective.deployment_id == deployment_id)
            .order_by(col(DeploymentObjective.position))
        ).all()
        lines = [f"    {o.position}. {o.text}: {o.rating}" for o in rated]
    demo.say("\n== The closing ratings recorded from Teams")
    for line in lines:
        demo.say(line)


def _show_answer(demo: Demo, names: dict[str, str], response: Any) -> None:
    """Print the card an invoke answered with (a form, or what was saved) as Teams shows it."""
    answer = response.json()
    if answer.get("type") == "application/vnd.microsoft.card.adaptive":
        demo.say("  Teams: the card in Harry's 1:1 chat becomes:")
        for line in card_lines(answer["value"]):
            demo.say(f"      {line}")
        fields = _input_ids(answer["value"])
        if fields:
            demo.say("      inputs: " + ", ".join(fields))
    else:
        demo.say(f"  Teams: Harry sees: {answer.get('value')}")


def _input_ids(element: Any) -> list[str]:
    if isinstance(element, list):
        return [i for item in element for i in _input_ids(item)]
    if not isinstance(element, dict):
        return []
    own = [str(element["id"])] if str(element.get("type", "")).startswith("Input.") else []
    return own + [i for value in element.values() for i in _input_ids(value)]


def _deployment_of(demo: Demo, request_id: int) -> int:
    with demo.world.runtime.sessions() as session:
        found = session.exec(select(Deployment.id).where(Deployment.request_id == request_id)).one()
    return int(found or 0)


def teams_step(demo: Demo, names: dict[str, str], title: str, action: Any) -> None:
    """A demo step that also prints what the bot said in Teams."""
    teams = demo.world.teams
    assert teams is not None
    before = len(teams.calls)
    demo.step(title, action)
    for call in teams.calls[before:]:
        for line in describe(call, names):
            demo.say(line)


def _move_to_teams(demo: Demo) -> None:
    with demo.world.runtime.sessions() as session:
        for slack_id, teams_id in ON_TEAMS.items():
            session.execute(
                update(Person)
                .where(Person.slack_user_id == slack_id)  # type: ignore[arg-type]  # SQL expression
                .values(slack_user_id=None, teams_user_id=teams_id, preferred_platform="teams")
            )
        session.commit()
    demo.say(
        "    Harry Head and Priya Senco now use Teams (their Entra object ids are in the "
        "directory); everyone else stays on Slack."
    )


def _press(demo: Demo, aad: str, action: str, value: int | None, **inputs: str) -> Any:
    """Press a card button in Teams, with the card's input values."""
    teams = demo.world.teams
    assert teams is not None
    click = teams.card_action(
        {"action": action, "value": str(value), **inputs}, user=f"29:{aad[:8]}", aad=aad
    )
    return demo.world.teams_send(click)


def _latest_request(demo: Demo) -> SupportRequest:
    with demo.world.runtime.sessions() as session:
        request = session.exec(
            select(SupportRequest).order_by(SupportRequest.id.desc())  # type: ignore[union-attr]  # a column
        ).first()
    assert request is not None
    return request


def _first_open_offer(demo: Demo, request_id: int | None, *, platform: str) -> Offer:
    with demo.world.runtime.sessions() as session:
        for offer in session.exec(select(Offer).where(Offer.request_id == request_id)):
            person = session.get(Person, offer.supporter_id)
            if person is not None and (person.slack_user_id is not None) == (platform == "slack"):
                return offer
    raise AssertionError(f"nobody on {platform} was offered request {request_id}")


def _offer_to(demo: Demo, request_id: int | None, teams_id: str) -> Offer:
    with demo.world.runtime.sessions() as session:
        person = session.exec(select(Person).where(Person.teams_user_id == teams_id)).one()
        offer = session.exec(
            select(Offer).where(Offer.request_id == request_id, Offer.supporter_id == person.id)
        ).first()
    assert offer is not None, "Priya was not offered the request"
    return offer


def _slack_id(demo: Demo, person_id: int) -> str:
    with demo.world.runtime.sessions() as session:
        person = session.get(Person, person_id)
        return str(person.slack_user_id if person else "")
