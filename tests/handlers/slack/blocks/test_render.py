"""The Slack renderer: every neutral view has Block Kit, the same as the builders make."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.messages import decode_view, encode_view, registered_views
from bot.requests.post_changes import update_prompt
from bot.routing.views import OfferInvitation
from handlers.slack.blocks.offers import offer_dm
from handlers.slack.blocks.render import render_blocks, slack_payload
from tests.handlers.slack.blocks.test_offer_blocks import summary


def test_every_registered_view_has_a_slack_renderer() -> None:
    rendered = set(render_blocks.registry)
    missing = [name for name, cls in registered_views().items() if cls not in rendered]
    assert missing == []


def test_an_offer_renders_at_delivery_exactly_as_the_builder_made_it() -> None:
    expires = datetime(2026, 11, 25, 17, tzinfo=UTC)
    view = OfferInvitation(
        summary("We need phonics help."), 3, "phonics lead", False, expires, "Europe/London"
    )
    stored = json.loads(json.dumps(encode_view(view)))
    built = offer_dm(
        view.summary,
        offer_id=3,
        reasons="phonics lead",
        show_school=False,
        expires_at=expires,
        tz=ZoneInfo("Europe/London"),
    )
    assert render_blocks(decode_view(stored)) == built


def test_a_card_renders_its_paragraphs_and_buttons() -> None:
    assert render_blocks(update_prompt(7, assigned=True)) == [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "You've edited your post. Request #7 is already under way, so I haven't "
                "changed it. Shall I update it to match your post? Your supporter will be told.",
            },
        },
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Update the request", "emoji": True},
                    "action_id": "request_update_from_post",
                    "value": "7",
                    "style": "primary",
                }
            ],
        },
    ]


def test_the_slack_payload_swaps_the_view_for_clean_blocks_and_keeps_the_rest() -> None:
    view = update_prompt(7, assigned=False)
    payload = {"text": "Edited", "thread_ts": "1.2", "view": encode_view(view)}
    payload["view"]["data"]["paragraphs"][0] += "\u202e"  # a hidden override slipped in
    sent = slack_payload(payload)
    assert sent["text"] == "Edited" and sent["thread_ts"] == "1.2" and "view" not in sent
    assert "\u202e" not in json.dumps(sent["blocks"], ensure_ascii=False)
    assert sent["blocks"][1]["elements"][0]["value"] == "7"
    assert slack_payload({"text": "plain"}) == {"text": "plain"}
