"""The shape check on its own: what Slack sends passes, what it never sends is named."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest

from handlers.slack.listeners.common import (
    action_value,
    channel_id_of,
    user_id_of,
    view_metadata,
    view_values,
)
from handlers.slack.manifest import SHORTCUT_CALLBACK_ID
from handlers.slack.payloads import payload_problem
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    block_suggestion_payload,
    event_callback_body,
    message_action_payload,
    message_event,
    slash_command_body,
    view_submission_payload,
)

SECRET = "Pupil Jane Doe"  # a value that must never appear in a problem


def click(**changes: Any) -> dict[str, Any]:
    return {**block_actions_payload("U1", "request_show_full", "7", channel_id="C1"), **changes}


def submission(**view_changes: Any) -> dict[str, Any]:
    payload = view_submission_payload("U1", "request_new", {"title": {"value": SECRET}}, "{}")
    payload["view"] = {**payload["view"], **view_changes}
    return payload


def suggestion(**changes: Any) -> dict[str, Any]:
    """A block_suggestion: what was typed into a menu of the modal `submission()` shows."""
    view = {**submission()["view"], "blocks": [{"type": "input", "block_id": "support",
            "element": {"type": "external_select", "action_id": "pick"}}]}  # fmt: skip
    return {**block_suggestion_payload("U1", "pick", SECRET, view=view), **changes}


def event(**changes: Any) -> dict[str, Any]:
    body = json.loads(event_callback_body(message_event("U1", SECRET, "C1")))
    return {**body, **changes}


def command(**changes: Any) -> dict[str, Any]:
    form = dict(urllib.parse.parse_qsl(slash_command_body("/support", SECRET).decode()))
    return {**form, **changes}


def test_what_slack_sends_passes() -> None:
    modal_click = block_actions_payload(
        "U1", "checkin_note", "x", view=submission()["view"], action_type="static_select"
    )
    shortcut = message_action_payload(
        "U1", SHORTCUT_CALLBACK_ID, message_event("U2", SECRET, "C1"), "C1"
    )
    edited = message_event("U1", SECRET, "C1", subtype="message_changed")
    edited["message"] = message_event("U1", SECRET, "C1")
    for payload in (
        click(),
        modal_click,
        submission(),
        suggestion(),
        shortcut,
        event(),
        event(event=edited),
        command(),
        {"type": "url_verification", "challenge": "abc", "token": "t"},
        {"type": "app_rate_limited", "minute_rate_limited": 1},
    ):
        assert payload_problem(payload) is None, payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (click(actions={"a": 1}), "actions"),
        (click(actions=[None]), "actions.*"),
        (click(actions=[]), "actions"),
        (click(actions=[{"action_id": 5, "value": SECRET}]), "actions.*.action_id"),
        (click(actions=[{"action_id": "a", "selected_option": [SECRET]}]), "selected_option"),
        (click(user=SECRET), "user"),
        # Ids the bot owes messages to: one no sender recognises would be owed for ever.
        (click(user={"id": "¢\x90 Jane"}), "user.id"),
        (click(channel={"id": "c1; Jane"}), "channel.id"),
        (command(user_id="jane"), "user_id"),
        (command(channel_id="C1 Jane"), "channel_id"),
        (event(event={"type": "message", "user": "Jane", "text": "hi"}), "event.user"),
        (event(event={"type": "message", "channel": "#Jane", "text": "hi"}), "event.channel"),
        (click(container=[SECRET]), "container"),
        (suggestion(action_id=None), "action_id"),
        (suggestion(value=[SECRET]), "value"),
        (suggestion(user={"id": 5}), "user.id"),
        (suggestion(view={"type": "modal", "state": {"values": [SECRET]}}), "view.state.values"),
        (click(trigger_id=None), "trigger_id"),
        (click(type=["block_actions"]), "type"),
        (submission(state={"values": [SECRET]}), "view.state.values"),
        (submission(state={"values": {"b": [SECRET]}}), "view.state.values.*"),
        (submission(state={"values": {"b": {"a": None}}}), "view.state.values.*.*"),
        (submission(type=None), "view.type"),
        (submission(private_metadata={"x": SECRET}), "view.private_metadata"),
        ({**submission(), "view": SECRET}, "view"),
        (event(event=SECRET), "event"),
        (event(event={"type": "message", "text": [SECRET]}), "event.text"),
        (event(event={"type": "message", "message": SECRET}), "event.message"),
        (event(authorizations={"id": SECRET}), "authorizations"),
        (command(trigger_id=""), "trigger_id"),
        (command(user_id=""), "user_id"),
        (command(text=[SECRET]), "text"),
        ({"type": "url_verification", "challenge": [SECRET]}, "challenge"),
        ([SECRET], "body"),
        # Bolt's middleware reads these whatever the `type`, even with none or one unknown.
        ({"event": 5}, "event"),
        ({"type": "not_a_kind", "event": [SECRET]}, "event"),
        ({"view": SECRET}, "view"),
        ({"team": [SECRET]}, "team"),
        ({"authorizations": [SECRET]}, "authorizations"),
        ({"type": "url_verification", "challenge": "abc", "user": 5}, "user"),
    ],
)
def test_what_slack_never_sends_is_named_without_its_value(payload: Any, field: str) -> None:
    problem = payload_problem(payload)
    assert problem is not None and field in problem, problem
    assert SECRET not in problem and "Jane" not in problem


def test_null_state_values_are_an_empty_form_not_a_problem() -> None:
    assert payload_problem(submission(state={"values": None})) is None
    assert view_values(submission(state={"values": None})) == {}


@pytest.mark.parametrize(
    "body",
    [
        {"actions": {"a": 1}, "user": [1], "channel": "C1", "container": [2], "view": "x"},
        {"actions": [None], "user": None, "channel": None, "container": None, "view": None},
        {"actions": ["x"], "user": {"id": 5}, "channel": {"id": [1]}, "view": {"state": []}},
        {"actions": [{"value": 3, "selected_option": "x"}], "view": {"state": {"values": []}}},
        {"view": {"state": {"values": {"b": [1], "c": {"d": None}}}, "private_metadata": 5}},
        {"view": {"state": {"values": {"b": {"d": {"type": "datepicker", "selected_date": "x"}}}}}},
    ],
)
def test_payload_helpers_read_any_shape_as_empty(body: dict[str, Any]) -> None:
    assert isinstance(user_id_of(body), str)
    assert channel_id_of(body) in (None, "C1")
    assert action_value(body) == ""
    assert all(value in (None, "", []) for value in view_values(body).values())
    assert view_metadata(body) == {}
