"""The offer DM's wording: the request's title is shown once, never repeated as the
description's first line."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.requests.intake import guess_title
from bot.requests.views import RequestSummary
from handlers.slack.blocks.offers import accepted_dm, offer_dm
from handlers.slack.blocks.requests import description_after_title


def summary(description: str, title: str | None = None) -> RequestSummary:
    return RequestSummary(
        id=7,
        status="offered",
        title=guess_title(description) if title is None else title,
        description=description,
        tags=(("send", "SEND"),),
        urgency="soon",
        preferred_start=None,
        school="Mere Green Primary School",
        phase="primary",
        region="West Midlands",
        requester="UHEAD1",
        assigned_to=None,
        awaiting_profile=False,
        source="channel",
        created_at=datetime(2026, 11, 23, 9, tzinfo=UTC),
    )


def section_texts(blocks: list[dict]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b["type"] == "section" and "text" in b)


@pytest.mark.parametrize(
    ("description", "title", "rest"),
    [
        # A title guessed from a post is its first sentence.
        ("Our SENCO has left. EHCP reviews are due.", None, "EHCP reviews are due."),
        ("Our SENCO has left\nEHCP reviews are due.", None, "EHCP reviews are due."),
        ("Hi all! Our SENCO has left? Help.", None, "Hi all! Our SENCO has left? Help."),
        ("Our  SENCO has\nleft! EHCP reviews.", "Our SENCO has left", "EHCP reviews."),
        ("Our SENCO has left", None, ""),
        # A title the head typed, or one that only starts the sentence, is no repeat.
        ("Our SENCO has left. EHCP reviews.", "SENCO cover", "Our SENCO has left. EHCP reviews."),
        ("Maths lead has left.", "Maths", "Maths lead has left."),
        ("Maths, and more. Next.", "Maths", "Maths, and more. Next."),
    ],
)
def test_the_description_loses_only_an_opening_repeat_of_the_title(
    description: str, title: str | None, rest: str
) -> None:
    assert description_after_title(summary(description, title)) == rest


def test_a_cut_title_keeps_the_whole_first_sentence() -> None:
    long = "We " + "really " * 20 + "need help with SEND. Thanks."
    request = summary(long)
    assert request.title.endswith("…")
    assert description_after_title(request) == long


def test_the_offer_and_accepted_dms_show_the_title_once() -> None:
    request = summary("Our SENCO has left at short notice. EHCP reviews are due next month.")
    london = ZoneInfo("Europe/London")
    for blocks in (
        offer_dm(
            request, offer_id=3, reasons="SEND", show_school=False, expires_at=None, tz=london
        ),
        accepted_dm(request, deployment_id=4, head_slack_id=None),
    ):
        text = section_texts(blocks)
        assert text.count("Our SENCO has left at short notice") == 1
        assert "*Our SENCO has left at short notice*\nEHCP reviews are due next month." in text
