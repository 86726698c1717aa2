"""`/support` text as Slack sends it with the manifest's `should_escape: true`: mentions as
`<@U…|name>`, channels as `<#C…|name>`, links as `<https://…|label>` and `&`, `<`, `>` as
entities. Commands still parse; the forms pre-filled from it show readable text."""

from __future__ import annotations

import yaml

from handlers.slack.manifest import render_manifest
from handlers.slack.stand_in.signing import escaped_as_slack_sends
from storage.models import SupportRequest
from tests.handlers.slack.conftest import SlackWorld
from tests.handlers.slack.test_routing import request_now

PEOPLE = {"nadia": "UNLE1", "sam": "USLE1"}
CHANNELS = {"year-4": "C0YEAR4"}


def field_values(view: dict) -> dict[str, str]:
    """The pre-filled values of a modal's text inputs, by block id."""
    return {
        block["block_id"]: block["element"].get("initial_value", "")
        for block in view["blocks"]
        if block.get("type") == "input" and block["element"]["type"] == "plain_text_input"
    }


def test_the_manifest_asks_slack_to_escape_support_text() -> None:
    [command] = yaml.safe_load(render_manifest())["features"]["slash_commands"]
    assert command["should_escape"] is True


def test_the_stand_in_sends_typed_text_as_slack_escapes_it() -> None:
    typed = "assign 12 @nadia <now> & #13 in #year-4, https://x.example/a?b=1&c=2"
    assert escaped_as_slack_sends(typed, PEOPLE, CHANNELS) == (
        "assign 12 <@UNLE1|nadia> &lt;now&gt; &amp; #13 in <#C0YEAR4|year-4>, "
        "<https://x.example/a?b=1&amp;c=2>"
    )


def test_assign_typed_with_a_mention_as_slack_sends_it(slack: SlackWorld) -> None:
    slack.import_directory()
    request_id, _ = request_now(slack, "Our governors need help with governance")
    text = escaped_as_slack_sends(f"assign {request_id} @nadia", PEOPLE)
    status, _, _ = slack.sender.command("/support", text, user_id="UCOORD")
    slack.settle()
    assert status == 200
    assert any(f"request #{request_id} is now with" in t for t in slack.fake.replies_to("UCOORD"))
    with slack.runtime.sessions() as session:
        assert session.get(SupportRequest, request_id).assigned_id is not None


def test_the_request_form_shows_escaped_text_as_people_wrote_it(slack: SlackWorld) -> None:
    slack.import_directory()
    typed = "SEND & EHCP reviews <3 weeks late: ask @nadia, see https://x.example/plan"
    slack.sender.command("/support", escaped_as_slack_sends(typed, PEOPLE), user_id="UHEAD1")
    [opened] = slack.fake.wait_for("views.open")
    values = field_values(opened.args["view"])
    assert values["description"] == typed
    assert values["title"] == typed
    assert "send" in str(opened.args["view"])  # the area of need still inferred


def test_the_visit_form_shows_escaped_text_as_people_wrote_it(slack: SlackWorld) -> None:
    slack.import_directory()
    text = escaped_as_slack_sends("visit maths & phonics in #year-4", PEOPLE, CHANNELS)
    slack.sender.command("/support", text)
    [opened] = slack.fake.wait_for("views.open")
    assert "maths & phonics in #year-4" in field_values(opened.args["view"]).values()
