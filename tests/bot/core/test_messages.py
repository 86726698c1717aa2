"""Neutral message views survive the outbox as JSON, and hold only what they show."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from bot.checkins.views import AnswerView, CheckinMessage, CheckinView
from bot.core.messages import Action, Card, Confirm, UnknownView, decode_view, encode_view
from bot.digest.views import (
    CoordinatorDigest,
    CoordinatorDigestMessage,
    DeploymentItem,
    DigestWeek,
    RequestItem,
)
from bot.insight.service import Headline
from bot.requests.views import CoordinatorAlert, RequestSummary
from bot.routing.views import AssignedNotice, OfferInvitation

AT = datetime(2026, 11, 23, 9, tzinfo=UTC)


def summary() -> RequestSummary:
    return RequestSummary(
        id=7,
        status="offered",
        title="Phonics: our results fell",
        description="Our Year 1 phonics check results fell & we need <help>.",
        tags=(("phonics", "Phonics"), ("send", "SEND")),
        urgency="soon",
        preferred_start=date(2027, 1, 4),
        school="Mere Green Primary School",
        phase="primary",
        region=None,
        requester="UHEAD1",
        assigned_to=None,
        awaiting_profile=False,
        source="modal",
        created_at=AT,
    )


def stored(view: object) -> object:
    """`view` as it comes back out of the outbox's JSON column."""
    return decode_view(json.loads(json.dumps(encode_view(view))))


def test_an_offer_invitation_comes_back_whole() -> None:
    view = OfferInvitation(summary(), 3, "phonics lead", True, None, "Europe/London")
    assert encode_view(view)["name"] == "routing.offer_invitation"
    assert stored(view) == view


def test_nested_views_with_lists_dates_and_floats_come_back_whole() -> None:
    week = DigestWeek(date(2026, 11, 23), AT, AT, AT, AT)
    item = RequestItem(7, None, ("Phonics",), "offered", AT, None, 2, 1, False)
    deployment = DeploymentItem(
        4, 7, "Mere Green", ("SEND",), 2, "Sam", 1, "Hannah", "active", AT, None,
        "on_track", AT, 14, False, None,
    )  # fmt: skip
    headline = Headline("Autumn term", 5, 3, 2.5, None, 1, 0, 2, ("Maths in the north",))
    digest = CoordinatorDigest(week, new_requests=[item], active=[deployment], headline=headline)
    view = CoordinatorDigestMessage(digest, "Europe/London")
    back = stored(view)
    assert back == view
    assert (
        isinstance(back.digest.new_requests, list)
        and back.digest.week.week_start == week.week_start
    )


def test_a_checkin_with_answers_comes_back_whole() -> None:
    answer = AnswerView(1, "Hannah Head", "head", "on_track", AT)
    checkin = CheckinView(
        9, 1, "sent", 4, "active", 7, "Mere Green", ("SEND",), 1, "UHEAD1", "Hannah Head",
        2, "USLE1", "Sam", AT, 14, 14, (7, 14, 28), False, (answer,), None, AT, 0, False, False,
    )  # fmt: skip
    view = CheckinMessage(checkin, viewer_id=2, tz="Europe/London", reminder=True)
    assert stored(view) == view


def test_a_card_keeps_its_actions_and_confirmation() -> None:
    card = Card(
        ("Cancel it?",),
        (Action("request_cancel", "Cancel", "7", "danger", Confirm("Sure?", "Really", "Yes")),),
    )
    assert stored(card) == card


def test_an_unknown_view_is_refused_by_name() -> None:
    with pytest.raises(UnknownView, match=r"teams\.unheard_of"):
        decode_view({"name": "teams.unheard_of", "data": {}})


@pytest.mark.parametrize(
    "view",
    [CoordinatorAlert(summary(), "nobody matched"), AssignedNotice(summary(), "USLE1")],
    ids=["alert", "assigned"],
)
def test_coordinator_notices_hold_none_of_the_requests_own_words(view: object) -> None:
    text = json.dumps(encode_view(view))
    assert "Phonics: our results fell" not in text and "Year 1 phonics" not in text
    assert "Mere Green Primary School" in text
