"""A coordinator's *Check-ins for a support…* through Slack: the button on their Home tab, the
form finding any support under way by typing (the menu's options served by the bot, each
saying how its check-ins stand), the choice to pause, resume or snooze saved before the ack
(once, however many copies arrive), bad or forged input sent back to the form, and nobody
else able to do it, as real signed requests against the bot and its fake Web API."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from handlers.slack.stand_in.signing import (
    block_actions_payload,
    view_submission_payload,
)
from tests.handlers.slack.conftest import SlackWorld
from tests.handlers.slack.test_deployments import (
    HEAD,
    SUPPORTER,
    deployed,  # noqa: F401 (the fixture)
    replies,
    send_checkin,
)
from tests.handlers.slack.test_ending_support import COORDINATOR, audited, deployment, find_form
from tests.handlers.slack.test_ending_support import suggest as suggest_for
from tests.handlers.slack.test_home import open_home
from tests.support.blockkit import action_ids, texts

FIND, PICK, FORM = (
    "deployment_checkins_find",
    "deployment_checkins_pick",
    "deployment_checkins_form",
)
REFUSED = "Only coordinators can change a support's check-ins."


def checkins_form(slack: SlackWorld) -> dict[str, Any]:
    """The coordinator presses *Check-ins for a support…* on their Home tab; returns the form
    as Slack holds it (with its view id)."""
    return find_form(slack, FIND, FORM, what="Check-ins for a support")


def suggest(slack: SlackWorld, form: dict[str, Any], typed: str, user: str = COORDINATOR) -> Any:
    """Slack asks for the menu's options as `typed` is typed; returns the bot's answer."""
    return suggest_for(slack, form, typed, user, PICK)


def values(support: dict[str, Any] | None, change: str | None) -> dict[str, Any]:
    """The form's state: the support chosen in the menu and the change chosen."""
    state: dict[str, Any] = {}
    if support is not None:
        state["support"] = {PICK: {"type": "external_select", "selected_option": support}}
    if change is not None:
        chosen = {"text": {"type": "plain_text", "text": change}, "value": change}
        state["change"] = {"value": {"type": "radio_buttons", "selected_option": chosen}}
    return state


def submitted(
    slack: SlackWorld, form: dict[str, Any], state: dict[str, Any], user: str = COORDINATOR
) -> tuple[int, bytes]:
    status, body, _ = slack.sender.interact(
        view_submission_payload(user, FORM, state, view_id=form["id"])
    )
    slack.settle()
    return status, body


def the_support(slack: SlackWorld, form: dict[str, Any], typed: str = "mere") -> Any:
    [option] = suggest(slack, form, typed)["options"]
    return option


def told_by_a_coordinator(slack: SlackWorld, user: str) -> list[str]:
    return [m["text"] for m in slack.fake.messages(user) if m["text"].startswith("A coordinator")]


def test_a_coordinator_finds_a_support_and_pauses_its_checkins(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    send_checkin(slack)
    form = checkins_form(slack)
    assert {"Which support?", "What should happen?"} <= set(texts(form["blocks"]).splitlines())
    assert suggest(slack, form, "castle vale") == {"options": []}
    option = the_support(slack, form, "mere GREEN")
    assert option["value"] == str(deployed)
    assert option["text"]["text"].startswith("Mere Green Primary School (103413) — Sam Specialist")
    assert (
        the_support(slack, form, "1034")["value"],
        the_support(slack, form, "sam")["value"],
    ) == (
        str(deployed),
        str(deployed),
    )
    assert submitted(slack, form, values(option, "pause")) == (200, b"")  # saved, then closed
    assert deployment(slack, deployed).checkins_paused
    [entry] = audited(slack, "deployment.checkins_paused")
    assert (entry.actor, entry.subject_id) == (COORDINATOR, str(deployed))
    assert "check-ins for this support are paused" in replies(slack, COORDINATOR)
    for person in (HEAD, SUPPORTER):
        [line] = told_by_a_coordinator(slack, person)
        assert line.startswith("A coordinator has paused the check-ins for the support at")
        # Their check-in message shows it in place: paused, with *Resume check-ins*.
        checkin = [m for m in slack.fake.messages(person) if m["text"].endswith("going?")][-1]
        assert checkin.get("edited") and "checkin_resume" in action_ids(checkin["blocks"])


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("resume", "Done: check-ins for this support are back on. The next is on"),
        ("snooze", "Done: the next check-in is put off for a week. The next is on"),
    ],
)
def test_resuming_and_snoozing_through_the_form(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
    change: str,
    said: str,
) -> None:
    form = checkins_form(slack)
    option = the_support(slack, form)
    if change == "resume":
        submitted(slack, form, values(option, "pause"))
    slack.clock.set(slack.clock.now() + timedelta(days=1))  # the first is due in 6 days
    assert submitted(slack, form, values(option, change)) == (200, b"")
    assert not deployment(slack, deployed).checkins_paused
    assert said in replies(slack, COORDINATOR)
    action = "resumed" if change == "resume" else "snoozed"
    [entry] = audited(slack, f"deployment.checkins_{action}")
    assert (entry.actor, entry.subject_id) == (COORDINATOR, str(deployed))
    assert len(told_by_a_coordinator(slack, HEAD)) == (2 if change == "resume" else 1)


def test_the_menu_says_how_each_supports_checkins_stand_before_choosing(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    form = checkins_form(slack)
    option = the_support(slack, form)
    assert option["text"]["text"] == (
        f"Mere Green Primary School (103413) — Sam Specialist · #{request_of(slack, deployed)} · "
        "next Mon 30 Nov"
    )
    submitted(slack, form, values(option, "pause"))
    assert the_support(slack, form)["text"]["text"].endswith(" · paused")
    slack.clock.set(slack.clock.now() + timedelta(days=2))  # Wednesday 25 November
    submitted(slack, form, values(option, "resume"))  # its cadence (fortnightly) from today
    assert the_support(slack, form)["text"]["text"].endswith(" · next Wed 9 Dec")
    # *End a support…*'s menu lists the same support as before, without its check-ins.
    [to_end] = suggest_for(slack, find_form(slack), "mere", COORDINATOR)["options"]
    assert to_end["text"]["text"].endswith(f"Sam Specialist · #{request_of(slack, deployed)}")


def request_of(slack: SlackWorld, deployment_id: int) -> int:
    return deployment(slack, deployment_id).request_id


def test_the_same_form_submitted_twice_pauses_once(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    form = checkins_form(slack)
    state = values(the_support(slack, form), "pause")
    assert submitted(slack, form, state) == (200, b"")
    assert submitted(slack, form, state) == (200, b"")
    assert deployment(slack, deployed).checkins_paused
    assert len(audited(slack, "deployment.checkins_paused")) == 1
    assert len(told_by_a_coordinator(slack, HEAD)) == 1
    assert "already paused, so nothing has changed" in replies(slack, COORDINATOR)


def test_bad_or_forged_input_goes_back_to_the_form(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    form = checkins_form(slack)
    option = the_support(slack, form)
    status, body = submitted(slack, form, values(None, None))
    assert status == 200
    assert json.loads(body) == {
        "response_action": "errors",
        "errors": {
            "support": "Please choose the support.",
            "change": "Please choose what should happen to its check-ins.",
        },
    }
    status, body = submitted(slack, form, values(option, "stop"))
    assert json.loads(body)["errors"] == {
        "change": "Please choose what should happen to its check-ins."
    }
    forged = {**option, "value": "99999"}
    status, body = submitted(slack, form, values(forged, "pause"))
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    assert "I can't find that support any more." in texts(answer["view"]["blocks"])
    assert not deployment(slack, deployed).checkins_paused
    assert audited(slack, "deployment.checkins_paused") == []
    assert told_by_a_coordinator(slack, HEAD) == []


def test_an_ended_support_is_not_changed(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    form = checkins_form(slack)
    option = the_support(slack, form)
    reason = {"reason": {"value": {"type": "plain_text_input", "value": "Joined a trust."}}}
    ended = values(option, None) | reason
    ended["support"] = {"deployment_end_pick": ended["support"][PICK]}
    payload = view_submission_payload(COORDINATOR, "deployment_end_any_form", ended, view_id="V9")
    assert slack.sender.interact(payload)[0] == 200
    slack.settle()
    status, body = submitted(slack, form, values(option, "pause"))
    assert status == 200 and b"already ended" in body and b"update" in body
    assert not deployment(slack, deployed).checkins_paused
    assert told_by_a_coordinator(slack, HEAD) == []


def test_only_a_coordinator_changes_a_supports_checkins(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    assert FIND not in action_ids(open_home(slack, HEAD)["blocks"])
    assert FIND not in action_ids(open_home(slack, SUPPORTER)["blocks"])
    # A forged click opens no form, and is refused kindly (and audited).
    status, _, _ = slack.sender.interact(block_actions_payload(SUPPORTER, FIND, "home"))
    assert status == 200
    slack.settle()
    assert not [
        c for c in slack.fake.calls_to("views.open") if c.args["view"]["callback_id"] == FORM
    ]
    assert REFUSED in replies(slack, SUPPORTER)
    # Someone else typing in the menu is told why, and shown no support.
    form = checkins_form(slack)
    answer = suggest(slack, form, "mere", user=HEAD)
    assert [(o["text"]["text"], o["value"]) for o in answer["options"]] == [(REFUSED, "none")]
    # Nor can they submit the form: nothing changes, and the refusal is audited.
    state = values(the_support(slack, form), "pause")
    status, body = submitted(slack, form, state, user=HEAD)
    assert status == 200 and REFUSED.encode() in body and b"update" in body
    assert not deployment(slack, deployed).checkins_paused
    assert [e.actor for e in audited(slack, "deployment.find.refused")] == [SUPPORTER]
    refused = audited(slack, "checkins.pause.refused")
    assert [(e.actor, e.subject_id) for e in refused] == [(HEAD, str(deployed))]
    assert REFUSED in replies(slack, HEAD)
    assert told_by_a_coordinator(slack, HEAD) == []
