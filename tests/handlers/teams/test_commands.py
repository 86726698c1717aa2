"""The manifest's commands in a Teams chat: `support …`, `away`/`back`, `home`; and a check-in
answered with the note typed on its card."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.entry.jobs import run_due
from bot.entry.stand_in import SlackWorld
from handlers.teams.listeners.commands import split_command
from storage.models import CheckIn, Offer, Person
from tests.handlers.teams.conftest import HEAD, NLE, teams_user
from tests.handlers.teams.test_teams_flows import card_texts, fake, head_posts, press, requests


def say(world: SlackWorld, aad: str, text: str) -> str:
    """Send `text` to the bot in `aad`'s chat; what the bot answered there, as text."""
    activity = fake(world).message(text, user=teams_user(aad), aad=aad)
    assert world.teams_send(activity).status_code == 200
    world.settle()
    return card_texts(fake(world).messages(activity["conversation"]["id"])[-1])


def test_commands_are_split_from_their_words() -> None:
    assert split_command("support: we need maths help") == ("support", "we need maths help")
    assert split_command("Away") == ("away", "")
    assert split_command("supporting readers") == (None, "supporting readers")
    assert split_command("visit-assign 7 Sam Jones") == ("visit-assign", "7 Sam Jones")
    assert split_command("visit: assign-based marking") == ("visit", "assign-based marking")
    assert split_command("  HELP? ") == ("help", "")
    assert split_command("?") == ("help", "")
    assert split_command("back.") == ("back", "")
    assert split_command("Help me with phonics") == (None, "Help me with phonics")
    assert split_command("Visit from an SLE, please") == (None, "Visit from an SLE, please")
    assert split_command("visit") == ("visit", "")
    assert split_command("support We need help") == ("support", "We need help")
    assert split_command("Support needed with phonics") == (None, "Support needed with phonics")
    assert split_command("support for our SENCO") == (None, "support for our SENCO")


FIRST_WORD_REQUESTS = [
    "Help! Our SENCO has left and we are struggling with EHCPs in KS2",
    "Home learning and attendance: PA is 25% and we need support",
    "Back-to-school attendance is a real worry, PA is 25%, can anyone help?",
    "Away days for our SLT: we need support with leadership of curriculum",
]


@pytest.mark.parametrize("text", FIRST_WORD_REQUESTS)
@pytest.mark.parametrize("channel", [False, True], ids=["chat", "channel"])
def test_a_request_that_starts_with_a_command_word_is_a_request(
    teams: SlackWorld, text: str, channel: bool
) -> None:
    activity = fake(teams).message(text, user=teams_user(HEAD), aad=HEAD, channel=channel)
    assert teams.teams_send(activity).status_code == 200
    teams.settle()
    [request] = requests(teams)
    assert request.description == text
    said = [card_texts(m) for m in fake(teams).messages(activity["conversation"]["id"])]
    assert not any("I broker" in s or "Where things stand" in s for s in said)


def test_a_supporter_writing_about_an_away_day_is_not_marked_away(teams: SlackWorld) -> None:
    say(teams, NLE, "Away day support for our middle leaders, please")
    with teams.runtime.sessions() as session:
        nadia = session.exec(select(Person).where(Person.teams_user_id == NLE)).one()
    assert nadia.available is True


def test_support_followed_by_words_is_a_request_without_the_command(teams: SlackWorld) -> None:
    head_posts(teams, "support We need help with SEND: our SENCO has left")
    [request] = requests(teams)
    assert request.description == "We need help with SEND: our SENCO has left"


REQUESTS_STARTING_WITH_SUPPORT = [
    "Support needed with phonics in Year 1",
    "support for our new SENCO, please: EHCP reviews are overdue",
    "Support with attendance - PA is 25%",
    "SUPPORT REQUESTED for KS2 maths",
]


@pytest.mark.parametrize("text", REQUESTS_STARTING_WITH_SUPPORT)
@pytest.mark.parametrize("channel", [False, True], ids=["chat", "channel"])
def test_a_request_that_begins_with_the_word_support_keeps_it(
    teams: SlackWorld, text: str, channel: bool
) -> None:
    activity = fake(teams).message(text, user=teams_user(HEAD), aad=HEAD, channel=channel)
    assert teams.teams_send(activity).status_code == 200
    teams.settle()
    [request] = requests(teams)
    assert request.description == text


@pytest.mark.parametrize(
    ("text", "asked"),
    [
        ("Support: our SENCO has left", "our SENCO has left"),
        ("support I need a mentor for our new DSL", "I need a mentor for our new DSL"),
    ],
)
def test_the_support_command_is_not_part_of_the_request(
    teams: SlackWorld, text: str, asked: str
) -> None:
    head_posts(teams, text)
    assert [r.description for r in requests(teams)] == [asked]


def test_support_alone_explains_how_to_ask(teams: SlackWorld) -> None:
    assert "I broker school-to-school support" in say(teams, HEAD, "support")
    assert requests(teams) == []


def test_away_and_back_switch_offers_off_and_on(teams: SlackWorld) -> None:
    assert "marked away" in say(teams, NLE, "away")
    with teams.runtime.sessions() as session:
        nadia = session.exec(select(Person).where(Person.teams_user_id == NLE)).one()
        assert nadia.available is False
    assert "Welcome back" in say(teams, NLE, "back")
    assert "Only supporters" in say(teams, HEAD, "away")


def test_home_says_where_things_stand(teams: SlackWorld) -> None:
    head_posts(teams)
    assert "Your requests: 1" in say(teams, HEAD, "home")


def test_a_checkin_needing_attention_takes_the_note_typed_on_the_card(
    teams: SlackWorld,
) -> None:
    head_posts(teams)
    [request] = requests(teams)
    press(teams, HEAD, "request_confirm", request.id)
    with teams.runtime.sessions() as session:
        nadia = session.exec(select(Person).where(Person.teams_user_id == NLE)).one()
        offer = session.exec(select(Offer).where(Offer.supporter_id == nadia.id)).one()
    press(teams, NLE, "offer_accept", offer.id)
    with teams.runtime.sessions() as session:
        checkin = session.exec(select(CheckIn)).one()
    teams.clock.set(checkin.due_at)
    run_due(teams.runtime)
    teams.settle()
    chat = fake(teams).personal_conversation(NLE) or ""
    [asked] = [m for m in fake(teams).messages(chat) if "How is the support" in card_texts(m)]
    card = asked["attachments"][0]["content"]
    assert any(element.get("id") == "note" for element in card["body"])
    refused = press(teams, NLE, "checkin_needs_attention", checkin.id)
    assert "what needs attention" in refused["value"]
    answer = press(teams, NLE, "checkin_needs_attention", checkin.id, note="Staffing gaps")
    assert "noted" in answer["value"]


def test_request_support_on_a_channel_message_makes_one_request(teams: SlackWorld) -> None:
    channel = "19:heads@thread.tacv2"
    action = fake(teams).message_action(
        "We need help with SEND &amp; maths", user=teams_user(HEAD), aad=HEAD, channel=channel
    )
    for _ in range(2):
        response = teams.teams_send(action)
        assert response.status_code == 200
        teams.settle()
    assert "Request #" in response.json()["task"]["value"]
    [request] = requests(teams)
    assert request.description == "We need help with SEND & maths"
    message_id = action["value"]["messagePayload"]["id"]
    [post] = [c for c in fake(teams).connector_calls() if c.method == "POST"]
    assert post.path.endswith(f";messageid={message_id}/activities")
