"""Reaching people where they are: ids, platform choice, addresses and neutral mentions."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.directory.people import ensure_person, person_by_user_id
from bot.reach.people import (
    address_of,
    is_user,
    mention,
    platform_for,
    platform_of,
    user_id_of,
)
from storage.db import SessionFactory, transaction
from storage.models import Person, Platform

TEAMS_ID = "6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f"


def person(slack: str | None, teams: str | None, preferred: Platform | None = None) -> Person:
    return Person(slack_user_id=slack, teams_user_id=teams, preferred_platform=preferred, name="A")


@pytest.mark.parametrize(
    ("who", "platform", "address"),
    [
        (person("U1", None), Platform.SLACK, "U1"),
        (person(None, TEAMS_ID), Platform.TEAMS, TEAMS_ID),
        (person("U1", TEAMS_ID), Platform.SLACK, "U1"),
        (person("U1", TEAMS_ID, Platform.TEAMS), Platform.TEAMS, TEAMS_ID),
        (person("U1", TEAMS_ID, Platform.SLACK), Platform.SLACK, "U1"),
        (person("U1", None, Platform.TEAMS), Platform.SLACK, "U1"),  # no Teams id: Slack
        (person(None, TEAMS_ID, Platform.SLACK), Platform.TEAMS, TEAMS_ID),
    ],
)
def test_each_person_is_reached_on_their_platform(
    who: Person, platform: Platform, address: str
) -> None:
    assert platform_for(who) == platform
    assert address_of(who) == address
    assert platform_of(address) == platform


@pytest.mark.parametrize(
    ("address", "platform"),
    [
        ("C0SUPPORT", Platform.SLACK),
        ("G0COORD", Platform.SLACK),
        ("U0HEAD", Platform.SLACK),
        (TEAMS_ID, Platform.TEAMS),
        (TEAMS_ID.upper(), Platform.TEAMS),
        ("19:abc@thread.tacv2", Platform.TEAMS),
        ("a:1xYz", Platform.TEAMS),
    ],
)
def test_an_address_says_its_platform_by_its_shape(address: str, platform: Platform) -> None:
    assert platform_of(address) == platform


def test_the_core_names_people_by_slack_id_first_and_knows_them_by_either() -> None:
    both = person("U1", TEAMS_ID)
    assert user_id_of(both) == "U1"
    assert user_id_of(person(None, TEAMS_ID)) == TEAMS_ID
    assert is_user(both, "U1") and is_user(both, TEAMS_ID)
    assert not is_user(both, "U2") and not is_user(both, None) and not is_user(None, "U1")
    assert not is_user(person("U1", None), "")
    assert is_user(both, TEAMS_ID.upper())  # an Entra object id in capitals is the same id


def test_a_mention_carries_the_id_and_the_escaped_name() -> None:
    anna = Person(slack_user_id=None, teams_user_id=TEAMS_ID, name="Anna <b> | Co")
    assert mention(anna) == f"<@{TEAMS_ID}|Anna &lt;b&gt; / Co>"


def test_a_teams_user_speaking_first_is_added_with_their_teams_id(
    sessions: SessionFactory, clock: FixedClock
) -> None:
    with transaction(sessions) as session:
        ensure_person(session, TEAMS_ID, name="Cara", now=clock.now())
        ensure_person(session, "U0SLACK", name="Dev", now=clock.now())
    with sessions() as session:
        cara = person_by_user_id(session, TEAMS_ID)
        assert cara is not None and cara.slack_user_id is None and cara.name == "Cara"
        dev = person_by_user_id(session, "U0SLACK")
        assert dev is not None and dev.teams_user_id is None
        assert person_by_user_id(session, "") is None
        assert person_by_user_id(session, TEAMS_ID.upper()) is cara
        assert len(session.exec(select(Person)).all()) == 2
