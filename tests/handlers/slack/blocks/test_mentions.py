"""Neutral mentions as Slack shows them: Slack users as `<@U…>` (Block Kit unchanged),
people known only on Teams by name, whatever the payload nests them in."""

from __future__ import annotations

from bot.core.messages import Card, encode_view
from bot.reach.people import mention, resolve_mentions
from handlers.slack.blocks.mentions import TEAMS_SOMEONE, slack_mentions
from handlers.slack.blocks.render import slack_payload
from storage.models import Person

CARA = "6f1c2b1e-2d3a-4c5b-9e8f-0a1b2c3d4e5f"
ANNA = Person(slack_user_id="U0ANNA", name="Anna Balson")
CARA_ON_TEAMS = Person(teams_user_id=CARA, name="Cara <Teams>")


def test_slack_users_keep_slacks_own_mention_and_teams_people_show_their_name() -> None:
    text = f"{mention(ANNA)} will support {mention(CARA_ON_TEAMS)}; cc <@U0OLD> and <@{CARA}>"
    assert slack_mentions(text) == (
        f"<@U0ANNA> will support Cara &lt;Teams&gt;; cc <@U0OLD> and {TEAMS_SOMEONE}"
    )


def test_every_string_of_a_rendered_payload_is_resolved() -> None:
    payload = {
        "text": f"Good news: {mention(ANNA)}",
        "view": encode_view(Card((f"{mention(CARA_ON_TEAMS)} asked for support",))),
    }
    rendered = slack_payload(payload)
    assert rendered["text"] == "Good news: <@U0ANNA>"
    assert "Cara &lt;Teams&gt; asked for support" in str(rendered["blocks"])
    assert "<@" + CARA not in str(rendered)


def test_text_without_mentions_is_left_alone() -> None:
    assert slack_mentions({"text": "a <b> & c", "n": 3}) == {"text": "a <b> & c", "n": 3}
    assert resolve_mentions("<!here> <#C1|x>", lambda i, n: "!") == "<!here> <#C1|x>"
