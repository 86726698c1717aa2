"""Every Block Kit builder at the extremes real people reach: a 3,000-character description, a
150-character school name, all 36 areas of need, hundreds of requests, schools and rejected
rows, and names holding Slack's markup. Slack refuses a whole message or view over one limit
(the fake's checks are Slack's), and no user text may ping, mention or link."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.checkins.views import AnswerView, CheckinView
from bot.core.text import escape
from bot.core.vocabulary import load_vocabulary
from bot.deployments.finding import ActiveSupport, SupportSearch
from bot.deployments.views import AgreementForm, DeploymentProgress, ImpactForm, ObjectiveLine
from bot.digest.views import (
    AttentionItem,
    CapacityItem,
    CoordinatorDigest,
    CoordinatorDigestMessage,
    DemandItem,
    DeploymentItem,
    DigestWeek,
    GrowingLeader,
    PersonalDigest,
    PersonalDigestMessage,
    RequestItem,
)
from bot.directory.service import ImportReport, RejectedRow
from bot.directory.views import report_message
from bot.home.audit import RequestTrail, TrailLine
from bot.home.service import (
    AttentionLine,
    CoordinatorHome,
    DeploymentLine,
    HomeData,
    OfferLine,
    RequestLine,
    SupporterHome,
)
from bot.home.team import TeamPlace
from bot.requests.views import Draft, RequestSummary, RequestUpdated
from bot.teamwork.views import PersonChoice, ShadowInvitation, TeamForm, TeamMember
from bot.visits.views import VisitDraft, VisitLine
from handlers.slack.blocks import (
    audit,
    checkins,
    deployments,
    directory,
    home,
    offers,
    requests,
    teamwork,
    visits,
)
from handlers.slack.blocks.mentions import slack_mentions
from handlers.slack.blocks.render import render_blocks
from handlers.slack.stand_in.fake_slack import (
    MAX_MESSAGE_BLOCKS,
    block_problems,
    options_problems,
    view_problems,
)
from storage.models import VisitStatus
from tests.support.blockkit import mrkdwn_markup, texts

TZ = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
MARKUP = "<!channel> <!here> @here <@U123> <https://evil.example|click> *_~`&"
SCHOOL = (f"St Mary & St John's {MARKUP} Church of England Primary School " * 3)[:150]
NAME = f"Dr Anne-Marie {MARKUP} Featherstonehaugh"
WORDS = (f"Our SENCO has left {MARKUP} and EHCP reviews are due. " * 60)[:3000]
VOCABULARY = load_vocabulary()
EVERY_TAG = tuple((tag.slug, tag.label) for tag in VOCABULARY.tags)
EVERY_LABEL = tuple(label for _, label in EVERY_TAG)


def mention(user_id: str) -> str:
    """A neutral mention as the core makes it (`bot.reach.people.mention`)."""
    return f"<@{user_id}|{escape(NAME)}>"


def summary(**changes: Any) -> RequestSummary:
    fields: dict[str, Any] = {
        "id": 123456,
        "status": "offered",
        "title": WORDS[:150],
        "description": WORDS,
        "tags": EVERY_TAG,
        "urgency": "urgent",
        "preferred_start": date(2027, 1, 4),
        "school": SCHOOL,
        "phase": "primary",
        "region": "North East",
        "requester": "UHEAD1",
        "assigned_to": "USLE1",
        "awaiting_profile": False,
        "source": "channel",
        "created_at": NOW,
    }
    return RequestSummary(**{**fields, **changes})


def checkin() -> CheckinView:
    return CheckinView(
        checkin_id=9,
        sequence=99,
        status="sent",
        deployment_id=1,
        deployment_status="active",
        request_id=2,
        school=SCHOOL,
        needs=EVERY_LABEL,
        head_id=1,
        head_slack_id="UHEAD1",
        head_name=NAME,
        supporter_id=2,
        supporter_slack_id="USLE1",
        supporter_name=NAME,
        started_at=NOW,
        cadence_days=14,
        default_cadence_days=14,
        cadence_choices=(7, 14, 28),
        paused=False,
        answers=tuple(AnswerView(i, NAME, "colleague", "on_track", NOW) for i in range(3, 30)),
        remind_at=NOW,
        next_due_at=NOW,
        missed_in_a_row=5,
        superseded=False,
        ask_if_still_wanted=True,
    )


def deployment_item(i: int) -> DeploymentItem:
    started = NOW - timedelta(days=30)
    return DeploymentItem(
        i,
        i,
        SCHOOL,
        EVERY_LABEL,
        i % 40,
        NAME,
        i,
        NAME,
        "active",
        started,
        NOW,
        "on_track",
        NOW,
        14,
        False,
        WORDS,
    )


def request_item(i: int) -> RequestItem:
    return RequestItem(
        i, SCHOOL, EVERY_LABEL, "offered", NOW, NOW - timedelta(days=20), 3, i, i % 2 == 0
    )


WEEK = DigestWeek(date(2026, 11, 23), NOW, NOW - timedelta(days=7), NOW, NOW)


def coordinator_digest() -> CoordinatorDigestMessage:
    """A week with 500 schools in every list."""
    digest = CoordinatorDigest(
        week=WEEK,
        new_requests=[request_item(i) for i in range(500)],
        awaiting=[request_item(i) for i in range(500)],
        accepted=[deployment_item(i) for i in range(500)],
        active=[deployment_item(i) for i in range(500)],
        attention=[
            AttentionItem(i, SCHOOL, NAME, "missed" if i % 2 else "needs_attention", NOW, NAME)
            for i in range(500)
        ],
        completed=[deployment_item(i) for i in range(500)],
        capacity=[CapacityItem(NAME, 3, 3) for _ in range(500)],
        unmet_demand=[DemandItem(label, 5) for label in EVERY_LABEL],
        growing_leaders=[GrowingLeader(NAME, ("aspiring NLE",), tuple(range(100)))] * 500,
    )
    return CoordinatorDigestMessage(digest, TZ.key)


def personal_digest() -> PersonalDigestMessage:
    digest = PersonalDigest(
        person_id=1,
        slack_user_id="USLE1",
        name=NAME,
        supporting=[deployment_item(i) for i in range(100)],
        supported=[deployment_item(i) for i in range(100)],
        waiting=[request_item(i) for i in range(100)],
        offers_waiting=50,
    )
    return PersonalDigestMessage(digest, WEEK, TZ.key)


def import_report() -> list[dict[str, Any]]:
    """A directory file of 2,000 rows, every one rejected."""
    report = ImportReport()
    report.rejected = [
        RejectedRow(n, f"U{n:05d}", f"unknown expertise {MARKUP!r}; capacity 'lots'")
        for n in range(2, 2002)
    ]
    return render_blocks(report_message(report, f"{MARKUP}.csv"))


def request_line(i: int) -> RequestLine:
    return RequestLine(
        i,
        WORDS,
        "offered",
        EVERY_LABEL,
        "urgent",
        SCHOOL,
        NOW,
        NOW,
        NOW,
        None,
        None,
        False,
        mention("USLE1"),
        3,
    )


def progress(i: int, role: str = "coordinator") -> DeploymentProgress:
    return DeploymentProgress(
        deployment_id=i,
        request_id=i,
        role=role,
        status="active",
        school=SCHOOL,
        head=mention("UHEAD1"),
        supporter=mention("USLE1"),
        first_visit_on=None,
        visit_skipped=False,
        agreement="none",
        objectives=6,
        days_given=3,
        days_committed=10,
        review_on=None,
        review_sent=False,
        reviewed=False,
        closing_asked=False,
        impact_given=False,
    )


def coordinators_home() -> dict[str, Any]:
    """A coordinator who also asks and supports, with every list at its longest: 300 open
    requests and 200 deployments behind them."""
    team = tuple(TeamMember(f"U{i:04d}", NAME, "colleague") for i in range(30))
    supporter = SupporterHome(
        offers=tuple(
            OfferLine(
                i, i, WORDS, EVERY_LABEL, "urgent", "primary", "North East", SCHOOL, WORDS, NOW, NOW
            )
            for i in range(5)
        ),
        offers_total=300,
        deployments=tuple(
            DeploymentLine(i, i, SCHOOL, mention("UHEAD1"), EVERY_LABEL, NOW, team)
            for i in range(8)
        ),
        active=200,
        capacity=3,
        available=False,
        away_until=date(2027, 1, 4),
        as_colleague=3,
    )
    kinds = ("unassigned", "waiting", "new") * 5
    coordinator = CoordinatorHome(
        counts={"open": 300, "accepted": 200},
        attention=tuple(AttentionLine(k, NOW, request_line(i)) for i, k in enumerate(kinds)),
        attention_total=300,
    )
    data = HomeData(
        slack_user_id="UCOORD",
        now=NOW,
        name=NAME,
        roles=frozenset({"coordinator", "head", "nle"}),
        requests=tuple(request_line(i) for i in range(100, 110)),
        requests_total=300,
        supporter=supporter,
        coordinator=coordinator,
        deployments=tuple(progress(i, "supporter") for i in range(8)),
        deployments_total=200,
        others=tuple(progress(i) for i in range(300, 308)),
        others_total=900,
        team_places=tuple(
            TeamPlace(i, i, "shadow", SCHOOL, EVERY_LABEL, "USLE1", "UHEAD1", NOW)
            for i in range(200, 240)
        ),
        visits=tuple(
            VisitLine(i, True, "UHEAD2", SCHOOL, EVERY_LABEL, VisitStatus.BOOKED, date(2027, 1, 5))
            for i in range(10)
        ),
    )
    return home.home_view(data, TZ, support_channel="C0SUPPORT")


def test_a_coordinators_fullest_home_tab_keeps_every_section_and_says_what_is_cut() -> None:
    """Cut to fit, the long lists say how many more; no section falls off the end."""
    shown = texts(coordinators_home()["blocks"])
    for heading in ("Your requests", "Your support work", "Deployments you're part of"):
        assert heading in shown
    for heading in ("Coordinator overview", "Your deployments", "Recent deployments"):
        assert heading in shown
    assert "Open classrooms" in shown and home.PRIVACY in shown
    assert "There's more than fits here." not in shown
    for more in ("older requests not shown", "see the digest", "more of yours not shown"):
        assert more in shown
    assert "find any that is under way with *End a support…*" in shown


def choices(count: int, prefix: str) -> tuple[PersonChoice, ...]:
    return tuple(PersonChoice(f"U{prefix}{i:04d}", NAME, "aspiring NLE") for i in range(count))


def trail() -> RequestTrail:
    """A request's audit trail of 1,000 entries."""
    line = TrailLine("23 Nov 2026, 09:00 GMT", "UCOORD", "changed how often check-ins come")
    return RequestTrail(5, (line,) * 1000)


MESSAGES: dict[str, Callable[[], list[dict[str, Any]]]] = {
    **{
        f"request card, {status}": lambda status=status: requests.request_card(
            summary(status=status)
        )
        for status in ("open", "offered", "accepted", "expired", "cancelled", "closed")
    },
    "channel post": lambda: requests.channel_post(summary()),
    "request updated": lambda: render_blocks(RequestUpdated(summary())),
    "offer DM": lambda: offers.offer_dm(
        summary(), offer_id=1, reasons=WORDS, show_school=True, expires_at=NOW, tz=TZ
    ),
    "accepted DM": lambda: offers.accepted_dm(
        summary(), deployment_id=1, head_slack_id="UHEAD1", head_email=f"{MARKUP}@example.org"
    ),
    "coordinator alert": lambda: offers.coordinator_alert(summary(), reason=WORDS),
    "assigned notice": lambda: offers.assigned_notice(summary(), supporter_slack_id="USLE1"),
    "offer closed": lambda: offers.offer_closed(WORDS),
    "check-in, to the supporter": lambda: checkins.checkin_message(checkin(), viewer_id=2, tz=TZ),
    "check-in, to the head": lambda: checkins.checkin_message(checkin(), viewer_id=1, tz=TZ),
    "needs attention, a note of 3,000": lambda: checkins.attention_alert(
        checkin(), role="head", name=NAME, note=WORDS
    ),
    "completed, an impact of 3,000": lambda: checkins.completed_notice(
        checkin(), name=NAME, role="head", impact=WORDS
    ),
    "check-in closed": lambda: checkins.checkin_closed(WORDS),
    "coordinators' digest, 500 schools": lambda: render_blocks(coordinator_digest()),
    "personal digest, 100 of each": lambda: render_blocks(personal_digest()),
    "import report, 2,000 rejected rows": import_report,
    "shadow invitation, 100 to choose from": lambda: render_blocks(
        ShadowInvitation(7, 3, SCHOOL, EVERY_LABEL, choices(40, "O"), choices(60, "E"))
    ),
    "team lines, 30 on the team": lambda: teamwork.team_blocks(
        7, tuple(TeamMember(f"U{i:04d}", NAME, "colleague") for i in range(30))
    ),
}

VIEWS: dict[str, Callable[[], dict[str, Any]]] = {
    "full request": lambda: requests.full_request_modal(summary()),
    "request form, every tag, new to the directory": lambda: requests.request_modal(
        Draft(WORDS[:150], WORDS, tuple(slug for slug, _ in EVERY_TAG), school_name=SCHOOL),
        VOCABULARY,
        need_profile=True,
        metadata={"source": "shortcut", "channel": "C0X", "message_ts": "1.2", "private": True},
        editing=True,
    ),
    "school form": lambda: requests.profile_modal({"source": "command"}, SCHOOL),
    "audit trail, 1,000 entries": lambda: audit.audit_trail_modal(trail(), zone=TZ.key),
    "importing": lambda: directory.importing_view(f"{MARKUP}.csv"),
    "coordinator's Home tab": coordinators_home,
    "team form, 100 to choose from": lambda: teamwork.team_modal(
        TeamForm(7, 3, SCHOOL, SCHOOL, (), choices(100, "C"), 5, choices(40, "O"), choices(60, "E"))
    ),
    "agreement, six objectives": lambda: deployments.agreement_modal(
        AgreementForm(1, SCHOOL, (WORDS[:500],) * 6, WORDS[:2000], 10.5, date(2027, 1, 4))
    ),
    **{
        f"closing record, the {role}": lambda role=role: deployments.impact_modal(
            ImpactForm(
                1,
                role,
                SCHOOL,
                tuple(
                    ObjectiveLine(i, i, WORDS[:500], "some", WORDS[:1000], WORDS[:1000])
                    for i in range(6)
                ),
            )
        )
        for role in ("head", "supporter")
    },
    "visit form": lambda: visits.visit_modal(
        VisitDraft(WORDS, tuple(slug for slug, _ in EVERY_TAG)), VOCABULARY
    ),
}


def user_markup(blocks: Any) -> list[str]:
    """Markup in the mrkdwn that only user text could have put there: `MARKUP`'s."""
    found = mrkdwn_markup(slack_mentions(blocks))
    return [f for f in found if f.startswith(("<!", "<@U123", "<https://evil"))]


@pytest.mark.parametrize("name", list(MESSAGES))
def test_every_message_stays_within_slacks_limits_and_pings_nobody(name: str) -> None:
    blocks = MESSAGES[name]()
    assert block_problems(blocks, MAX_MESSAGE_BLOCKS) == []
    assert user_markup(blocks) == []


@pytest.mark.parametrize("name", list(VIEWS))
def test_every_view_stays_within_slacks_limits_and_pings_nobody(name: str) -> None:
    view = VIEWS[name]()
    assert view_problems(view) == []
    assert len(json.dumps(view)) < 250_000  # about the most Slack takes in one view
    assert user_markup(view["blocks"]) == []


def test_the_checkins_menu_keeps_each_supports_checkins_within_an_options_75_characters() -> None:
    due = datetime(2026, 12, 9, 9, 30, tzinfo=UTC)
    longest = ActiveSupport(1, 123_456_789, SCHOOL, "1234567", NAME, NOW, next_checkin_at=due)
    paused = ActiveSupport(2, 123_456_789, SCHOOL, "1234567", NAME, NOW, checkins_paused=True)
    answer = deployments.checkins_support_options(SupportSearch((longest, paused), 240), TZ, NOW)
    assert options_problems(answer) == []
    [group] = answer["option_groups"]
    first, second = (o["text"]["text"] for o in group["options"])
    assert first.endswith(" · #123456789 · next Wed 9 Dec")
    assert second.endswith(" · #123456789 · paused")
    assert first.startswith(SCHOOL[:15]) and " — Dr Anne" in first, "both still named"
