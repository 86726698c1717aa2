"""Helpers for the programme's flows on Teams (issue 13): a deployment between a Teams head and
a Teams NLE, and finding cards, buttons and inputs in what the fake Bot Connector received."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from storage.models import Deployment, DeploymentPlan, Person
from tests.handlers.teams.conftest import HEAD, NLE
from tests.handlers.teams.test_teams_flows import fake, head_posts, offers, press, requests


def person_id(world: SlackWorld, teams_id: str) -> int:
    with world.runtime.sessions() as session:
        person = session.exec(select(Person).where(Person.teams_user_id == teams_id)).one()
        return int(person.id or 0)


def deployed(world: SlackWorld, text: str | None = None) -> int:
    """Hannah (Teams) asks, Nadia (Teams) accepts, the due work runs: the deployment id."""
    head_posts(world, text) if text else head_posts(world)
    [request] = requests(world)
    press(world, HEAD, "request_confirm", request.id)
    nadia = person_id(world, NLE)
    [offer] = [o for o in offers(world, request.id) if o.supporter_id == nadia]
    assert "it's yours" in press(world, NLE, "offer_accept", offer.id)["value"]
    run_due(world.runtime)
    world.settle()
    with world.runtime.sessions() as session:
        return int(session.exec(select(Deployment)).one().id or 0)


def plan(world: SlackWorld) -> DeploymentPlan:
    with world.runtime.sessions() as session:
        return session.exec(select(DeploymentPlan)).one()


def buttons(content: Any) -> list[dict[str, Any]]:
    """Every `Action.Execute` on a card, those inside unfolding forms too, in order."""
    found: list[dict[str, Any]] = []
    if isinstance(content, dict):
        if content.get("type") == "Action.Execute":
            found.append(content)
        for item in content.values():
            found.extend(buttons(item))
    elif isinstance(content, list):
        for item in content:
            found.extend(buttons(item))
    return found


def actions_on(content: Any) -> list[str]:
    return [b["data"]["action"] for b in buttons(content)]


def chat_of(world: SlackWorld, aad: str) -> str:
    chat = fake(world).personal_conversation(aad)
    assert chat is not None, f"{aad} has no chat with the bot"
    return str(chat)


def cards_to(world: SlackWorld, aad: str) -> list[dict[str, Any]]:
    """The cards in `aad`'s 1:1 chat with the bot, as they stand now, oldest first."""
    return [
        m["attachments"][0]["content"]
        for m in fake(world).messages(chat_of(world, aad))
        if m.get("attachments")
    ]


def card_with(world: SlackWorld, aad: str, action: str) -> dict[str, Any]:
    """The latest card to `aad` carrying a button `action`."""
    found = [c for c in cards_to(world, aad) if action in actions_on(c)]
    assert found, f"no card to {aad} has {action}: {[actions_on(c) for c in cards_to(world, aad)]}"
    return found[-1]


def value_of(content: Any, action: str) -> str:
    """The value of the button `action` on a card."""
    [value] = {b["data"]["value"] for b in buttons(content) if b["data"]["action"] == action}
    return str(value)


def press_on_card(world: SlackWorld, aad: str, action: str, **inputs: Any) -> Any:
    """Press the button `action` on the latest card to `aad` holding it, with these inputs."""
    value = value_of(card_with(world, aad, action), action)
    return press(world, aad, action, value, **inputs)


def answer_card(answer: dict[str, Any]) -> dict[str, Any]:
    """The card an invoke answered with (a form, or what was saved)."""
    assert answer["type"] == "application/vnd.microsoft.card.adaptive", answer
    content: dict[str, Any] = answer["value"]
    return content


def message_with(world: SlackWorld, aad: str, action: str) -> dict[str, Any]:
    """The latest message (with its id) in `aad`'s 1:1 chat holding a button `action`."""
    found = [
        m
        for m in fake(world).messages(chat_of(world, aad))
        if m.get("attachments") and action in actions_on(m["attachments"][0]["content"])
    ]
    assert found, f"no message to {aad} has {action}"
    return found[-1]


def press_in_message(
    world: SlackWorld, aad: str, message: dict[str, Any], action: str, **inputs: Any
) -> Any:
    """Press `action` on that message's card, as Teams does (the invoke names the message)."""
    value = value_of(message["attachments"][0]["content"], action)
    activity = fake(world).card_action(
        {"action": action, "value": value, **inputs},
        user=f"29:{aad[:8]}",
        aad=aad,
        reply_to=str(message["id"]),
    )
    response = world.teams_send(activity)
    assert response.status_code == 200
    world.settle()
    return response.json()
