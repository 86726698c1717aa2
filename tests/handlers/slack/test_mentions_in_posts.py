"""A head's post that mentions a colleague: message events carry the mention as a bare id
(`<@U…>`), so the stored request names the person as the head saw them, not by an id nobody
can read, whether the post is new or edited."""

from __future__ import annotations

from handlers.slack.stand_in.signing import message_event
from tests.handlers.slack.conftest import SUPPORT_CHANNEL, SlackWorld
from tests.handlers.slack.test_asking_places import changed_event, requests, send

ASK = "Our SENCO <@U0SENCO> is on long-term sick and <@U0DEP> is covering. Can anyone help?"


def test_a_mention_in_a_new_post_is_stored_by_name(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.fake.users["U0SENCO"] = {"real_name": "Jane Smith"}
    slack.fake.users["U0DEP"] = {"real_name": "Sam Patel", "profile": {"display_name": "Sam P"}}
    send(slack, message_event("UHEAD1", ASK, SUPPORT_CHANNEL))
    [request] = requests(slack)
    assert request.description == (
        "Our SENCO @Jane Smith is on long-term sick and @Sam P is covering. Can anyone help?"
    )


def test_a_mention_added_by_an_edit_is_stored_by_name(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.fake.users["U0SENCO"] = {"real_name": "Jane Smith"}
    original = message_event("UHEAD1", "Our SENCO is on long-term sick.", SUPPORT_CHANNEL)
    send(slack, original)
    edited = "Our SENCO <@U0SENCO> is on long-term sick."
    send(slack, changed_event(SUPPORT_CHANNEL, original, edited, "1796000001.000100"))
    assert requests(slack)[0].description == "Our SENCO @Jane Smith is on long-term sick."


def test_a_name_slack_cannot_give_leaves_the_id_and_loses_nothing(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.fake.fail_permanently("users.info", "user_not_found")
    send(
        slack,
        message_event("UHEAD1", "Help please, ask <@U0SENCO> > <@U0DEP|dep>", SUPPORT_CHANNEL),
    )
    assert requests(slack)[0].description == "Help please, ask @U0SENCO > @dep"
