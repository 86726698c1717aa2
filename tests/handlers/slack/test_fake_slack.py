"""The fake Slack Web API answers slack_sdk like Slack; signed-request helpers satisfy Bolt."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App, BoltRequest
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from bot.core.clock import FixedClock
from handlers.slack.stand_in.fake_slack import (
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Call,
    FakeSlack,
    dm_channel_id,
)
from handlers.slack.stand_in.signing import (
    SlackSender,
    block_actions_payload,
    interaction_body,
    message_action_payload,
    message_event,
    sign,
    slash_command_body,
    view_submission_payload,
)

SECRET = "test-signing-secret"
TS = re.compile(r"^\d{10}\.\d{6}$")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(text: str = "Accept", value: str = "1", action_id: str = "accept") -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "value": value,
        "action_id": action_id,
    }


def modal(title: str = "Ask for support", blocks: list[dict[str, Any]] | None = None) -> dict:
    return {
        "type": "modal",
        "callback_id": "support_request",
        "title": {"type": "plain_text", "text": title},
        "blocks": blocks if blocks is not None else [section("Tell us what you need")],
    }


def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


# --- answers ----------------------------------------------------------------------------


def test_auth_test_names_the_bot_and_records_the_token(fake: FakeSlack, client: WebClient) -> None:
    response = client.auth_test()

    assert (response["user_id"], response["bot_id"], response["team_id"]) == (
        BOT_USER_ID,
        BOT_ID,
        TEAM_ID,
    )
    assert response["url"].startswith("https://")
    [call] = fake.calls_to("auth.test")
    assert call.token == "xoxb-test"
    assert call.ok and call.status == 200


def test_post_update_and_history_keep_messages_and_metadata(
    fake: FakeSlack, client: WebClient
) -> None:
    metadata = {"event_type": "school_support_outbox", "event_payload": {"outbox_id": 7}}
    first = client.chat_postMessage(
        channel="C0SUPPORT", text="First", blocks=[section("First")], metadata=metadata
    )
    second = client.chat_postMessage(channel="C0SUPPORT", text="Second")

    assert first["channel"] == "C0SUPPORT"
    assert TS.match(first["ts"]) and float(second["ts"]) > float(first["ts"])
    assert first["message"]["metadata"] == metadata
    assert first["message"]["blocks"][0]["text"]["text"] == "First"

    updated = client.chat_update(channel="C0SUPPORT", ts=first["ts"], text="First, edited")
    assert updated["message"]["text"] == "First, edited"

    plain = client.conversations_history(channel="C0SUPPORT")
    assert [m["text"] for m in plain["messages"]] == ["Second", "First, edited"]
    assert all("metadata" not in m for m in plain["messages"])

    with_meta = client.conversations_history(channel="C0SUPPORT", include_all_metadata=True)
    assert with_meta["messages"][1]["metadata"] == metadata
    assert [m["ts"] for m in fake.messages("C0SUPPORT")] == [first["ts"], second["ts"]]


def test_timestamps_follow_the_given_clock_and_never_repeat() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    with FakeSlack(clock=clock) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(5)]

    assert stamps[0].startswith(str(int(clock.now().timestamp())) + ".")
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 5


def test_history_honours_oldest_and_latest(fake: FakeSlack, client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C1", text=str(i))["ts"] for i in range(4)]

    between = client.conversations_history(channel="C1", oldest=stamps[0], latest=stamps[3])
    inclusive = client.conversations_history(
        channel="C1", oldest=stamps[0], latest=stamps[3], inclusive=True
    )
    limited = client.conversations_history(channel="C1", limit=1)

    assert [m["text"] for m in between["messages"]] == ["2", "1"]
    assert [m["text"] for m in inclusive["messages"]] == ["3", "2", "1", "0"]
    assert [m["text"] for m in limited["messages"]] == ["3"] and limited["has_more"] is True


def test_a_user_id_channel_is_the_same_dm_everywhere(fake: FakeSlack, client: WebClient) -> None:
    posted = client.chat_postMessage(channel="U0HEAD001", text="An offer for you")
    opened = client.conversations_open(users="U0HEAD001")

    assert posted["channel"] == opened["channel"]["id"] == dm_channel_id("U0HEAD001") == "D0HEAD001"
    history = client.conversations_history(channel=posted["channel"])
    assert [m["text"] for m in history["messages"]] == ["An offer for you"]
    assert fake.messages("U0HEAD001") == fake.messages("D0HEAD001") != []


def test_threads_show_in_replies_but_not_in_history(fake: FakeSlack, client: WebClient) -> None:
    parent = fake.add_message("C1", "We need SEND support", user="U0HEAD001")
    client.chat_postMessage(channel="C1", text="On it", thread_ts=parent["ts"])
    client.chat_postMessage(channel="C1", text="Matched", thread_ts=parent["ts"])

    history = client.conversations_history(channel="C1")
    replies = client.conversations_replies(channel="C1", ts=parent["ts"])

    assert [m["text"] for m in history["messages"]] == ["We need SEND support"]
    assert history["messages"][0]["reply_count"] == 2
    assert [m["text"] for m in replies["messages"]] == ["We need SEND support", "On it", "Matched"]
    assert all(m["thread_ts"] == parent["ts"] for m in replies["messages"])


def test_ephemeral_delete_and_permalink(fake: FakeSlack, client: WebClient) -> None:
    ephemeral = client.chat_postEphemeral(channel="C1", user="U0HEAD001", text="Only you")
    posted = client.chat_postMessage(channel="C1", text="Public")
    link = client.chat_getPermalink(channel="C1", message_ts=posted["ts"])
    client.chat_delete(channel="C1", ts=posted["ts"])

    assert TS.match(ephemeral["message_ts"])
    assert [m["text"] for m in fake.ephemeral_messages("C1")] == ["Only you"]
    assert link["permalink"].endswith(f"/archives/C1/p{posted['ts'].replace('.', '')}")
    assert fake.messages("C1") == []
    assert slack_error(lambda: client.chat_delete(channel="C1", ts=posted["ts"])).response[
        "error"
    ] == ("message_not_found")


def test_views_open_update_push_and_publish(fake: FakeSlack, client: WebClient) -> None:
    opened = client.views_open(trigger_id="1.2.abc", view={**modal(), "external_id": "req-1"})
    view_id = opened["view"]["id"]
    by_id = client.views_update(view_id=view_id, view=modal("Thank you"))
    by_external = client.views_update(external_id="req-1", view=modal("Sent"))
    pushed = client.views_push(trigger_id="1.2.abd", view=modal("More detail"))
    home = client.views_publish(user_id="U0HEAD001", view={"type": "home", "blocks": []})

    assert re.match(r"^V\w+$", view_id)
    assert by_id["view"]["id"] == by_external["view"]["id"] == view_id
    assert fake.view(view_id)["title"]["text"] == "Sent"
    assert pushed["view"]["id"] != view_id
    assert fake.home_view("U0HEAD001")["id"] == home["view"]["id"]
    stale = slack_error(lambda: client.views_update(view_id=view_id, hash="0.0", view=modal()))
    assert stale.response["error"] == "hash_conflict"
    missing = slack_error(lambda: client.views_update(view_id="VNOPE", view=modal()))
    assert missing.response["error"] == "not_found"


def test_users_info_defaults_configuration_and_strictness(
    fake: FakeSlack, client: WebClient
) -> None:
    default = client.users_info(user="U0ANY")["user"]
    fake.users["U0NLE01"] = {"real_name": "Priya Shah", "profile": {"email": "p.shah@school.org"}}
    configured = client.users_info(user="U0NLE01")["user"]
    found = client.users_lookupByEmail(email="p.shah@school.org")["user"]

    assert default["tz"] == "Europe/London" and default["real_name"]
    assert configured["real_name"] == configured["profile"]["real_name"] == "Priya Shah"
    assert found["id"] == "U0NLE01"
    fake.users_strict = True
    assert slack_error(lambda: client.users_info(user="U0ANY")).response["error"] == (
        "user_not_found"
    )
    assert client.users_info(user="U0NLE01")["user"]["tz"] == "Europe/London"


def test_unknown_methods_are_refused(fake: FakeSlack, client: WebClient) -> None:
    error = slack_error(lambda: client.api_call("chat.teleport", json={"channel": "C1"}))

    assert error.response["error"] == "unknown_method"
    assert fake.calls_to("chat.teleport")[0].error == "unknown_method"


# --- refusals ---------------------------------------------------------------------------

LONG_ID = "x" * 256


def _post(blocks: list[dict[str, Any]], text: str = "x") -> tuple[str, dict[str, Any]]:
    return "chat.postMessage", {"channel": "C1", "text": text, "blocks": blocks}


def _actions(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "actions", "elements": list(elements)}]


def _option(value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": value}, "value": value}


def _select(
    count: int, *, kind: str = "static_select", groups: list[int] | None = None, **extra: Any
) -> dict[str, Any]:
    """A select (or radio group, or overflow menu) of `count` options, or of option groups
    holding `groups` options each (their label `label`); `n` numbers its action id."""
    element: dict[str, Any] = {"type": kind, "action_id": f"pick{extra.get('n', 1)}"}
    if groups is None:
        element["options"] = [_option(f"{i}") for i in range(count)]
        return element
    element["option_groups"] = [
        {
            "label": {"type": "plain_text", "text": extra.get("label", "Group")},
            "options": [_option(f"{g}:{i}") for i in range(size)],
        }
        for g, size in enumerate(groups)
    ]
    return element


def _confirmed(title: str = "Sure?", text: str = "Really?", yes: str = "Yes") -> dict[str, Any]:
    """A button with a confirmation dialog."""
    dialog = {
        "title": {"type": "plain_text", "text": title},
        "text": {"type": "plain_text", "text": text},
        "confirm": {"type": "plain_text", "text": yes},
        "deny": {"type": "plain_text", "text": "Go back"},
    }
    return {**button(), "confirm": dialog}


def _form(**element: Any) -> dict[str, Any]:
    """A modal with one text input (its element's fields given)."""
    field = {
        "type": "input",
        "label": {"type": "plain_text", "text": "Detail"},
        "element": {"type": "plain_text_input", "action_id": "value", **element},
    }
    return {**modal(blocks=[field]), "submit": {"type": "plain_text", "text": "Send"}}


REFUSALS: dict[str, tuple[str, dict[str, Any], str]] = {
    "51 blocks": (*_post([section("x")] * 51), "invalid_blocks"),
    "section text over 3000": (*_post([section("x" * 3001)]), "invalid_blocks"),
    "field over 2000": (
        *_post([{"type": "section", "fields": [{"type": "mrkdwn", "text": "x" * 2001}]}]),
        "invalid_blocks",
    ),
    "header over 150": (
        *_post([{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]),
        "invalid_blocks",
    ),
    "button text over 75 in actions": (*_post(_actions(button("x" * 76))), "invalid_blocks"),
    "button text over 75 as accessory": (
        *_post([section("Offer", accessory=button("x" * 76))]),
        "invalid_blocks",
    ),
    "button value over 2000 in context": (
        *_post([{"type": "context", "elements": [button(value="x" * 2001)]}]),
        "invalid_blocks",
    ),
    "action_id over 255 in input": (
        *_post(
            [
                {
                    "type": "input",
                    "label": {"type": "plain_text", "text": "Detail"},
                    "element": {"type": "plain_text_input", "action_id": LONG_ID},
                }
            ]
        ),
        "invalid_blocks",
    ),
    "block_id over 255": (*_post([section("x", block_id=LONG_ID)]), "invalid_blocks"),
    "text over 40000": (*_post([], text="x" * 40_001), "msg_too_long"),
    "postMessage without channel": ("chat.postMessage", {"text": "x"}, "channel_not_found"),
    "update without channel": ("chat.update", {"ts": "1.2", "text": "x"}, "channel_not_found"),
    "ephemeral without channel": (
        "chat.postEphemeral",
        {"user": "U1", "text": "x"},
        "channel_not_found",
    ),
    "delete without channel": ("chat.delete", {"ts": "1.2"}, "channel_not_found"),
    "update of an unknown message": (
        "chat.update",
        {"channel": "C1", "ts": "1.000001", "text": "x"},
        "message_not_found",
    ),
    "views.open without trigger_id": ("views.open", {"view": modal()}, "invalid_arguments"),
    "modal title over 24": (
        "views.open",
        {"trigger_id": "1.2.a", "view": modal("x" * 25)},
        "invalid_arguments",
    ),
    "101 blocks in a view": (
        "views.open",
        {"trigger_id": "1.2.a", "view": modal(blocks=[section("x")] * 101)},
        "invalid_arguments",
    ),
    "button text over 75 in a view": (
        "views.publish",
        {"user_id": "U1", "view": {"type": "home", "blocks": _actions(button("x" * 76))}},
        "invalid_arguments",
    ),
    "101 options in a select": (*_post(_actions(_select(101))), "invalid_blocks"),
    "101 options in a group": (*_post(_actions(_select(0, groups=[101]))), "invalid_blocks"),
    "group label over 75": (
        *_post(_actions(_select(0, groups=[1], label="x" * 76))),
        "invalid_blocks",
    ),
    "11 radio buttons": (*_post(_actions(_select(11, kind="radio_buttons"))), "invalid_blocks"),
    "6 overflow options": (*_post(_actions(_select(6, kind="overflow"))), "invalid_blocks"),
    "confirm text over 300": (*_post(_actions(_confirmed(text="x" * 301))), "invalid_blocks"),
    "confirm title over 100": (*_post(_actions(_confirmed(title="x" * 101))), "invalid_blocks"),
    "confirm yes over 30": (*_post(_actions(_confirmed(yes="x" * 31))), "invalid_blocks"),
    "text input max_length over 3000": (
        "views.open",
        {"trigger_id": "1.2.a", "view": _form(max_length=3001)},
        "invalid_arguments",
    ),
    "initial value over max_length": (
        "views.open",
        {"trigger_id": "1.2.a", "view": _form(max_length=150, initial_value="x" * 151)},
        "invalid_arguments",
    ),
    "private_metadata over 3000": (
        "views.open",
        {"trigger_id": "1.2.a", "view": {**modal(), "private_metadata": "x" * 3001}},
        "invalid_arguments",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS), ids=list(REFUSALS))
def test_slack_refuses_what_real_slack_refuses(
    case: str, fake: FakeSlack, client: WebClient
) -> None:
    method, args, expected = REFUSALS[case]

    error = slack_error(lambda: client.api_call(method, json=args))

    assert error.response.status_code == 200
    assert error.response["error"] == expected
    assert fake.messages("C1") == []


# The same limits, exactly at the edge, are accepted: the fake is not stricter than Slack.
ACCEPTED_AT_THE_LIMIT: dict[str, tuple[str, dict[str, Any]]] = {
    "50 blocks": _post([section("x")] * 50),
    "section text of 3000": _post([section("x" * 3000)]),
    "header of 150": _post([{"type": "header", "text": {"type": "plain_text", "text": "x" * 150}}]),
    "button of 75 with value 2000": _post(_actions(button("x" * 75, value="x" * 2000))),
    "action_id and block_id of 255": _post(
        [{"type": "actions", "block_id": "b" * 255, "elements": [button(action_id="a" * 255)]}]
    ),
    "text of 40000": _post([], text="x" * 40_000),
    "context with an image and text": _post(
        [
            {
                "type": "context",
                "elements": [
                    {"type": "image", "image_url": "https://example.org/a.png", "alt_text": "a"},
                    {"type": "mrkdwn", "text": "x" * 3000},
                ],
            }
        ]
    ),
    "modal title of 24 with 100 blocks": (
        "views.open",
        {"trigger_id": "1.2.a", "view": modal("x" * 24, [section("x")] * 100)},
    ),
    "100 options, and two groups of 100": (
        *_post(_actions(_select(100), _select(0, groups=[100, 100], label="x" * 75, n=2))),
    ),
    "10 radio buttons, 5 overflow options": (
        *_post(_actions(_select(10, kind="radio_buttons"), _select(5, kind="overflow", n=2))),
    ),
    "a confirm dialog at its limits": (
        *_post(_actions(_confirmed(title="x" * 100, text="x" * 300, yes="x" * 30))),
    ),
    "an initial value of 3000 in an input of 3000": (
        "views.open",
        {"trigger_id": "1.2.a", "view": _form(max_length=3000, initial_value="x" * 3000)},
    ),
}


@pytest.mark.parametrize("case", list(ACCEPTED_AT_THE_LIMIT), ids=list(ACCEPTED_AT_THE_LIMIT))
def test_slack_accepts_values_at_its_limits(case: str, client: WebClient) -> None:
    method, args = ACCEPTED_AT_THE_LIMIT[case]

    assert client.api_call(method, json=args)["ok"] is True


def test_block_errors_point_at_the_offending_field(client: WebClient) -> None:
    error = slack_error(
        lambda: client.chat_postMessage(channel="C1", text="x", blocks=[section("x" * 3001)])
    )

    assert error.response["errors"] == [
        "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]


@pytest.mark.parametrize(
    ("token", "expected"),
    [(None, "not_authed"), ("xoxp-user-token", "invalid_auth"), ("garbage", "invalid_auth")],
)
def test_calls_without_a_bot_token_are_refused(
    fake: FakeSlack, token: str | None, expected: str
) -> None:
    client = WebClient(token=token, base_url=fake.url, retry_handlers=[])

    error = slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))

    assert error.response["error"] == expected
    assert fake.messages("C1") == []


# --- failures -----------------------------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_once(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)

    error = slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))
    client.auth_test()  # other methods are not affected
    retried = client.chat_postMessage(channel="C1", text="x")

    assert error.response.status_code == 429
    assert error.response.headers["Retry-After"] == "7"
    assert error.response["error"] == "ratelimited"
    assert retried["ok"] is True
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [429, 200]
    assert len(fake.messages("C1")) == 1


def test_fail_next_without_a_method_hits_any_call_the_given_number_of_times(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.fail_next(status=500, times=2)

    statuses = []
    for _ in range(3):
        try:
            statuses.append(client.auth_test().status_code)
        except SlackApiError as exc:
            statuses.append(exc.response.status_code)

    assert statuses == [500, 500, 200]
    assert fake.calls_to("auth.test")[0].error == "internal_error"


def test_an_outage_fails_everything_until_it_ends(fake: FakeSlack, client: WebClient) -> None:
    fake.outage()

    post = slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))
    auth = slack_error(client.auth_test)
    fake.end_outage()

    assert post.response.status_code == auth.response.status_code == 503
    assert post.response["error"] == "service_unavailable"
    assert client.chat_postMessage(channel="C1", text="x")["ok"] is True
    assert [c.status for c in fake.calls] == [503, 503, 200]


def test_a_5xx_can_answer_in_plain_text(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_next(status=502, text="<html>Bad Gateway</html>")

    error = slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))

    assert error.response.status_code == 502
    assert "non-JSON" in error.response["error"]
    assert fake.calls[0].response == {} and fake.calls[0].status == 502


def test_permanent_and_per_channel_errors(fake: FakeSlack, client: WebClient) -> None:
    fake.fail_permanently("views.publish", "not_enabled")
    fake.fail_channel("C0ARCHIVED", "is_archived")
    fake.fail_channel("U0LEFT", "account_inactive")

    publish = slack_error(
        lambda: client.views_publish(user_id="U1", view={"type": "home", "blocks": []})
    )
    archived = slack_error(lambda: client.chat_postMessage(channel="C0ARCHIVED", text="x"))
    left = slack_error(lambda: client.chat_postMessage(channel="U0LEFT", text="x"))
    left_open = slack_error(lambda: client.conversations_open(users="U0LEFT"))

    assert publish.response["error"] == "not_enabled"
    assert archived.response["error"] == "is_archived"
    assert left.response["error"] == left_open.response["error"] == "account_inactive"
    assert client.chat_postMessage(channel="C1", text="x")["ok"] is True
    fake.clear_failures()
    assert client.chat_postMessage(channel="C0ARCHIVED", text="x")["ok"] is True


# --- form-encoded calls -----------------------------------------------------------------


def test_form_encoded_post_decodes_json_fields(fake: FakeSlack, client: WebClient) -> None:
    metadata = {"event_type": "school_support_outbox", "event_payload": {"outbox_id": 3}}
    response = client.api_call(
        "chat.postMessage",
        data={
            "channel": "C1",
            "text": "From a form",
            "blocks": json.dumps([section("From a form")]),
            "metadata": json.dumps(metadata),
        },
    )

    [call] = fake.calls_to("chat.postMessage")
    assert response["ok"] is True
    assert call.args["blocks"] == [section("From a form")]
    assert fake.messages("C1")[0]["metadata"] == metadata


def test_form_encoded_blocks_are_checked_and_body_tokens_accepted(fake: FakeSlack) -> None:
    anonymous = WebClient(base_url=fake.url, retry_handlers=[])
    data = {"token": "xoxb-in-body", "channel": "C1", "text": "x"}

    too_many = slack_error(
        lambda: anonymous.api_call(
            "chat.postMessage", data={**data, "blocks": json.dumps([section("x")] * 51)}
        )
    )
    opened = anonymous.api_call(
        "views.open", data={**data, "trigger_id": "1.2.a", "view": json.dumps(modal())}
    )

    assert too_many.response["error"] == "invalid_blocks"
    assert opened["view"]["callback_id"] == "support_request"
    assert {c.token for c in fake.calls} == {"xoxb-in-body"}
    assert "token" not in fake.calls[0].args


# --- recording ----------------------------------------------------------------------------


def test_wait_for_blocks_until_calls_arrive(fake: FakeSlack, client: WebClient) -> None:
    def post_later() -> None:
        time.sleep(0.1)
        client.chat_postMessage(channel="C1", text="one")
        client.chat_postMessage(channel="C2", text="two")

    worker = threading.Thread(target=post_later)
    started = time.monotonic()
    worker.start()
    calls = fake.wait_for("chat.postMessage", count=2, timeout=5)
    waited = time.monotonic() - started
    in_c2 = fake.wait_for(lambda c: c.args.get("channel") == "C2")
    worker.join()

    assert waited < 2  # woken by the calls, not by the timeout
    assert [c.args["channel"] for c in calls] == ["C1", "C2"]
    assert len(in_c2) == 1 and isinstance(in_c2[0], Call)


def test_wait_for_times_out_naming_what_was_called(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    fake.fail_next("chat.update", status=429)
    slack_error(lambda: client.chat_update(channel="C1", ts="1.2", text="x"))

    with pytest.raises(AssertionError, match=r"auth\.test, chat\.update \(HTTP 429\)"):
        fake.wait_for("views.open", timeout=0.2)


def test_calls_are_indexed_and_can_be_cleared(fake: FakeSlack, client: WebClient) -> None:
    client.auth_test()
    client.chat_postMessage(channel="C1", text="x")
    first_indexes = [c.index for c in fake.calls]
    fake.clear()
    client.auth_test()

    assert first_indexes == [0, 1]
    assert [c.index for c in fake.calls] == [2]
    assert len(fake.messages("C1")) == 1  # clearing calls keeps what Slack holds


# --- signed requests ------------------------------------------------------------------------


def test_signature_matches_slacks_documented_example() -> None:
    # The worked example from Slack's "Verifying requests from Slack" guide.
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
        b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
        b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2F"
        b"commands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )

    headers = sign(body, "8f742231b10e8888abcd99yyyzzz85a5", timestamp=1531420618)

    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }


def test_signature_verifier_accepts_signed_bodies_and_rejects_tampering() -> None:
    verifier = SignatureVerifier(signing_secret=SECRET)
    body = slash_command_body(text="maths support for year 6")
    headers = sign(body, SECRET)

    assert verifier.is_valid_request(body, headers) is True
    assert verifier.is_valid_request(body + b"x", headers) is False
    assert SignatureVerifier("another-secret").is_valid_request(body, headers) is False
    stale = sign(body, SECRET, timestamp=int(time.time()) - 10 * 60)
    assert verifier.is_valid_request(body, stale) is False


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def bolt(fake: FakeSlack) -> Iterator[tuple[SlackSender, list[tuple[str, dict[str, Any]]]]]:
    """A Bolt app behind a real HTTP server, using the fake for the Web API; and what it saw."""
    seen: list[tuple[str, dict[str, Any]]] = []
    app = App(
        signing_secret=SECRET,
        client=WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[]),
        process_before_response=True,
    )

    @app.command("/support")
    def on_command(ack: Any, command: dict[str, Any]) -> None:
        ack()
        seen.append(("command", command))

    @app.action("offer_accept")
    def on_action(ack: Any, body: dict[str, Any]) -> None:
        ack()
        seen.append(("action", body))

    @app.view("support_request")
    def on_view(ack: Any, view: dict[str, Any]) -> None:
        ack()
        seen.append(("view", view))

    @app.shortcut("raise_support")
    def on_shortcut(ack: Any, shortcut: dict[str, Any]) -> None:
        ack()
        seen.append(("shortcut", shortcut))

    @app.event("message")
    def on_message(event: dict[str, Any], request: BoltRequest) -> None:
        seen.append(("message", {**event, "retry": request.headers.get("x-slack-retry-num")}))

    server = make_server(
        "127.0.0.1", 0, SlackRequestHandler(app), WSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield SlackSender(f"http://127.0.0.1:{server.server_port}/slack/events", SECRET), seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_bolt_accepts_every_kind_of_signed_request(
    fake: FakeSlack, bolt: tuple[SlackSender, list[tuple[str, dict[str, Any]]]]
) -> None:
    sender, seen = bolt
    offer = [
        {"type": "actions", "block_id": "offer", "elements": [button(action_id="offer_accept")]}
    ]
    message = {"type": "message", "ts": "1763888400.000100", "text": "Offer", "blocks": offer}

    statuses = [
        sender.command(text="maths for year 6", user_id="U0HEAD001")[0],
        sender.interact(
            block_actions_payload(
                "U0NLE01", "offer_accept", "42", channel_id="D0NLE01", message=message
            )
        )[0],
        sender.interact(
            view_submission_payload(
                "U0HEAD001",
                "support_request",
                {"detail": {"text": "Help with phonics"}, "tags": {"tags": ["send", "maths"]}},
                private_metadata="C0SUPPORT",
            )
        )[0],
        sender.interact(message_action_payload("U0HEAD001", "raise_support", message, "C0SUPPORT"))[
            0
        ],
        sender.event(message_event("U0HEAD001", "Can anyone help?", "C0SUPPORT"), retry_num=1)[0],
    ]

    assert statuses == [200] * 5
    kinds = dict(seen)
    assert kinds["command"]["text"] == "maths for year 6"
    assert kinds["command"]["user_id"] == "U0HEAD001"
    action = kinds["action"]["actions"][0]
    assert (action["action_id"], action["block_id"], action["value"]) == (
        "offer_accept",
        "offer",
        "42",
    )
    assert kinds["action"]["container"]["channel_id"] == "D0NLE01"
    values = kinds["view"]["state"]["values"]
    assert values["detail"]["text"] == {"type": "plain_text_input", "value": "Help with phonics"}
    assert [o["value"] for o in values["tags"]["tags"]["selected_options"]] == ["send", "maths"]
    assert kinds["view"]["private_metadata"] == "C0SUPPORT"
    assert kinds["shortcut"]["message"]["ts"] == message["ts"]
    assert kinds["message"]["text"] == "Can anyone help?"
    assert kinds["message"]["retry"] == ["1"]
    assert fake.calls_to("auth.test")  # Bolt checked the token against the fake


def test_bolt_refuses_forged_and_stale_requests(
    bolt: tuple[SlackSender, list[tuple[str, dict[str, Any]]]],
) -> None:
    sender, seen = bolt
    body = slash_command_body()
    form = "application/x-www-form-urlencoded"

    forged, _, _ = sender.post(body, form, headers={"X-Slack-Signature": "v0=" + "0" * 64})
    stale, _, _ = sender.post(body, form, timestamp=int(time.time()) - 10 * 60)
    challenge = sender.url_verification("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P")
    payload_only = sender.post(interaction_body({"type": "unknown"}), form)

    assert (forged, stale) == (401, 401)
    assert seen == []
    assert challenge[0] == 200
    assert b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" in challenge[1]
    assert payload_only[0] == 404  # signed and parsed, but no listener


# --- files --------------------------------------------------------------------------------


def fetch(url: str, token: str | None = None) -> tuple[int, bytes, str]:
    """GET a URL on the fake, optionally with a bearer token: (status, body, content type)."""
    request = urllib.request.Request(url)
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def fetch_post(url: str, data: bytes) -> tuple[int, bytes, str]:
    """POST raw bytes to a URL on the fake, as slack_sdk does to an upload URL."""
    request = urllib.request.Request(url, data=data, method="POST")
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read(), response.headers.get("Content-Type", "")


def test_files_upload_v2_shares_the_bytes_into_a_dm(fake: FakeSlack, client: WebClient) -> None:
    content = "slack_user_id,name\nU1,Zoë Ål\n".encode()
    channel = client.conversations_open(users="UCOORD")["channel"]["id"]

    response = client.files_upload_v2(
        channel=channel,
        content=content,
        filename="directory.csv",
        title="Directory",
        initial_comment="Here it is",
    )

    [shared] = fake.files("UCOORD")
    assert shared == {
        "id": response["file"]["id"],
        "name": "directory.csv",
        "title": "Directory",
        "content": content,
    }
    [url_call] = fake.calls_to("files.getUploadURLExternal")
    assert url_call.args["filename"] == "directory.csv"
    assert int(url_call.args["length"]) == len(content)
    assert url_call.response["upload_url"].startswith(fake.origin + "/upload/v1/")
    assert url_call.response["file_id"] == shared["id"]
    [complete] = fake.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == channel == dm_channel_id("UCOORD")
    assert response["file"]["ims"] == [channel]
    assert response["file"]["mimetype"] == "text/csv"
    [message] = fake.messages("UCOORD")
    assert message["text"] == "Here it is"
    assert [f["id"] for f in message["files"]] == [shared["id"]]
    # The shared file can be read back with the bot token, like any private file.
    assert fetch(response["file"]["url_private_download"], "xoxb-test")[:2] == (200, content)


def test_file_uploads_refuse_what_slack_refuses(fake: FakeSlack, client: WebClient) -> None:
    no_name = slack_error(
        lambda: client.api_call("files.getUploadURLExternal", params={"length": 3})
    )
    never_uploaded = client.files_getUploadURLExternal(filename="a.csv", length=3)
    not_sent = slack_error(
        lambda: client.files_completeUploadExternal(
            files=[{"id": never_uploaded["file_id"]}], channel_id="D0COORD"
        )
    )
    unknown = slack_error(
        lambda: client.files_completeUploadExternal(files=[{"id": "F404"}], channel_id="D0COORD")
    )
    stale_upload = urllib.request.Request(fake.origin + "/upload/v1/nope", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as bad_key:
        urllib.request.urlopen(stale_upload, timeout=5)
    bad_key.value.close()
    fake.fail_channel("UCOORD")
    upload = client.files_getUploadURLExternal(filename="a.csv", length=3)
    status, _, _ = fetch_post(upload["upload_url"], b"a,b")
    dead = slack_error(
        lambda: client.files_completeUploadExternal(
            files=[{"id": upload["file_id"]}], channel_id=dm_channel_id("UCOORD")
        )
    )

    assert no_name.response["error"] == "invalid_arguments"
    assert not_sent.response["error"] == unknown.response["error"] == "file_not_found"
    assert bad_key.value.code == 404
    assert status == 200
    assert dead.response["error"] == "channel_not_found"
    assert fake.files("UCOORD") == []


def test_added_files_are_served_to_the_bot_token_only(fake: FakeSlack) -> None:
    content = b"slack_user_id,name\r\nU1,Anna\r\n"
    file = fake.add_file("people list.csv", content)

    assert file["name"] == "people list.csv"
    assert file["mimetype"] == "text/csv"
    assert file["filetype"] == "csv"
    assert file["size"] == len(content)
    assert file["id"].startswith("F")
    assert fetch(file["url_private_download"], "xoxb-test") == (200, content, "text/csv")
    assert fetch(file["url_private"], "xoxb-test")[:2] == (200, content)
    assert fake.downloads() == [file["id"], file["id"]]

    no_token = fetch(file["url_private_download"])
    user_token = fetch(file["url_private_download"], "xoxp-someone")
    missing = fetch(file["url_private_download"].replace(file["id"], "F0000000404"), "xoxb-test")

    assert no_token[0] == 401
    assert json.loads(no_token[1]) == {"ok": False, "error": "not_authed"}
    assert user_token[0] == 401
    assert json.loads(user_token[1])["error"] == "invalid_auth"
    assert missing[0] == 404
    assert fake.downloads() == [file["id"], file["id"]]


# --- membership and response_urls -------------------------------------------------------------


def test_posts_are_refused_where_the_bot_is_not_a_member() -> None:
    with FakeSlack(bot_channels=["C0SUPPORT", "G0COORDS"]) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        fake.add_conversation("D0TWOHEADS", "im")
        fake.add_conversation("C0PRIVATE", "private")
        for channel in ("C0SUPPORT", "G0COORDS", "U0HEAD001", "D0HEAD001"):
            client.chat_postMessage(channel=channel, text="fine")
            client.chat_postEphemeral(channel=channel, user="U0HEAD001", text="fine")
        refused = {
            "C0STAFFROOM": "not_in_channel",
            "G0OTHERS": "channel_not_found",
            "C0PRIVATE": "channel_not_found",
            "D0TWOHEADS": "channel_not_found",
        }
        for channel, error in refused.items():
            for post in (client.chat_postMessage, client.chat_postEphemeral):
                with pytest.raises(SlackApiError) as exc:
                    post(channel=channel, user="U0HEAD001", text="hello")
                assert exc.value.response["error"] == error, channel
        fake.join("C0STAFFROOM")
        client.chat_postMessage(channel="C0STAFFROOM", text="joined")
        fake.leave("C0SUPPORT")
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C0SUPPORT", text="left")
        assert [m["text"] for m in fake.messages("C0STAFFROOM")] == ["joined"]


def test_conversations_info_says_which_conversations_are_private() -> None:
    """As Slack: `is_private` for private channels whatever their id (since 2021 `C…`),
    group DMs and private channels only when the bot is in them, a DM without `is_private`."""
    with FakeSlack(bot_channels=["C0STAFFROOM", "C0SLTROOM", "G0COORDS"]) as fake:
        client = WebClient(token="xoxb-test", base_url=fake.url, retry_handlers=[])
        fake.add_conversation("C0SLTROOM", "private", bot_member=True, name="slt")
        fake.add_conversation("C0HIDDEN", "private")
        fake.add_conversation("C0NEWS", "public", name="news")
        fake.add_conversation("G0HEADS", "mpim", bot_member=True)

        def info(channel: str) -> dict[str, Any]:
            return dict(client.conversations_info(channel=channel)["channel"])

        staffroom, news = info("C0STAFFROOM"), info("C0NEWS")
        assert (staffroom["is_private"], staffroom["is_channel"]) == (False, True)
        assert (news["name"], news["is_member"], news["is_private"]) == ("news", False, False)
        slt = info("C0SLTROOM")
        assert (slt["name"], slt["is_private"], slt["is_channel"]) == ("slt", True, True)
        coords = info("G0COORDS")
        assert (coords["is_private"], coords["is_group"]) == (True, True)
        assert (info("G0HEADS")["is_mpim"], info("G0HEADS")["is_private"]) == (True, True)
        dm = info("D0HEAD001")
        assert dm["is_im"] is True and "is_private" not in dm
        for hidden in ("C0HIDDEN", "G0OTHERS"):
            with pytest.raises(SlackApiError) as exc:
                client.conversations_info(channel=hidden)
            assert exc.value.response["error"] == "channel_not_found"


def test_response_urls_last_thirty_minutes_and_five_uses() -> None:
    clock = FixedClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    with FakeSlack(clock=clock) as fake:
        first = fake.new_response_url("commands", user="U0HEAD001", channel="D0TWOHEADS")
        second = fake.new_response_url("actions", user="U0HEAD002", channel="C0STAFFROOM")
        answers = [WebhookClient(first).send(text=f"{n}").status_code for n in range(6)]
        assert answers == [200] * 5 + [404]
        assert fake.calls_to("response_url")[-1].error == "used_url"
        clock.advance(minutes=31)
        late = WebhookClient(second).send(text="too late")
        assert late.status_code == 404 and json.loads(late.body)["error"] == "expired_url"
        unknown = WebhookClient(first.rsplit("/", 1)[0] + "/nope").send(text="x")
        assert unknown.status_code == 404

        assert [r["text"] for r in fake.responses("U0HEAD001")] == ["0", "1", "2", "3", "4"]
        assert fake.responses("U0HEAD002") == []
        assert fake.responses()[0]["channel"] == "D0TWOHEADS"
        assert fake.replies_to("U0HEAD001") == ["0", "1", "2", "3", "4"]


def test_response_urls_refuse_blocks_slack_refuses() -> None:
    with FakeSlack() as fake:
        url = fake.new_response_url("commands", user="U0HEAD001", channel="D0TWOHEADS")
        refused = WebhookClient(url).send(text="x", blocks=[section("x" * 3001)])
        assert refused.status_code == 400 and json.loads(refused.body)["error"] == "invalid_blocks"
        assert WebhookClient(url).send(text="x", blocks=[section("x" * 3000)]).status_code == 200
        assert [r["text"] for r in fake.responses("U0HEAD001")] == ["x"]


def test_the_sender_gives_commands_and_clicks_response_urls_the_fake_serves() -> None:
    with FakeSlack() as fake:
        minted: list[tuple[str, str | None, str | None]] = []

        def mint(kind: str, *, user: str | None, channel: str | None) -> str:
            minted.append((kind, user, channel))
            return fake.new_response_url(kind, user=user or "", channel=channel)

        sender = SlackSender("http://127.0.0.1:9/unused", SECRET, response_urls=mint)
        click = block_actions_payload("U0HEAD001", "offer_accept", "1", channel_id="C0X")
        swapped = sender.with_response_url(click)
        assert str(swapped["response_url"]).startswith(f"{fake.origin}/hooks/actions/")
        home = block_actions_payload("U0HEAD001", "offer_accept", "1", view={"id": "V1"})
        assert sender.with_response_url(home) is home
        assert minted == [("actions", "U0HEAD001", "C0X")]


def test_rate_limits_answer_429_with_retry_after_and_act_on_nothing(
    fake: FakeSlack, client: WebClient
) -> None:
    fake.limit_rates({"chat.postMessage": 0.01, "chat.update": 0.01}, per_channel=None)
    posted = client.chat_postMessage(channel="C0SUPPORT", text="first")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C0OTHER", text="too soon")
    assert refused.value.response.status_code == 429
    assert refused.value.response["error"] == "ratelimited"
    assert int(refused.value.response.headers["Retry-After"]) >= 90
    assert fake.messages("C0OTHER") == [], "a refused call changes nothing"
    client.chat_update(channel="C0SUPPORT", ts=posted["ts"], text="edited")  # its own bucket
    assert client.auth_test()["ok"], "a method not limited is answered"
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [200, 429]
    fake.unlimit_rates()
    assert client.chat_postMessage(channel="C0OTHER", text="now")["ok"]


def test_rate_limits_hold_each_channel_to_its_own_pace(fake: FakeSlack, client: WebClient) -> None:
    fake.limit_rates({}, per_channel=0.01, channel_burst=2)
    for _ in range(2):
        client.chat_postMessage(channel="C0SUPPORT", text="burst")
    with pytest.raises(SlackApiError) as refused:
        client.chat_postMessage(channel="C0SUPPORT", text="third")
    assert refused.value.response.status_code == 429
    assert client.chat_postMessage(channel="C0OTHER", text="elsewhere")["ok"]
    assert client.chat_postMessage(channel="UHEAD1", text="a DM")["ok"]
