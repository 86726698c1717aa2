"""A coordinator's *End this support* through Slack: the button on their Home tab, the form
asking why, the submission ended before its ack (once, however many copies arrive), and
nobody else able to do it, as real signed requests against the bot and its fake Web API."""

from __future__ import annotations

import json
import threading
from typing import Any

from sqlmodel import select

from handlers.slack.stand_in.fake_slack import options_problems
from handlers.slack.stand_in.signing import (
    block_actions_payload,
    block_suggestion_payload,
    view_submission_payload,
)
from storage.models import AuditEntry, Deployment, SupportRequest
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_deployments import (
    HEAD,
    SUPPORTER,
    deployed,  # noqa: F401 (the fixture)
    opened,
    replies,
    send_checkin,
)
from tests.handlers.slack.test_home import click_in_home, open_home
from tests.support.blockkit import action_ids, button_value, texts

COORDINATOR = "UCOORD"
END, FORM = "deployment_end", "deployment_end_form"
REASON = "The school has joined a trust that supports it directly."
FIND, PICK, ANY_FORM = "deployment_end_find", "deployment_end_pick", "deployment_end_any_form"


def reason(words: str) -> dict[str, Any]:
    return {"reason": {"value": {"type": "plain_text_input", "value": words}}}


def end_form(slack: SlackWorld, deployment_id: int) -> dict[str, Any]:
    """The coordinator presses *End this support* on their Home tab; returns the form."""
    home = open_home(slack, COORDINATOR)
    assert button_value(home["blocks"], END) == str(deployment_id)
    click_in_home(slack, COORDINATOR, END, str(deployment_id))
    return opened(slack, FORM)


def submission(form: dict[str, Any], words: str, user: str = COORDINATOR) -> dict[str, Any]:
    return view_submission_payload(
        user, FORM, reason(words), form["private_metadata"], view_id="V0ENDFORM"
    )


def deployment(slack: SlackWorld, deployment_id: int) -> Deployment:
    with slack.runtime.sessions() as session:
        found = session.get(Deployment, deployment_id)
        assert found is not None
        return found


def audited(slack: SlackWorld, action: str) -> list[AuditEntry]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_coordinator_ends_a_support_from_their_home_tab(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    send_checkin(slack)
    form = end_form(slack, deployed)
    assert "Why is it ending?" in texts(form["blocks"])
    status, body, _ = slack.sender.interact(submission(form, REASON))
    assert (status, body) == (200, b"")  # the form closes once the support has ended
    slack.settle()
    ended = deployment(slack, deployed)
    assert (ended.status, ended.end_reason) == ("cancelled", REASON)
    with slack.runtime.sessions() as session:
        assert session.exec(select(SupportRequest)).one().status == "cancelled"
    assert "the support has ended" in replies(slack, COORDINATOR)
    for person in (HEAD, SUPPORTER):
        told = " ".join(texts(m.get("blocks")) for m in slack.fake.messages(person))
        assert REASON in told and "This support has ended, so this check-in is closed." in told
        assert "checkin_on_track" not in str([m.get("blocks") for m in slack.fake.messages(person)])
    [entry] = audited(slack, "deployment.ended")
    assert entry.actor == COORDINATOR
    # The Home tab is published again, without the button.
    home = slack.fake.home_view(COORDINATOR)
    assert home is not None and END not in action_ids(home["blocks"])


def test_the_request_card_says_the_support_has_ended_and_keeps_the_reason_private(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    """The card under the head's post in the support channel says the coordinators ended
    the support, not that the request was cancelled (as if by the head), and never why: the
    reason goes only to those on the support. The head's Home tab says the same."""
    form = end_form(slack, deployed)
    slack.sender.interact(submission(form, REASON))
    slack.settle()
    [card] = [
        m
        for m in slack.fake.messages(SUPPORT_CHANNEL)
        if "here's your request as I understood it" in texts(m.get("blocks"))
    ]
    shown = f"{card['text']} {texts(card['blocks'])}"
    assert "The coordinators have ended this support." in shown
    assert "cancelled" not in shown and REASON not in shown
    home = texts(open_home(slack, HEAD)["blocks"])
    assert "*Support ended* by the coordinators" in home and "Cancelled" not in home


def test_the_form_asks_again_without_a_reason(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    form = end_form(slack, deployed)
    status, body, _ = slack.sender.interact(submission(form, "   "))
    assert status == 200
    assert b'"response_action":"errors"' in body.replace(b" ", b"") and b"reason" in body
    assert deployment(slack, deployed).status == "active"


def test_a_double_submit_ends_the_support_once(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    """Slack may deliver one form twice (a double click, a retry): the same view id."""
    form = end_form(slack, deployed)
    payload = submission(form, REASON)
    assert_submitted_twice_ends_once(slack, payload)


def test_two_copies_submitted_at_once_end_it_once(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    form = end_form(slack, deployed)
    barrier, statuses = threading.Barrier(2), []

    def send(words: str) -> None:
        barrier.wait()
        statuses.append(slack.sender.interact(submission(form, words))[0])

    threads = [threading.Thread(target=send, args=(w,)) for w in (REASON, "Another reason")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    slack.settle()
    assert statuses == [200, 200]
    assert len(audited(slack, "deployment.ended")) == 1
    assert deployment(slack, deployed).end_reason in (REASON, "Another reason")
    head_told = [m for m in slack.fake.messages(HEAD) if "have ended the support" in m["text"]]
    assert len(head_told) == 1


def test_only_a_coordinator_can_end_a_support(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    assert END not in action_ids(open_home(slack, HEAD)["blocks"])
    assert END not in action_ids(open_home(slack, SUPPORTER)["blocks"])
    # A forged click opens no form; a forged submission ends nothing; both are audited.
    status, _, _ = slack.sender.interact(block_actions_payload(HEAD, END, str(deployed)))
    assert status == 200
    slack.settle()
    assert not [
        c for c in slack.fake.calls_to("views.open") if c.args["view"].get("callback_id") == FORM
    ]
    form = end_form(slack, deployed)
    status, body, _ = slack.sender.interact(submission(form, REASON, user=SUPPORTER))
    slack.settle()
    assert status == 200 and b"Only coordinators can end a support." in body
    assert deployment(slack, deployed).status == "active"
    assert [e.actor for e in audited(slack, "deployment.end.refused")] == [HEAD, SUPPORTER]
    assert "Only coordinators can end a support." in replies(slack, HEAD)


# --- End a support…: any active support, found by typing ------------------------------------
def find_form(
    slack: SlackWorld, find: str = FIND, callback_id: str = ANY_FORM, what: str = "End a support"
) -> dict[str, Any]:
    """The coordinator presses *End a support…* (or another `find` button) on their Home tab;
    returns the form as Slack holds it (with its view id)."""
    home = open_home(slack, COORDINATOR)
    assert button_value(home["blocks"], find) == "home"
    click_in_home(slack, COORDINATOR, find, "home")
    opened = [
        c for c in slack.fake.calls_to("views.open") if c.args["view"]["callback_id"] == callback_id
    ]
    assert opened and opened[-1].ok, f"no {what} form was opened"
    return dict(opened[-1].response["view"])


def suggest(
    slack: SlackWorld,
    form: dict[str, Any],
    typed: str,
    user: str = COORDINATOR,
    pick: str = PICK,
) -> Any:
    """Slack asks for the `pick` menu's options as `typed` is typed; returns the bot's answer."""
    status, body, headers = slack.sender.interact(
        block_suggestion_payload(user, pick, typed, view=form)
    )
    assert status == 200 and headers["content-type"].startswith("application/json")
    answer = json.loads(body)
    assert options_problems(answer) == []
    return answer


def chosen(answer: dict[str, Any], reason_words: str) -> dict[str, Any]:
    """The form's values once the first option of `answer` is chosen and a reason typed."""
    [option, *_] = answer["options"]
    return {
        "support": {PICK: {"type": "external_select", "selected_option": option}},
        **reason(reason_words),
    }


def test_a_coordinator_finds_any_support_by_typing_and_ends_it(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    form = find_form(slack)
    assert {"Which support?", "Why is it ending?"} <= set(texts(form["blocks"]).splitlines())
    assert suggest(slack, form, "castle vale") == {"options": []}
    answer = suggest(slack, form, "mere GREEN")
    [option] = answer["options"]
    assert option["value"] == str(deployed)
    assert option["text"]["text"].startswith("Mere Green Primary School (103413) — Sam Specialist")
    assert [o["value"] for o in suggest(slack, form, "sam")["options"]] == [str(deployed)]
    assert [o["value"] for o in suggest(slack, form, "1034")["options"]] == [str(deployed)]
    payload = view_submission_payload(
        COORDINATOR, ANY_FORM, chosen(answer, REASON), view_id=form["id"]
    )
    status, body, _ = slack.sender.interact(payload)
    assert (status, body) == (200, b"")  # the form closes once the support has ended
    slack.settle()
    ended = deployment(slack, deployed)
    assert (ended.status, ended.end_reason) == ("cancelled", REASON)
    [entry] = audited(slack, "deployment.ended")
    assert entry.actor == COORDINATOR
    for person in (HEAD, SUPPORTER):
        told = " ".join(texts(m.get("blocks")) for m in slack.fake.messages(person))
        assert REASON in told
    assert suggest(slack, form, "mere") == {"options": []}, "an ended support is not offered"
    home = slack.fake.home_view(COORDINATOR)
    assert home is not None and END not in action_ids(home["blocks"])


def test_the_same_form_submitted_twice_ends_the_support_once(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    form = find_form(slack)
    values = chosen(suggest(slack, form, "mere"), REASON)
    payload = view_submission_payload(COORDINATOR, ANY_FORM, values, view_id=form["id"])
    assert_submitted_twice_ends_once(slack, payload)


def test_only_a_coordinator_can_find_a_support_to_end(
    slack: SlackWorld,
    deployed: int,  # noqa: F811 (the fixture from test_deployments)
) -> None:
    assert FIND not in action_ids(open_home(slack, HEAD)["blocks"])
    # A forged click opens no form, and is refused kindly (and audited).
    status, _, _ = slack.sender.interact(block_actions_payload(SUPPORTER, FIND, "home"))
    assert status == 200
    slack.settle()
    assert not [
        c for c in slack.fake.calls_to("views.open") if c.args["view"]["callback_id"] == ANY_FORM
    ]
    assert "Only coordinators can end a support." in replies(slack, SUPPORTER)
    # Someone else typing in the menu is told why, and shown no support.
    form = find_form(slack)
    answer = suggest(slack, form, "mere", user=HEAD)
    assert answer == {
        "options": [
            {
                "text": {
                    "type": "plain_text",
                    "text": "Only coordinators can end a support.",
                    "emoji": True,
                },
                "value": "none",
            }
        ]
    }
    # Nor can they submit the form: nothing changes.
    values = chosen(suggest(slack, form, "mere"), REASON)
    payload = view_submission_payload(HEAD, ANY_FORM, values, view_id=form["id"])
    status, body, _ = slack.sender.interact(payload)
    slack.settle()
    assert status == 200 and b"Only coordinators can end a support." in body
    assert deployment(slack, deployed).status == "active"
    assert [e.actor for e in audited(slack, "deployment.find.refused")] == [SUPPORTER]
    assert [e.actor for e in audited(slack, "deployment.end.refused")] == [HEAD]


def assert_submitted_twice_ends_once(slack: SlackWorld, payload: dict[str, Any]) -> None:
    """The same form submitted twice: ended, audited and told once; the second is told so."""
    first = slack.sender.interact(payload)
    slack.settle()
    second = slack.sender.interact(payload)
    slack.settle()
    assert (first[0], first[1], second[0]) == (200, b"", 200)
    assert b"already ended" in second[1] and b"update" in second[1]
    assert len(audited(slack, "deployment.ended")) == 1
    head_told = [m for m in slack.fake.messages(HEAD) if "have ended the support" in m["text"]]
    assert len(head_told) == 1
