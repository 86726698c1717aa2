"""Dates and times as a school in England reads them, on Slack and on Teams: local time in
Europe/London (GMT or BST, right on the days the clocks change), "Tuesday 9 June, 00:30",
days without a leading zero, never UTC or an ISO date. Each view goes through the real
renderers of both platforms."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest

from bot.checkins.views import AnswerView, CheckinMessage, CheckinView
from bot.digest.views import (
    AttentionItem,
    CoordinatorDigest,
    CoordinatorDigestMessage,
    DeploymentItem,
    DigestWeek,
    PersonalDigest,
    PersonalDigestMessage,
    TeamPlace,
)
from bot.requests.views import RequestSummary
from bot.routing.views import OfferInvitation
from handlers.slack.blocks.render import view_as_text
from handlers.teams.cards.render import render_card
from tests.support.dates_shown import INSTANTS, Shown, utc

LONDON = "Europe/London"
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
LEADING_ZERO_DAY = re.compile(
    r"\b0\d (January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b"
)


def shown_on_both(view: object) -> tuple[str, str]:
    """What `view` says on Slack and on Teams."""
    return view_as_text(view), json.dumps(render_card(view), ensure_ascii=False)


def assert_written_locally(text: str, shown: Shown) -> None:
    assert shown.not_local is None or shown.not_local not in text
    assert not ISO_DATE.search(text), text
    assert not LEADING_ZERO_DAY.search(text), text


def request(preferred_start: date | None = None) -> RequestSummary:
    return RequestSummary(
        id=7,
        status="offered",
        title="Phonics lead has left",
        description="Our phonics lead has left and the screening check is coming.",
        tags=(("phonics", "Phonics"),),
        urgency="soon",
        preferred_start=preferred_start,
        school="Mere Green Primary School",
        phase="primary",
        region="West Midlands",
        requester="UHEAD1",
        assigned_to=None,
        awaiting_profile=False,
        source="modal",
        created_at=utc(2026, 11, 23, 9),
    )


def deployment(at: datetime) -> DeploymentItem:
    return DeploymentItem(
        4, 7, "Mere Green", ("Phonics",), 2, "Sam Lead", 1, "Hannah Head", "active", at, None,
        "on_track", at, 14, False, None,
    )  # fmt: skip


def checkin(at: datetime) -> CheckinView:
    return CheckinView(
        checkin_id=9, sequence=2, status="sent", deployment_id=4, deployment_status="active",
        request_id=7, school="Mere Green", needs=("Phonics",), head_id=1, head_slack_id="UHEAD1",
        head_name="Hannah Head", supporter_id=2, supporter_slack_id="USLE1",
        supporter_name="Sam Lead", started_at=at, cadence_days=14, default_cadence_days=14,
        cadence_choices=(7, 14, 28), paused=False,
        answers=(AnswerView(2, "Sam Lead", "supporter", "on_track", at),), remind_at=at,
        next_due_at=at, missed_in_a_row=0, superseded=False, ask_if_still_wanted=False,
    )  # fmt: skip


@pytest.mark.parametrize("shown", INSTANTS.values(), ids=INSTANTS.keys())
def test_an_offer_says_until_when_in_local_time(shown: Shown) -> None:
    view = OfferInvitation(request(), 3, "phonics lead", True, shown.at, LONDON)
    for text in shown_on_both(view):
        assert f"by {shown.when}" in text
        assert_written_locally(text, shown)


@pytest.mark.parametrize(
    ("start", "words"),
    [(date(2027, 1, 4), "4 January 2027"), (date(2026, 10, 25), "25 October 2026")],
)
def test_an_offer_writes_the_preferred_start_without_a_leading_zero(
    start: date, words: str
) -> None:
    view = OfferInvitation(request(start), 3, "phonics lead", True, None, LONDON)
    for text in shown_on_both(view):
        assert words in text
        assert not LEADING_ZERO_DAY.search(text), text


@pytest.mark.parametrize("shown", INSTANTS.values(), ids=INSTANTS.keys())
def test_a_checkin_says_since_when_and_what_next_in_local_time(shown: Shown) -> None:
    view = CheckinMessage(checkin(shown.at), viewer_id=2, tz=LONDON)
    slack, teams = shown_on_both(view)
    assert f"since {shown.day_month}" in slack
    assert f"(supporter), {shown.when}" in slack
    assert f"has by {shown.when}, I'll send one reminder" in slack
    assert f"with Hannah Head, since {shown.when}." in teams
    for text in (slack, teams):
        assert_written_locally(text, shown)


@pytest.mark.parametrize("shown", INSTANTS.values(), ids=INSTANTS.keys())
def test_the_coordinators_digest_is_in_local_time(shown: Shown) -> None:
    monday = date(2026, 10, 5)
    week = DigestWeek(monday, shown.at, shown.at, shown.at, shown.at)
    digest = CoordinatorDigest(
        week,
        accepted=[deployment(shown.at)],
        attention=[AttentionItem(7, "Mere Green", "Sam Lead", "missed", shown.at, None)],
    )
    slack, teams = shown_on_both(CoordinatorDigestMessage(digest, LONDON))
    assert "week of 5 October 2026" in slack and "week of 5 October 2026" in teams
    assert f"Activity from {shown.when} to {shown.when}" in slack
    assert f"As of {shown.when}" in teams
    assert shown.short in slack
    for text in (slack, teams):
        assert_written_locally(text, shown)


@pytest.mark.parametrize("shown", INSTANTS.values(), ids=INSTANTS.keys())
def test_a_personal_digest_is_in_local_time(shown: Shown) -> None:
    week = DigestWeek(date(2026, 10, 5), shown.at, shown.at, shown.at, shown.at)
    item = deployment(shown.at)
    digest = PersonalDigest(
        1, "USLE1", "Sam Lead", supporting=[item], team=[TeamPlace("shadow", item)]
    )
    slack, teams = shown_on_both(PersonalDigestMessage(digest, week, LONDON))
    assert f"since {shown.short}" in slack
    assert f"Next check-in {shown.when}." in slack
    assert "week of 5 October" in slack
    assert f"since {shown.day_month}" in teams
    for text in (slack, teams):
        assert_written_locally(text, shown)
