"""Text hygiene: no bidi controls or zero-width characters in what the bot posts; a request's
description is at most 3,000 characters, a longer post is stored cut with a note to the head,
and the Edit form never silently loses text."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from bot.core.text import INVISIBLE, visible_only
from bot.outbox.owing import owe_post
from handlers.slack.blocks import fields, mrkdwn, plain
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_event,
    view_submission_payload,
)
from storage.db import transaction
from storage.models import OutboxMessage, SupportRequest
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_intake import request_form
from tests.support.blockkit import action_ids, texts

RLO, LRI, PDI, ZWSP, ZWJ, BOM, ALM = (
    "\u202e",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u061c",
)
SNEAKY = (
    f"We need SEND{RLO} support: our SEN{ZWSP}CO is off sick{LRI} and EHCP{PDI} reviews are "
    f"due{ZWJ}. Please{BOM} help{ALM}."
)
SEEN = "We need SEND support: our SENCO is off sick and EHCP reviews are due. Please help."


def invisible_in(value: Any) -> set[str]:
    """Every bidi control or zero-width character anywhere in `value` (as JSON)."""
    return {ch for ch in json.dumps(value, ensure_ascii=False) if ord(ch) in INVISIBLE}


def post(slack: SlackWorld, text: str, user: str = "UHEAD1") -> dict[str, Any]:
    event = message_event(user, text, SUPPORT_CHANNEL)
    assert slack.sender.event(event)[0] == 200
    slack.settle()
    return event


def the_request(slack: SlackWorld) -> SupportRequest:
    with slack.runtime.sessions() as session:
        return session.exec(select(SupportRequest).order_by(SupportRequest.id.desc())).first()


# --- bidi controls and zero-width characters -------------------------------------------------
def test_visible_only_drops_every_bidi_control_and_zero_width_character() -> None:
    everything = "".join(chr(code) for code in INVISIBLE)
    assert visible_only(f"a{everything}b") == "ab"
    assert {0x202A, 0x202E, 0x2066, 0x2069, 0x200E, 0x200F, 0x061C} <= set(INVISIBLE)
    assert {0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF} <= set(INVISIBLE)
    assert visible_only("Café — naïve, 3 × 4 ≠ 11 ‘quoted’") == "Café — naïve, 3 × 4 ≠ 11 ‘quoted’"
    assert visible_only("\U0001f469\u200d\U0001f3eb") == "\U0001f469\U0001f3eb"
    for text_object in (mrkdwn(SNEAKY), plain(SNEAKY), fields(SNEAKY)):
        assert invisible_in(text_object) == set()


def test_the_outbox_strips_them_from_whatever_a_caller_built(slack: SlackWorld) -> None:
    with transaction(slack.runtime.sessions) as session:
        owe_post(
            session,
            now=slack.clock.now(),
            channel="UHEAD1",
            text=SNEAKY,
            blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": SNEAKY}}],
        )
    slack.runtime.deliverer.kick()
    slack.settle()
    [call] = slack.fake.calls_to("chat.postMessage")
    assert call.args["text"] == SEEN
    assert invisible_in(call.args) == set()


def test_offer_dms_and_replies_carry_no_bidi_or_zero_width_characters(slack: SlackWorld) -> None:
    slack.import_directory()
    post(slack, SNEAKY)
    request = the_request(slack)
    assert request.description == SNEAKY, "stored as the head wrote it"
    slack.sender.interact(
        block_actions_payload(
            "UHEAD1", "request_confirm", str(request.id), channel_id=SUPPORT_CHANNEL
        )
    )
    slack.settle()
    sent = [c for c in slack.fake.calls if c.method.startswith(("chat.", "views."))]
    offers = [
        c.args
        for c in sent
        if c.method == "chat.postMessage" and "offer_accept" in action_ids(c.args.get("blocks"))
    ]
    assert offers, "the request was offered"
    # The offer shows the first sentence as its title and the rest below it, once each.
    seen_parts = (
        "We need SEND support: our SENCO is off sick and EHCP reviews are due",
        "Please help",
    )
    assert any(all(part in texts(dm["blocks"]) for part in seen_parts) for dm in offers), (
        "the words themselves survive"
    )
    for call in sent:
        assert invisible_in(call.args) == set(), call.method

    slack.sender.interact(
        block_actions_payload("UHEAD1", "request_edit", str(request.id), channel_id=SUPPORT_CHANNEL)
    )
    [opened] = slack.fake.wait_for("views.open")
    assert invisible_in(opened.args["view"]) == set()


# --- the description's maximum length --------------------------------------------------------
LONG_POST = "We need help with SEND. " + "Our EHCP caseload keeps growing every single week. " * 700


def test_a_35000_character_post_is_stored_cut_with_a_note_to_the_head(slack: SlackWorld) -> None:
    slack.import_directory()
    text = LONG_POST[:35_000]
    assert len(text) == 35_000
    event = post(slack, text)
    request = the_request(slack)
    assert request.description == text[:3000]
    touched = [
        c.args.get("ts") for c in slack.fake.calls if c.method in ("chat.update", "chat.delete")
    ]
    assert event["ts"] not in touched, "we never edit their post"
    replies = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.ok and c.args.get("thread_ts") == event["ts"]
    ]
    assert len(replies) == 2, "the card and the note"
    assert "request_edit" in action_ids(replies[0]["blocks"])
    assert replies[1]["text"] == (
        "Your post was longer than 3,000 characters, so I kept the first 3,000 in your "
        "request; the full text stays in your post above."
    )
    failures = [c for c in slack.fake.calls if not c.ok and c.method != "auth.test"]
    assert failures == []


def test_a_post_of_exactly_3000_characters_gets_no_note(slack: SlackWorld) -> None:
    slack.import_directory()
    event = post(slack, LONG_POST[:3000])
    assert the_request(slack).description == LONG_POST[:3000]
    replies = [c for c in slack.fake.calls_to("chat.postMessage") if c.args.get("thread_ts")]
    assert [r.args["thread_ts"] for r in replies] == [event["ts"]], "only the card"


def edit_form(slack: SlackWorld, request_id: int) -> dict[str, Any]:
    """Press Edit on the request's card; the modal Slack was asked to open."""
    slack.fake.clear()
    slack.sender.interact(
        block_actions_payload("UHEAD1", "request_edit", str(request_id), channel_id=SUPPORT_CHANNEL)
    )
    [opened] = slack.fake.wait_for("views.open")
    assert opened.ok, opened.response
    return opened.args["view"]


def description_of(view: dict[str, Any]) -> dict[str, Any] | None:
    return next((b for b in view["blocks"] if b.get("block_id") == "description"), None)


def test_the_edit_form_shows_the_whole_stored_description(slack: SlackWorld) -> None:
    slack.import_directory()
    post(slack, LONG_POST[:35_000])
    request = the_request(slack)
    element = description_of(edit_form(slack, request.id))["element"]
    assert element["initial_value"] == request.description
    assert element["max_length"] == len(request.description) == 3000


def test_an_older_over_long_description_is_kept_when_the_rest_is_edited(slack: SlackWorld) -> None:
    slack.import_directory()
    post(slack, "We need help with SEND: our SENCO is on long-term leave.")
    request = the_request(slack)
    older = LONG_POST[:5000]  # stored before the limit existed
    with transaction(slack.runtime.sessions) as session:
        session.get(SupportRequest, request.id).description = older
    view = edit_form(slack, request.id)
    assert description_of(view) is None, "a form that can't hold it all doesn't offer it"
    assert "kept exactly as it is" in texts(view["blocks"])

    values = request_form(title="SENCO cover", areas=["send"])
    del values["description"]
    status, body, _ = slack.sender.interact(
        view_submission_payload(
            "UHEAD1", "request_edit", values, private_metadata=view["private_metadata"]
        )
    )
    assert status == 200 and body in (b"", b"{}")
    slack.settle()
    edited = the_request(slack)
    assert edited.title == "SENCO cover"
    assert edited.description == older


def test_a_description_over_the_limit_in_the_form_is_refused(slack: SlackWorld) -> None:
    slack.import_directory()
    status, body, _ = slack.sender.interact(
        view_submission_payload(
            "UHEAD1",
            "request_new",
            request_form(description=LONG_POST[:3001]),
            private_metadata=json.dumps({"source": "command"}),
        )
    )
    assert status == 200
    answer = json.loads(body)
    assert answer["errors"]["description"] == "Please keep this under 3,000 characters."
    slack.settle()
    with slack.runtime.sessions() as session:
        assert session.exec(select(OutboxMessage)).first() is None
        assert session.exec(select(SupportRequest)).first() is None
