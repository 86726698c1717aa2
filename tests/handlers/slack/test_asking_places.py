"""Where heads really ask: a private support channel, a DM to the bot, /support typed in a DM;
and what happens when the post a request came from is edited or deleted.

Events are the bodies Slack sends for `message.groups`, `message.im`, and the
`message_changed` / `message_deleted` subtypes (with `message`, `previous_message`,
`deleted_ts`, `channel_type`), including the tombstone left when a post with replies is deleted.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from bot.core.clock import FixedClock
from bot.entry.stand_in import running_world
from handlers.slack.listeners.commands.support import asked_privately
from handlers.slack.listeners.events.messages import deleted_ts, edited_post, is_request_post
from handlers.slack.manifest import BOT_EVENTS, BOT_SCOPES
from handlers.slack.stand_in.signing import (
    TEAM_ID,
    block_actions_payload,
    message_action_payload,
    message_event,
    new_event_id,
    tombstone_event,
    view_submission_payload,
)
from storage.models import Offer, OutboxMessage, Person, RequestTag, SupportRequest
from tests.handlers.slack.conftest import DIRECTORY, SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_intake import request_form
from tests.support.blockkit import action_ids, button_value, texts

PRIVATE_SUPPORT = "G0HEADSONLY"
HEAD_DM = "DHEAD1"  # the fake's DM channel between UHEAD1 and the bot
ASK = "Our SENCO is on long-term sick and six EHCP reviews are due this term. Can anyone help?"


def requests(slack: SlackWorld) -> list[SupportRequest]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(SupportRequest).order_by(SupportRequest.id)))


def send(slack: SlackWorld, event: dict[str, Any], event_id: str | None = None) -> None:
    assert slack.sender.event(event, event_id=event_id or new_event_id())[0] == 200
    slack.settle()


def posts_to(slack: SlackWorld, channel: str) -> list[dict[str, Any]]:
    return [c.args for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"] == channel]


def outbox_size(slack: SlackWorld) -> int:
    with slack.runtime.sessions() as session:
        return len(session.exec(select(OutboxMessage.id)).all())


def click(slack: SlackWorld, user: str, action: str, value: str, **kwargs: Any) -> None:
    assert slack.sender.interact(block_actions_payload(user, action, value, **kwargs))[0] == 200
    slack.settle()


def changed_event(
    channel: str, original: dict[str, Any], new_text: str, edited_ts: str
) -> dict[str, Any]:
    """The `message_changed` event Slack sends when `original` is edited to `new_text`."""
    message = {**original, "text": new_text, "edited": {"user": original["user"], "ts": edited_ts}}
    for key in ("channel", "channel_type", "event_ts"):
        message.pop(key, None)
    message |= {"source_team": TEAM_ID, "user_team": TEAM_ID}
    previous = {k: v for k, v in original.items() if k not in ("channel", "channel_type")}
    return {
        "type": "message",
        "subtype": "message_changed",
        "message": message,
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "ts": edited_ts,
        "event_ts": edited_ts,
        "channel_type": original["channel_type"],
    }


def deleted_event(channel: str, original: dict[str, Any], deleted_at: str) -> dict[str, Any]:
    """The `message_deleted` event Slack sends when `original` is deleted."""
    previous = {k: v for k, v in original.items() if k not in ("channel", "channel_type")}
    return {
        "type": "message",
        "subtype": "message_deleted",
        "previous_message": previous,
        "channel": channel,
        "hidden": True,
        "ts": deleted_at,
        "deleted_ts": original["ts"],
        "event_ts": deleted_at,
        "channel_type": original["channel_type"],
    }


def test_the_manifest_subscribes_to_private_channels_and_dms() -> None:
    assert {"message.channels", "message.groups", "message.im"} <= set(BOT_EVENTS)
    assert {"channels:history", "groups:history", "im:history"} <= set(BOT_SCOPES)


def test_the_manifest_may_ask_slack_whether_a_channel_is_public() -> None:
    """conversations.info on public and private channels, DMs and group DMs."""
    assert {"channels:read", "groups:read", "im:read", "mpim:read"} <= set(BOT_SCOPES)


# --- a private support channel ---------------------------------------------------------------
@pytest.fixture
def private_slack(slack_settings_env: dict[str, str], clock: FixedClock) -> Iterator[SlackWorld]:
    """A bot whose support channel is private (message.groups)."""
    env = {**slack_settings_env, "SUPPORT_CHANNEL_ID": PRIVATE_SUPPORT}
    with running_world(env, clock, directory=DIRECTORY) as world:
        yield world
    assert not world.errors


def test_a_post_in_a_private_support_channel_becomes_a_request(private_slack: SlackWorld) -> None:
    slack = private_slack
    slack.import_directory()
    event = message_event("UHEAD1", ASK, PRIVATE_SUPPORT)
    assert event["channel_type"] == "group"
    send(slack, event)
    [request] = requests(slack)
    assert (request.source, request.channel_id) == ("channel", PRIVATE_SUPPORT)
    [card] = posts_to(slack, PRIVATE_SUPPORT)
    assert card["thread_ts"] == event["ts"]
    assert "request_confirm" in action_ids(card["blocks"])


def test_a_post_with_a_file_attached_is_a_request_too(private_slack: SlackWorld) -> None:
    private_slack.import_directory()
    event = message_event(
        "UHEAD1",
        ASK,
        PRIVATE_SUPPORT,
        subtype="file_share",
        files=[{"id": "F0PLAN", "name": "send-plan.pdf", "mimetype": "application/pdf"}],
    )
    send(private_slack, event)
    [request] = requests(private_slack)
    assert request.description == ASK


def test_other_private_channels_are_not_read(private_slack: SlackWorld) -> None:
    private_slack.import_directory()
    send(private_slack, message_event("UHEAD1", ASK, "G0STAFFROOM"))
    assert requests(private_slack) == []


# --- a DM to the bot -------------------------------------------------------------------------
def test_a_dm_to_the_bot_becomes_a_request_announced_nowhere_public(slack: SlackWorld) -> None:
    slack.import_directory()
    event = message_event("UHEAD1", ASK, HEAD_DM)
    assert event["channel_type"] == "im"
    send(slack, event)
    [request] = requests(slack)
    assert request.channel_id == HEAD_DM
    [card] = posts_to(slack, HEAD_DM)
    assert card["thread_ts"] == event["ts"]
    click(slack, "UHEAD1", "request_confirm", str(request.id), channel_id=HEAD_DM)
    [request] = requests(slack)
    assert request.status == "offered"
    assert posts_to(slack, SUPPORT_CHANNEL) == [], "nothing about it in the shared channel"
    offered = [c for c in slack.fake.calls_to("chat.postMessage") if c.args["channel"][0] == "U"]
    assert offered, "supporters were asked by DM"


def test_a_few_words_of_thanks_in_a_dm_are_not_a_request(slack: SlackWorld) -> None:
    slack.import_directory()
    thanks = message_event("USLE1", "Thanks, will do!", "DSLE1")
    send(slack, thanks)
    send(slack, thanks)  # Slack's retry with a new delivery: one answer
    assert requests(slack) == []
    [hint] = posts_to(slack, "DSLE1")
    assert "To ask for support" in hint["text"]


# --- /support typed in a DM or a private channel --------------------------------------------
@pytest.mark.parametrize(
    ("channel_id", "channel_name"), [(HEAD_DM, "directmessage"), ("C0PRIVATE9", "privategroup")]
)
def test_support_typed_privately_is_confirmed_by_dm_only(
    slack: SlackWorld, channel_id: str, channel_name: str
) -> None:
    slack.import_directory()
    slack.sender.command(
        "/support", "SEND help", user_id="UHEAD1", channel_id=channel_id, channel_name=channel_name
    )
    [opened] = slack.fake.wait_for("views.open")
    metadata = opened.args["view"]["private_metadata"]
    assert json.loads(metadata)["private"] is True
    slack.sender.interact(
        view_submission_payload("UHEAD1", "request_new", request_form(), private_metadata=metadata)
    )
    slack.settle()
    [request] = requests(slack)
    assert request.status == "offered"
    assert posts_to(slack, SUPPORT_CHANNEL) == []
    cards = [p for p in posts_to(slack, "UHEAD1") if "Thanks" in p["text"]]
    assert len(cards) == 1


def test_support_typed_in_the_support_channel_is_still_announced_there(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.sender.command("/support", "SEND help", user_id="UHEAD1", channel_id=SUPPORT_CHANNEL)
    [opened] = slack.fake.wait_for("views.open")
    metadata = opened.args["view"]["private_metadata"]
    assert "private" not in json.loads(metadata)
    slack.sender.interact(
        view_submission_payload("UHEAD1", "request_new", request_form(), private_metadata=metadata)
    )
    slack.settle()
    assert [p for p in posts_to(slack, SUPPORT_CHANNEL) if "thread_ts" not in p]


# --- asked in a private channel made since 2021: a `C…` id and, in payloads, its own name -----
SLT_ROOM = "C0SLTROOM"
STAFFROOM = "C0STAFFROOM"


@pytest.fixture
def rooms(slack: SlackWorld) -> SlackWorld:
    """The bot, with a private SLT channel and a public staffroom that the bot is in."""
    slack.import_directory()
    slack.fake.add_conversation(SLT_ROOM, "private", bot_member=True, name="slt")
    slack.fake.add_conversation(STAFFROOM, "public", bot_member=True, name="staffroom")
    return slack


def ask_from(slack: SlackWorld, how: str, channel: str, name: str) -> None:
    """The head opens the request form in `channel` with the message shortcut or /support."""
    if how == "shortcut":
        message = slack.fake.add_message(channel, ASK, user="UHEAD1")
        payload = message_action_payload(
            "UHEAD1", "request_support_from_message", message, channel, channel_name=name
        )
        assert slack.sender.interact(payload)[0] == 200
    else:
        slack.sender.command(
            "/support", ASK, user_id="UHEAD1", channel_id=channel, channel_name=name
        )
    slack.settle()


def send_the_form(slack: SlackWorld) -> dict[str, Any]:
    """The head sends the form as it stands in Slack now; returns its metadata."""
    [opened] = slack.fake.calls_to("views.open")
    view = slack.fake.view(opened.response["view"]["id"])
    metadata = view["private_metadata"]
    payload = view_submission_payload(
        "UHEAD1", "request_new", request_form(), private_metadata=metadata
    )
    assert slack.sender.interact(payload)[0] == 200
    slack.settle()
    [request] = requests(slack)
    assert request.status == "offered"
    return dict(json.loads(metadata))


def dm_cards(slack: SlackWorld) -> list[dict[str, Any]]:
    return [p for p in posts_to(slack, "UHEAD1") if "Thanks" in p["text"]]


@pytest.mark.parametrize("how", ["shortcut", "command"])
def test_an_ask_in_a_private_channel_with_a_c_id_is_not_announced(
    rooms: SlackWorld, how: str
) -> None:
    ask_from(rooms, how, SLT_ROOM, "slt")
    assert send_the_form(rooms)["private"] is True
    assert posts_to(rooms, SUPPORT_CHANNEL) == [], "nothing about it in the shared channel"
    assert len(dm_cards(rooms)) == 1


@pytest.mark.parametrize("how", ["shortcut", "command"])
def test_an_ask_in_a_public_channel_is_still_announced(rooms: SlackWorld, how: str) -> None:
    ask_from(rooms, how, STAFFROOM, "staffroom")
    [opened] = rooms.fake.calls_to("views.open")
    assert json.loads(opened.args["view"]["private_metadata"])["private"] is True, (
        "private until Slack says otherwise: a form sent sooner is not announced"
    )
    assert "private" not in send_the_form(rooms)
    assert [p for p in posts_to(rooms, SUPPORT_CHANNEL) if "thread_ts" not in p]
    assert dm_cards(rooms) == []


@pytest.mark.parametrize(
    "fail",
    [
        lambda fake: fake.fail_permanently("conversations.info", "missing_scope"),
        lambda fake: fake.fail_next("conversations.info", status=500),
        lambda fake: fake.fail_next("views.update", status=500),
    ],
    ids=["info refused", "info 5xx", "update 5xx"],
)
def test_an_ask_errs_to_private_when_slack_does_not_confirm_the_channel_is_public(
    rooms: SlackWorld, fail: Any
) -> None:
    fail(rooms.fake)
    ask_from(rooms, "shortcut", STAFFROOM, "staffroom")
    assert send_the_form(rooms)["private"] is True
    assert posts_to(rooms, SUPPORT_CHANNEL) == []
    assert len(dm_cards(rooms)) == 1


# --- editing the original post ---------------------------------------------------------------
def test_editing_the_post_updates_an_open_request(slack: SlackWorld) -> None:
    slack.import_directory()
    original = message_event("UHEAD1", ASK, SUPPORT_CHANNEL)
    send(slack, original)
    [request] = requests(slack)
    new_text = ASK + " Our KS2 maths results also dropped badly."
    edit = changed_event(SUPPORT_CHANNEL, original, new_text, "1796000000.000500")
    send(slack, edit)
    [request] = requests(slack)
    assert request.description == new_text
    with slack.runtime.sessions() as session:
        tags = set(session.exec(select(RequestTag.tag_slug)))
    assert {"send", "maths"} <= tags
    [update] = slack.fake.calls_to("chat.update")
    assert "Maths" in texts(update.args["blocks"])

    owed = outbox_size(slack)
    send(slack, edit)  # a replay of the same edit (new delivery) changes nothing more
    send(slack, changed_event(SUPPORT_CHANNEL, original, new_text, "1796000000.000600"))
    assert outbox_size(slack) == owed
    assert len(slack.fake.calls_to("chat.update")) == 1


def test_someone_elses_edit_event_changes_nothing(slack: SlackWorld) -> None:
    slack.import_directory()
    original = message_event("UHEAD1", ASK, SUPPORT_CHANNEL)
    send(slack, original)
    forged = changed_event(
        SUPPORT_CHANNEL, {**original, "user": "UHEAD2"}, "Ignore this", "1796000000.000700"
    )
    send(slack, forged)
    assert requests(slack)[0].description == ASK
    assert slack.fake.calls_to("chat.update") == []


def accepted(slack: SlackWorld, channel: str) -> tuple[SupportRequest, dict[str, Any]]:
    """A head asks in `channel`, finds support, and USLE1 (or whoever was asked) accepts."""
    original = slack.fake.add_message(channel, ASK, user="UHEAD1")
    event = message_event("UHEAD1", ASK, channel, ts=original["ts"])
    send(slack, event)
    [request] = requests(slack)
    click(slack, "UHEAD1", "request_confirm", str(request.id), channel_id=channel)
    with slack.runtime.sessions() as session:
        offer = session.exec(select(Offer).where(Offer.request_id == request.id)).first()
        supporter = offer.supporter_id

    with slack.runtime.sessions() as session:
        who = session.get(Person, supporter).slack_user_id
    click(slack, who, "offer_accept", str(offer.id))
    [request] = requests(slack)
    assert request.status == "accepted"
    return request, event


def test_editing_an_accepted_request_s_post_asks_first(slack: SlackWorld) -> None:
    slack.import_directory()
    request, original = accepted(slack, SUPPORT_CHANNEL)
    new_text = ASK + " Update: the reviews are now next week."
    slack.fake.edit_message(SUPPORT_CHANNEL, original["ts"], new_text)
    edit = changed_event(SUPPORT_CHANNEL, original, new_text, "1796000001.000100")
    slack.fake.clear()
    send(slack, edit)
    send(slack, edit)
    assert requests(slack)[0].description == ASK, "not changed without asking"
    [prompt] = posts_to(slack, SUPPORT_CHANNEL)
    assert prompt["thread_ts"] == original["ts"]
    assert button_value(prompt["blocks"], "request_update_from_post") == str(request.id)

    click(slack, "UHEAD2", "request_update_from_post", str(request.id), channel_id=SUPPORT_CHANNEL)
    assert requests(slack)[0].description == ASK
    assert any("Only the head who asked" in text for text in slack.fake.replies_to("UHEAD2"))

    click(slack, "UHEAD1", "request_update_from_post", str(request.id), channel_id=SUPPORT_CHANNEL)
    assert requests(slack)[0].description == new_text
    with slack.runtime.sessions() as session:
        supporter = session.get(Person, requests(slack)[0].assigned_id).slack_user_id
    told = [p for p in posts_to(slack, supporter) if "updated request" in p["text"]]
    assert len(told) == 1 and "next week" in texts(told[0]["blocks"])
    done = [c.args for c in slack.fake.calls_to("chat.update") if "now matches" in c.args["text"]]
    assert done, "the question is answered in place"


# --- deleting the original post --------------------------------------------------------------
def test_deleting_the_post_asks_the_head_whether_to_cancel(slack: SlackWorld) -> None:
    slack.import_directory()
    original = message_event("UHEAD1", ASK, HEAD_DM)
    send(slack, original)
    [request] = requests(slack)
    gone = deleted_event(HEAD_DM, original, "1796000002.000100")
    slack.fake.clear()
    send(slack, gone)
    send(slack, gone)
    assert requests(slack)[0].status == "open", "never cancelled silently"
    [question] = posts_to(slack, "UHEAD1")
    assert "Do you want to cancel" in question["text"]
    assert button_value(question["blocks"], "request_cancel") == str(request.id)
    click(slack, "UHEAD1", "request_cancel", str(request.id))
    assert requests(slack)[0].status == "cancelled"


def test_deleting_a_post_the_bot_replied_under_asks_the_head_too(slack: SlackWorld) -> None:
    """The bot's card is a reply in the post's thread, so deleting the post leaves Slack's
    tombstone (`message_changed`, `message.subtype` "tombstone"), not `message_deleted`."""
    slack.import_directory()
    original = message_event("UHEAD1", ASK, SUPPORT_CHANNEL)
    send(slack, original)
    [request] = requests(slack)
    assert [c["thread_ts"] for c in posts_to(slack, SUPPORT_CHANNEL)] == [original["ts"]]
    slack.fake.clear()
    send(slack, tombstone_event(original, "1796000005.000100"))
    [question] = posts_to(slack, "UHEAD1")
    assert "Do you want to cancel" in question["text"]
    assert button_value(question["blocks"], "request_cancel") == str(request.id)
    # Once the replies go too, Slack sends `message_deleted` for the same post: asked once.
    send(slack, deleted_event(SUPPORT_CHANNEL, original, "1796000006.000100"))
    assert len(posts_to(slack, "UHEAD1")) == 1
    assert requests(slack)[0].status == "open", "never cancelled silently"
    assert posts_to(slack, SUPPORT_CHANNEL) == []


def test_deleting_an_accepted_request_s_post_says_it_carries_on(slack: SlackWorld) -> None:
    slack.import_directory()
    _, original = accepted(slack, SUPPORT_CHANNEL)
    slack.fake.clear()
    send(slack, deleted_event(SUPPORT_CHANNEL, original, "1796000003.000100"))
    [note] = posts_to(slack, "UHEAD1")
    assert "already under way" in note["text"]
    assert "request_cancel" not in action_ids(note["blocks"])
    assert requests(slack)[0].status == "accepted"


def test_deleting_a_message_that_was_not_a_request_does_nothing(slack: SlackWorld) -> None:
    slack.import_directory()
    other = message_event("UHEAD1", "hello", SUPPORT_CHANNEL, thread_ts="1796000000.000001")
    send(slack, deleted_event(SUPPORT_CHANNEL, other, "1796000004.000100"))
    assert slack.fake.calls_to("chat.postMessage") == []


# --- the listeners' own checks, fast ---------------------------------------------------------
def test_which_messages_count_as_posts_edits_and_deletions() -> None:
    dm = message_event("UHEAD1", ASK, HEAD_DM)
    private = message_event("UHEAD1", ASK, PRIVATE_SUPPORT)
    assert is_request_post(dm, None), "DMs count even without a support channel"
    assert is_request_post(private, PRIVATE_SUPPORT)
    assert not is_request_post(private, SUPPORT_CHANNEL)
    assert not is_request_post({**dm, "ts": None}, None)
    assert not is_request_post({**dm, "text": "   "}, None)
    edit = changed_event(HEAD_DM, dm, "new words", "1796000009.000100")
    assert edited_post(edit, None)["text"] == "new words"
    assert edited_post({**edit, "message": {**edit["message"], "bot_id": "B1"}}, None) is None
    assert edited_post({**edit, "message": "not a message"}, None) is None
    gone = deleted_event(PRIVATE_SUPPORT, private, "1796000009.000200")
    assert deleted_ts(gone, PRIVATE_SUPPORT) == private["ts"]
    assert deleted_ts(gone, SUPPORT_CHANNEL) is None
    assert deleted_ts({**gone, "deleted_ts": ["x"]}, PRIVATE_SUPPORT) is None
    tombstone = tombstone_event(private, "1796000009.000300")
    assert deleted_ts(tombstone, PRIVATE_SUPPORT) == private["ts"]
    assert deleted_ts(tombstone, SUPPORT_CHANNEL) is None
    assert edited_post(tombstone, PRIVATE_SUPPORT) is None, "a deletion, not an edit"
    assert deleted_ts({**tombstone, "message": {"subtype": "tombstone"}}, PRIVATE_SUPPORT) is None
    assert deleted_ts(edit, None) is None, "an edit is not a deletion"


def test_which_places_the_payload_shows_are_private() -> None:
    assert asked_privately("D0AB", "directmessage")
    assert asked_privately("C0AB", "privategroup")
    assert asked_privately("C0AB", "mpdm-a--b-1")
    assert asked_privately("G0AB", "staffroom")
    assert asked_privately(None, None), "no channel: nothing to confirm it is public"
    assert not asked_privately("C0AB", "general"), "a C id needs Slack's word either way"
