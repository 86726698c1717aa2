"""`/api/messages` driven with the activities Teams sends, against the fake Bot Connector:
requests from chats and channels, the card buttons, installation, and Slack and Teams people
working on one request."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlmodel import col, select

from bot.core.errors import Conflict
from bot.entry.stand_in import SlackWorld
from bot.reach.conversations import conversation_with
from handlers.slack.stand_in.signing import block_actions_payload
from handlers.teams.auth import FAILED_REFRESH_COOLDOWN_SECONDS
from handlers.teams.listeners import actions
from handlers.teams.listeners.common import BUSY
from handlers.teams.sender import IN_DOUBT_RESENT
from storage.models import Deployment, Offer, OutboxMessage, SupportRequest, TeamsConversationRef
from tests.handlers.teams.conftest import HEAD, NLE, teams_user
from tests.support.logs import bot_log

SEND_REQUEST = "We need help with SEND: our SENCO has left and we are struggling"


def fake(world: SlackWorld) -> Any:
    assert world.teams is not None
    return world.teams


def requests(world: SlackWorld) -> list[SupportRequest]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(SupportRequest).order_by(col(SupportRequest.id))))


def offers(world: SlackWorld, request_id: int) -> list[Offer]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(Offer).where(Offer.request_id == request_id)))


def head_posts(world: SlackWorld, text: str = SEND_REQUEST) -> dict[str, Any]:
    activity = fake(world).message(text, user=teams_user(HEAD), aad=HEAD)
    assert world.teams_send(activity).status_code == 200
    world.settle()
    return activity


def press(world: SlackWorld, aad: str, action: str, value: int | str, **data: Any) -> Any:
    """Press a card button as the Teams user `aad`; the invoke's answer."""
    activity = fake(world).card_action(
        {"action": action, "value": str(value), **data}, user=teams_user(aad), aad=aad
    )
    response = world.teams_send(activity)
    assert response.status_code == 200
    world.settle()
    return response.json()


def card_texts(message: dict[str, Any]) -> str:
    """Every text on a Bot Connector message (its cards included), as one string."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("text", "title", "value") and isinstance(item, str):
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(message)
    return "\n".join(found)


def test_a_chat_message_becomes_one_request_and_the_card_comes_back(teams: SlackWorld) -> None:
    activity = head_posts(teams)
    assert teams.teams_send(activity).status_code == 200  # Teams delivers it again
    teams.settle()
    [request] = requests(teams)
    assert request.requester_id is not None and request.status == "open"
    conversation_id = activity["conversation"]["id"]
    [reply] = fake(teams).messages(conversation_id)
    assert "Find support" in card_texts(reply)
    with teams.runtime.sessions() as session:
        assert conversation_with(session, HEAD) is not None


def test_a_channel_post_is_answered_in_its_thread(teams: SlackWorld) -> None:
    activity = fake(teams).message(SEND_REQUEST, user=teams_user(HEAD), aad=HEAD, channel=True)
    assert teams.teams_send(activity).status_code == 200
    teams.settle()
    assert len(requests(teams)) == 1
    [post] = [c for c in fake(teams).connector_calls() if c.method == "POST"]
    assert post.path.endswith(f";messageid={activity['id']}/activities")


def test_installation_stores_the_reference_and_says_hello_once(teams: SlackWorld) -> None:
    activity = fake(teams).installation_update(user=teams_user(NLE), aad=NLE)
    for _ in range(2):
        assert teams.teams_send(activity).status_code == 200
        teams.settle()
    with teams.runtime.sessions() as session:
        refs = list(session.exec(select(TeamsConversationRef)))
    assert [(r.conversation_id, r.teams_user_id) for r in refs] == [
        (activity["conversation"]["id"], NLE)
    ]
    [hello] = fake(teams).messages(activity["conversation"]["id"])
    assert "school-to-school support" in card_texts(hello)


def test_help_says_what_the_bot_does_and_makes_no_request(teams: SlackWorld) -> None:
    activity = head_posts(teams, "help")
    assert requests(teams) == []
    [reply] = fake(teams).messages(activity["conversation"]["id"])
    assert "school-to-school support" in card_texts(reply)


def test_a_teams_head_is_supported_by_whoever_accepts_first(teams: SlackWorld) -> None:
    head_posts(teams)
    [request] = requests(teams)
    assert press(teams, HEAD, "request_confirm", request.id)["statusCode"] == 200
    made = offers(teams, request.id)
    nle_offer = next(o for o in made if o.supporter_id == _person_id(teams, NLE))
    nle_chat = fake(teams).personal_conversation(NLE)
    assert nle_chat is not None
    [offer_card] = fake(teams).messages(nle_chat)
    assert "Accept" in card_texts(offer_card)

    answer = press(teams, NLE, "offer_accept", nle_offer.id)
    assert "it's yours" in answer["value"]
    with teams.runtime.sessions() as session:
        deployments = list(session.exec(select(Deployment)))
    assert len(deployments) == 1
    # Every other offer, on Slack, was updated for everyone.
    updated = [c for c in teams.fake.calls_to("chat.update") if c.ok]
    assert len(updated) >= len(made) - 1


def test_a_late_accept_is_told_it_was_taken_and_changes_nothing(teams: SlackWorld) -> None:
    head_posts(teams)
    [request] = requests(teams)
    press(teams, HEAD, "request_confirm", request.id)
    made = offers(teams, request.id)
    nle_offer = next(o for o in made if o.supporter_id == _person_id(teams, NLE))
    slack_offer = next(o for o in made if o.id != nle_offer.id)
    slack_id = _slack_id(teams, slack_offer.supporter_id)
    teams.sender.interact(block_actions_payload(slack_id, "offer_accept", str(slack_offer.id)))
    teams.settle()
    answer = press(teams, NLE, "offer_accept", nle_offer.id)
    assert "it's yours" not in answer["value"]
    with teams.runtime.sessions() as session:
        assert len(list(session.exec(select(Deployment)))) == 1


def test_accept_pressed_at_once_on_slack_and_teams_leaves_one_deployment(
    teams: SlackWorld,
) -> None:
    head_posts(teams)
    [request] = requests(teams)
    press(teams, HEAD, "request_confirm", request.id)
    made = offers(teams, request.id)
    nle_offer = next(o for o in made if o.supporter_id == _person_id(teams, NLE))
    slack_offer = next(o for o in made if o.id != nle_offer.id)
    slack_id = _slack_id(teams, slack_offer.supporter_id)
    teams_click = fake(teams).card_action(
        {"action": "offer_accept", "value": str(nle_offer.id)}, user=teams_user(NLE), aad=NLE
    )
    start = threading.Barrier(2)
    statuses: list[int] = []

    def from_teams() -> None:
        start.wait()
        statuses.append(teams.teams_send(teams_click).status_code)

    def from_slack() -> None:
        start.wait()
        payload = block_actions_payload(slack_id, "offer_accept", str(slack_offer.id))
        statuses.append(teams.sender.interact(payload)[0])

    threads = [threading.Thread(target=from_teams), threading.Thread(target=from_slack)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    teams.settle()
    assert statuses == [200, 200]
    with teams.runtime.sessions() as session:
        deployments = list(session.exec(select(Deployment)))
        accepted = list(session.exec(select(Offer).where(Offer.status == "accepted")))
    assert len(deployments) == 1 and len(accepted) == 1


def test_a_forged_token_changes_nothing(teams: SlackWorld) -> None:
    activity = fake(teams).message(SEND_REQUEST, user=teams_user(HEAD), aad=HEAD)
    forged = fake(teams).sign(activity, aud="someone-else")
    assert teams.teams_send(activity, token=forged).status_code == 401
    teams.settle()
    assert requests(teams) == []
    assert fake(teams).connector_calls() == []


def test_with_microsofts_keys_unreachable_on_a_cold_start_a_request_is_refused_for_now(
    teams: SlackWorld,
) -> None:
    fake(teams).set_keys_available(False)
    activity = fake(teams).message(SEND_REQUEST, user=teams_user(HEAD), aad=HEAD)
    with bot_log("text") as lines:
        response = teams.teams_send(activity)
        teams.settle()
    assert response.status_code == 503
    assert 1 <= int(response.headers["Retry-After"]) <= FAILED_REFRESH_COOLDOWN_SECONDS
    assert requests(teams) == []
    assert fake(teams).connector_calls() == []
    logged = lines.getvalue()
    assert "signing keys unavailable" in logged
    for said in ("SENCO", activity["id"], HEAD):
        assert said not in logged


def _person_id(world: SlackWorld, teams_id: str) -> int:
    from storage.models import Person

    with world.runtime.sessions() as session:
        person = session.exec(select(Person).where(Person.teams_user_id == teams_id)).one()
        return int(person.id or 0)


def _slack_id(world: SlackWorld, person_id: int) -> str:
    from storage.models import Person

    with world.runtime.sessions() as session:
        return str(session.get(Person, person_id).slack_user_id)  # type: ignore[union-attr]


def test_a_button_teams_cannot_do_yet_says_so_and_changes_nothing(teams: SlackWorld) -> None:
    head_posts(teams)
    [request] = requests(teams)
    answer = press(teams, HEAD, "deployment_rewind", request.id)  # from a newer or older card
    assert "doesn't work in Teams yet" in answer["value"]
    with teams.runtime.sessions() as session:
        assert list(session.exec(select(Offer))) == [], "nothing was sent out"


def test_a_button_answer_is_in_teams_markdown_naming_whoever_it_mentions(
    teams: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core's answer to a button, or its refusal, with `*emphasis*` and a bare mention
    `<@id>`: Teams shows **emphasis** and the person's name, as its messages do."""

    def answers(*_: Any) -> str:
        return f"*Done*: <@{NLE}> and <@UCOORD> are told &amp; _thanked_."

    def refuses(*_: Any) -> str:
        raise Conflict(f"<@{NLE}> has *already* done it.")

    monkeypatch.setitem(actions.STEPS, "test_answers", answers)
    monkeypatch.setitem(actions.STEPS, "test_refuses", refuses)
    answer = press(teams, HEAD, "test_answers", "1")["value"]
    assert answer == "**Done**: Nadia Leader and Chris Coordinator are told & _thanked_."
    assert press(teams, HEAD, "test_refuses", "1")["value"] == (
        "Nadia Leader has **already** done it."
    )


GARBLED = [
    ("offer_accept", "99999999999999999999", {}),  # too long for an id
    ("offer_accept", "\u00b2", {}),  # a digit to str.isdigit(), not to int()
    ("request_confirm", "1\u0661", {}),  # an Arabic-Indic one
    ("deployment_log_visit", "1:\u00b2", {"days": "1"}),
    ("deployment_log_visit", "\u00b2:1", {"days": "1"}),
    ("deployment_impact_save", "1", {"rating:\u00b2": "met"}),
    ("deployment_impact_save", "1", {"rating:99999999999999999999": "met"}),
]


@pytest.mark.parametrize(("action", "value", "data"), GARBLED)
def test_a_garbled_card_value_is_answered_and_changes_nothing(
    teams: SlackWorld, action: str, value: str, data: dict[str, str]
) -> None:
    head_posts(teams)
    [request] = requests(teams)
    answer = press(teams, NLE, action, value, **data)  # asserts a 200, not a 500
    assert isinstance(answer["value"], str) and answer["value"]
    assert requests(teams)[0].status == request.status
    with teams.runtime.sessions() as session:
        assert list(session.exec(select(Offer))) == []


def test_an_unexpected_failure_is_answered_kindly_not_with_a_500(
    teams: SlackWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any) -> str:
        raise RuntimeError("a bug")

    monkeypatch.setitem(actions.ACTIONS, "offer_accept", broken)
    assert press(teams, NLE, "offer_accept", 1)["value"] == BUSY


def test_a_message_resent_after_its_answer_was_lost_is_flagged(teams: SlackWorld) -> None:
    fake(teams).lose_next_answer()  # Teams takes the head's first card; the bot hears nothing
    activity = head_posts(teams)
    with teams.runtime.sessions() as session:
        first = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).first()
    assert first is not None and first.status == "pending" and first.in_doubt
    teams.clock.advance(minutes=1)
    teams.settle()
    with teams.runtime.sessions() as session:
        resent = session.get(OutboxMessage, first.id)
    assert resent is not None and resent.status == "sent" and resent.attempts == 2
    assert resent.last_error == IN_DOUBT_RESENT, "the possible duplicate is flagged"
    chat = fake(teams).messages(activity["conversation"]["id"])
    assert len(chat) == 2 and card_texts(chat[0]) == card_texts(chat[1]), "re-sent once"
