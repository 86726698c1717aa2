"""A Teams-only deployment (no Slack settings at all) runs the whole life of a request: a head
asks in a chat, a Teams NLE accepts, check-ins reach both in their 1:1 chats and are answered
on the cards, and the weekly digest is posted to the coordinators' channel."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.digest.jobs import send_due_digest
from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from storage.models import CheckIn, Deployment, Offer
from tests.handlers.teams.conftest import COORDINATORS_CHANNEL, HEAD, NLE
from tests.handlers.teams.test_teams_flows import (
    card_texts,
    fake,
    head_posts,
    press,
    requests,
)


def test_the_whole_life_of_a_request_on_teams_alone(teams_only: SlackWorld) -> None:
    world = teams_only
    head_chat = head_posts(world)["conversation"]["id"]
    [request] = requests(world)
    press(world, HEAD, "request_confirm", request.id)
    with world.runtime.sessions() as session:
        offers = list(session.exec(select(Offer).where(Offer.request_id == request.id)))
    nle_chat = fake(world).personal_conversation(NLE)
    assert nle_chat is not None and offers
    nle_offer = next(o for o in offers if fake(world).messages(nle_chat))
    for offer in offers:
        answer = press(world, NLE, "offer_accept", offer.id)
        if "it's yours" in answer["value"]:
            nle_offer = offer
            break
    with world.runtime.sessions() as session:
        deployment = session.exec(select(Deployment)).one()
        checkin = session.exec(select(CheckIn)).one()
    assert deployment.supporter_id == nle_offer.supporter_id
    assert "supporting you" in card_texts(fake(world).messages(head_chat)[-1]) or any(
        "supporting" in card_texts(m) for m in fake(world).messages(head_chat)
    )

    world.clock.set(checkin.due_at)
    run_due(world.runtime)
    world.settle()
    asked = [m for m in fake(world).messages(nle_chat) if "How is the support" in card_texts(m)]
    assert asked, "the supporter's check-in arrived in their chat"
    assert "noted" in press(world, NLE, "checkin_on_track", checkin.id)["value"]
    assert "noted" in press(world, HEAD, "checkin_on_track", checkin.id)["value"]
    with world.runtime.sessions() as session:
        assert session.get(CheckIn, checkin.id).status == "answered"  # type: ignore[union-attr]

    world.clock.set(world.clock.now() + timedelta(days=7))  # a week on: the next digest
    assert send_due_digest(world.runtime) == 1
    world.settle()
    posted = [card_texts(m) for m in fake(world).messages(COORDINATORS_CHANNEL)]
    weeks = [text.splitlines()[0] for text in posted if text.startswith("Weekly digest")]
    # The check-in's run also sent that week's digest (due at 08:00); each week's once.
    assert weeks == [
        "Weekly digest: week of 30 November 2026",
        "Weekly digest: week of 7 December 2026",
    ]
    assert world.fake.calls == []  # nothing went to Slack
