"""The inline forms on Teams cards, driven through `/api/messages`: a head new to the directory
gives their school's details on the request card, and a head edits a request's description."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bot.directory.people import has_role
from bot.entry.stand_in import SlackWorld
from storage.models import AuditEntry, Person, School, SupportRequest
from tests.handlers.teams.conftest import HEAD, NLE, teams_user
from tests.handlers.teams.programme import person_id
from tests.handlers.teams.test_teams_flows import (
    SEND_REQUEST,
    card_texts,
    fake,
    head_posts,
    offers,
    press,
    requests,
)

NEWCOMER = "55555555-5555-4555-8555-555555555555"  # a head on Teams, not in the directory
SCHOOL = {"school": "Ash Tree Primary", "urn": "123456", "phase": "primary", "region": "London"}


def newcomer_posts(world: SlackWorld) -> tuple[SupportRequest, str]:
    """The newcomer's request (waiting for their school) and their chat with the bot."""
    activity = fake(world).message(SEND_REQUEST, user=teams_user(NEWCOMER), aad=NEWCOMER)
    assert world.teams_send(activity).status_code == 200
    world.settle()
    [request] = requests(world)
    return request, activity["conversation"]["id"]


def card_of(message: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = message["attachments"][0]["content"]
    return content


def inputs(content: Any) -> dict[str, dict[str, Any]]:
    """Every input on a card (those inside an unfolding form too), by id."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(content, dict):
        if str(content.get("type", "")).startswith("Input."):
            found[content["id"]] = content
        for item in content.values():
            found.update(inputs(item))
    elif isinstance(content, list):
        for item in content:
            found.update(inputs(item))
    return found


def newcomer(world: SlackWorld) -> Person | None:
    with world.runtime.sessions() as session:
        return session.exec(select(Person).where(Person.teams_user_id == NEWCOMER)).first()


def newcomer_is_head(world: SlackWorld) -> bool:
    with world.runtime.sessions() as session:
        return has_role(session, NEWCOMER, "head")


def schools_named(world: SlackWorld, name: str) -> list[School]:
    with world.runtime.sessions() as session:
        return list(session.exec(select(School).where(School.name == name)))


def test_a_newcomer_is_asked_for_their_school_on_the_card(teams: SlackWorld) -> None:
    request, chat = newcomer_posts(teams)
    assert request.awaiting_profile
    [reply] = fake(teams).messages(chat)
    content = card_of(reply)
    assert {"school", "urn", "phase", "region"} <= set(inputs(content))
    phases = [c["value"] for c in inputs(content)["phase"]["choices"]]
    assert "primary" in phases and "special" in phases
    assert "Save school details" in card_texts(reply)
    assert "Find support" not in card_texts(reply)


def test_school_details_release_the_request(teams: SlackWorld) -> None:
    request, chat = newcomer_posts(teams)
    answer = press(teams, NEWCOMER, "request_profile", request.id, **SCHOOL)
    assert "noted your school" in answer["value"]
    [after] = requests(teams)
    person = newcomer(teams)
    [school] = schools_named(teams, "Ash Tree Primary")
    assert not after.awaiting_profile and after.school_id == school.id
    assert (school.urn, school.phase, school.region) == ("123456", "primary", "London")
    assert person is not None and person.school_id == school.id and newcomer_is_head(teams)
    [card] = fake(teams).messages(chat)  # the same card, updated in place
    assert "Find support" in card_texts(card) and "school" not in inputs(card_of(card))
    assert press(teams, NEWCOMER, "request_confirm", request.id)["statusCode"] == 200
    assert offers(teams, request.id)


def test_missing_school_details_are_named_and_change_nothing(teams: SlackWorld) -> None:
    request, _ = newcomer_posts(teams)
    answer = press(teams, NEWCOMER, "request_profile", request.id, school=" ", urn="12")
    assert "name of your school" in answer["value"]
    assert "phase" in answer["value"] and "region" in answer["value"]
    assert "URN is six digits" in answer["value"]
    [after] = requests(teams)
    person = newcomer(teams)
    assert after.awaiting_profile and after.school_id is None
    assert person is not None and person.school_id is None and not newcomer_is_head(teams)


def test_only_the_head_who_asked_can_give_the_school_details(teams: SlackWorld) -> None:
    request, _ = newcomer_posts(teams)
    answer = press(teams, HEAD, "request_profile", request.id, **SCHOOL)
    assert "Only the head who asked" in answer["value"]
    [after] = requests(teams)
    assert after.awaiting_profile
    assert schools_named(teams, "Ash Tree Primary") == []


def test_the_edit_form_is_on_the_card_filled_in(teams: SlackWorld) -> None:
    activity = head_posts(teams)
    [reply] = fake(teams).messages(activity["conversation"]["id"])
    box = inputs(card_of(reply))["description"]
    assert box["value"] == SEND_REQUEST and box["isMultiline"]
    assert "Edit" in card_texts(reply) and "Save" in card_texts(reply)


def test_an_edit_is_saved_and_the_open_offers_follow(teams: SlackWorld) -> None:
    head_posts(teams)
    [request] = requests(teams)
    press(teams, HEAD, "request_confirm", request.id)
    edited = "We need help with SEND: a new SENCO starts in May and needs a mentor"
    answer = press(teams, HEAD, "request_edit", request.id, description=edited)
    assert "updated" in answer["value"]
    [after] = requests(teams)
    assert after.description == edited and after.status == "offered"
    nle_chat = fake(teams).personal_conversation(NLE)
    assert nle_chat is not None
    [offer_card] = fake(teams).messages(nle_chat)
    assert "new SENCO starts in May" in card_texts(offer_card)


def test_an_edit_saved_after_acceptance_says_whom_to_message(teams: SlackWorld) -> None:
    """The head pressed *Save* on a card that still had *Edit* when Nadia accepted: nothing
    changes, and the answer says the request is with Nadia, who can be messaged directly."""
    head_posts(teams)
    [request] = requests(teams)
    press(teams, HEAD, "request_confirm", request.id)
    nadia = person_id(teams, NLE)
    [offer] = [o for o in offers(teams, request.id) if o.supporter_id == nadia]
    press(teams, NLE, "offer_accept", offer.id)
    edited = "We need help with SEND: a new SENCO starts in May and needs a mentor"
    answer = press(teams, HEAD, "request_edit", request.id, description=edited)
    assert "Nadia Leader has already accepted this request" in answer["value"]
    assert "message them directly" in answer["value"]
    [after] = requests(teams)
    assert after.description == SEND_REQUEST and after.status == "accepted"


def test_a_bad_or_unallowed_edit_changes_nothing(teams: SlackWorld) -> None:
    head_posts(teams)
    [request] = requests(teams)
    short = press(teams, HEAD, "request_edit", request.id, description="help")
    assert "say a little more" in short["value"]
    other = press(teams, NLE, "request_edit", request.id, description="x" * 40)
    assert "Only the head who asked" in other["value"]
    [after] = requests(teams)
    assert after.description == SEND_REQUEST
    with teams.runtime.sessions() as session:
        refused = session.exec(select(AuditEntry.action).where(AuditEntry.actor == NLE)).all()
    assert "request.edit.refused" in refused


def test_a_known_urn_finds_the_school_whatever_it_is_called(teams: SlackWorld) -> None:
    request, _ = newcomer_posts(teams)
    details = {**SCHOOL, "school": "Mere Green", "urn": "103413"}
    press(teams, NEWCOMER, "request_profile", request.id, **details)
    [known] = schools_named(teams, "Mere Green Primary School")
    person = newcomer(teams)
    assert person is not None and person.school_id == known.id
    assert schools_named(teams, "Mere Green") == []
