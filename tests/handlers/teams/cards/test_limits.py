"""Every Teams card at the extremes real people reach stays within what Teams takes: an
activity of about 28 KB, and no TextBlock longer than the renderer's own cap."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from bot.checkins.views import AttentionAlert, CheckinMessage, CompletedNotice
from bot.core.messages import encode_view
from bot.deployments.views import agreement_lines, agreement_to_confirm_card
from bot.directory.service import ImportReport, RejectedRow
from bot.directory.views import report_message
from bot.requests.views import ChannelPost, CoordinatorAlert, RequestCard, RequestUpdated
from bot.routing.views import Accepted, OfferInvitation
from bot.teamwork.views import ShadowInvitation
from handlers.teams.cards import MAX_TEXT, mention_names
from handlers.teams.cards.render import render_card, teams_activity
from handlers.teams.listeners.audit import trail_card
from tests.handlers.slack.blocks.test_limits import (
    EVERY_LABEL,
    MARKUP,
    NAME,
    NOW,
    SCHOOL,
    TZ,
    WORDS,
    checkin,
    choices,
    coordinator_digest,
    personal_digest,
    summary,
    trail,
)

TEAMS_MOST_BYTES = 28_000
TEAMS_MOST_ACTIONS = 6  # buttons Teams shows in one row (its hosts' `maxActions`)


def _report() -> object:
    report = ImportReport()
    report.rejected = [RejectedRow(n, f"U{n:05d}", f"unknown role {MARKUP!r}") for n in range(2000)]
    return report_message(report, "directory.csv")


def paused_checkin() -> Any:
    """Paused with the head's answer in and the supporter's not, at an unusual cadence."""
    return dataclasses.replace(
        checkin(),
        status="answered",
        paused=True,
        cadence_days=21,
        default_cadence_days=10,
        cadence_choices=(7, 10, 14, 21, 28),
        ask_if_still_wanted=False,
        answers=checkin().answers[:1],
    )


VIEWS: dict[str, Any] = {
    "request card": lambda: RequestCard(summary(status="open")),
    "channel post": lambda: ChannelPost(summary()),
    "request updated": lambda: RequestUpdated(summary()),
    "coordinator alert": lambda: CoordinatorAlert(summary(), reason=WORDS),
    "offer": lambda: OfferInvitation(summary(), 1, WORDS, True, NOW, TZ.key),
    "accepted": lambda: Accepted(summary(), 1, "UHEAD1", "head@example.org"),
    "check-in": lambda: CheckinMessage(checkin(), 2, TZ.key),
    "check-in, paused": lambda: CheckinMessage(paused_checkin(), 2, TZ.key, reminder=True),
    "needs attention": lambda: AttentionAlert(checkin(), "head", NAME, WORDS),
    "completed": lambda: CompletedNotice(checkin(), NAME, "head", WORDS),
    "coordinators' digest, 500 schools": coordinator_digest,
    "personal digest": personal_digest,
    "import report, 2,000 rejected rows": _report,
    "shadow invitation, 100 to choose from": lambda: ShadowInvitation(
        7, 3, SCHOOL, EVERY_LABEL, choices(40, "O"), choices(60, "E")
    ),
    "agreement to confirm": lambda: agreement_to_confirm_card(
        7, "USLE1", agreement_lines((WORDS[:500],) * 6, WORDS[:2000], 10, None)
    ),
    "audit trail, 1,000 entries": lambda: trail_card(trail(), TZ.key),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_every_card_stays_within_what_teams_takes(name: str) -> None:
    with mention_names({"UCOORD": "Dr Anne-Marie Featherstonehaugh-Smythe"}):
        activity = teams_activity({"text": "Notification", "view": encode_view(VIEWS[name]())})
    assert len(json.dumps(activity).encode()) < TEAMS_MOST_BYTES
    body = activity["attachments"][0]["content"]["body"]
    assert all(len(block.get("text", "")) <= MAX_TEXT for block in body)


def _action_rows(content: Any) -> list[list[dict[str, Any]]]:
    """Every row of buttons in a card: its own, an ActionSet's, an unfolding form's."""
    rows: list[list[dict[str, Any]]] = []
    if isinstance(content, dict):
        if isinstance(content.get("actions"), list):
            rows.append(content["actions"])
        for item in content.values():
            rows.extend(_action_rows(item))
    elif isinstance(content, list):
        for item in content:
            rows.extend(_action_rows(item))
    return rows


@pytest.mark.parametrize("view", [checkin(), paused_checkin()], ids=["asked", "paused"])
@pytest.mark.parametrize("viewer", [1, 2], ids=["head", "supporter"])
def test_a_check_in_card_keeps_each_row_of_buttons_within_what_teams_shows(
    view: Any, viewer: int
) -> None:
    content = render_card(CheckinMessage(view, viewer, TZ.key))
    rows = _action_rows(content)
    assert len(rows) >= 3, "the answers, the frequencies and the visit log at least"
    assert all(len(row) <= TEAMS_MOST_ACTIONS for row in rows), [len(r) for r in rows]
