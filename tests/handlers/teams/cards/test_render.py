"""The Teams renderer: every neutral view has an Adaptive Card, and the bot's markup becomes
Teams Markdown without letting user text smuggle links in."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.messages import Action, Card, Confirm, encode_view, registered_views
from bot.core.text import escape
from bot.deployments.views import agreement_lines, agreement_to_confirm_card
from bot.directory.service import ImportReport, RejectedRow
from bot.directory.views import report_message
from bot.requests.post_changes import update_prompt
from handlers.teams.cards import MAX_TEXT, teams_text
from handlers.teams.cards.render import render_card, teams_activity


def test_every_registered_view_has_a_teams_renderer() -> None:
    rendered = set(render_card.registry)
    missing = [name for name, cls in registered_views().items() if cls not in rendered]
    assert missing == []


def _buttons(element: Any) -> list[dict[str, Any]]:
    if isinstance(element, dict):
        found = [element] if str(element.get("type", "")).startswith("Action.") else []
        return found + [b for value in element.values() for b in _buttons(value)]
    if isinstance(element, list):
        return [b for item in element for b in _buttons(item)]
    return []


@pytest.mark.parametrize("name", sorted(registered_views()))
@settings(max_examples=5, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_any_view_renders_as_a_card_teams_takes(name: str, data: st.DataObject) -> None:
    view = data.draw(st.from_type(registered_views()[name]))
    if hasattr(view, "tz"):
        view = dataclasses.replace(view, tz="Europe/London")
    activity = teams_activity({"text": "Notification", "view": encode_view(view)})
    content = activity["attachments"][0]["content"]
    assert activity["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert content["type"] == "AdaptiveCard" and content["version"] == "1.5"
    assert all(isinstance(block.get("text", ""), str) for block in content["body"])
    for button in _buttons(content):  # a form unfolds (ShowCard); its buttons are Execute
        if button["type"] == "Action.ShowCard":
            assert button["card"]["type"] == "AdaptiveCard" and button["card"]["actions"]
            continue
        assert button["type"] == "Action.Execute"
        assert "action" in button["data"] and isinstance(button["data"]["value"], str)
    json.dumps(activity)


def test_a_card_keeps_its_action_ids_and_values() -> None:
    content = render_card(update_prompt(7, assigned=True))
    assert content["actions"] == [
        {
            "type": "Action.Execute",
            "title": "Update the request",
            "verb": "request_update_from_post",
            "data": {"action": "request_update_from_post", "value": "7"},
            "style": "positive",
        }
    ]


def test_light_markup_becomes_teams_markdown() -> None:
    assert teams_text("*Hello* <@U1|Anna Balson>, see <https://x.org/a|the guide>") == (
        "**Hello** Anna Balson, see [the guide](https://x.org/a)"
    )
    assert teams_text("Fish &amp; chips &lt;5 pupils&gt;") == "Fish & chips <5 pupils>"
    assert teams_text("Press _Resume_ or <https://x.org/a_(b)>") == (
        "Press _Resume_ or [https://x.org/a\\_(b)](https://x.org/a_%28b%29)"
    )


def test_a_mention_inside_bold_stays_bold() -> None:
    assert teams_text("*<@U1|Sam> is supporting you.*") == "**Sam is supporting you.**"


def test_user_text_cannot_make_a_link() -> None:
    assert "](" not in teams_text("click [here](https://evil.example)")


HOSTILE_SCHOOL = "St **Evil** [x](http://evil) <at>Head</at> `code` __under__ Academy"


def test_user_text_stays_inert_inside_the_bot_markup() -> None:
    """A school named to smuggle bold, a link, a mention or code in is shown as written; the
    bot's own markup around it still becomes Teams Markdown."""
    shown = teams_text(f"*New request* from {escape(HOSTILE_SCHOOL)}: see <@U1|{escape('A*B')}>")
    assert shown.startswith("**New request** from St ")
    assert "\\*\\*Evil\\*\\*" in shown  # shown as typed: `\*` is a literal star
    assert "](" not in shown and "\\[x\\]" in shown
    assert "<at" not in shown and "< at>Head< /at>" in shown
    assert "\\`code\\`" in shown and "\\_\\_under\\_\\_" in shown
    assert shown.endswith("see A\\*B")
    assert _unescaped_markdown(shown) == {"**"}  # only the bot's bold is Markdown


def _unescaped_markdown(text: str) -> set[str]:
    """The Markdown a renderer would act on: unescaped `**`, `[`, `` ` ``, `<` + letter."""
    found = re.findall(r"(?<!\\)(\*\*|\[|`|<(?=[A-Za-z/]))", text)
    return set(found)


TYPED = [*"[]()<>@|&`~#\\ ab:\n", "**", "__", "http://e", "&lt;", "&amp;"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TYPED), max_size=20).map("".join))
def test_no_user_text_makes_markdown(typed: str) -> None:
    """Whatever someone types, escaped as the core escapes it, gives no link, tag, code or bold
    of its own. (A single `*word*` or `_word_` is indistinguishable from the bot's own
    emphasis, on Slack too, so stars and underscores come in pairs here.)"""
    shown = teams_text(f"From {escape(typed)}: ok")
    assert "](" not in shown
    assert _unescaped_markdown(shown) == set()
    assert not re.search(r"(?<!\\)\*|(?<![\\a-z])_|(?<!\\)_(?![a-z])", shown)
    assert not re.search(r"<[A-Za-z/!?]", shown)


def test_a_heading_or_a_quote_typed_at_a_line_start_is_shown_as_typed() -> None:
    assert teams_text("# Big\n&gt; quoted\n#12 stays") == "\\# Big\n\\> quoted\n#12 stays"


def test_a_link_or_a_mention_from_the_core_keeps_its_label_inert() -> None:
    shown = teams_text(
        f"<https://x.org/a|{escape('**big** [y](http://e)')}> by <@U2|{escape('<at>x')}>"
    )
    assert shown == "[\\*\\*big\\*\\* \\[y\\] (http://e)](https://x.org/a) by < at>x"
    # A bare link is labelled with its address as people read it.
    assert (
        teams_text("<https://x.org/?a=1&amp;b=2>")
        == "[https://x.org/?a=1&b=2](https://x.org/?a=1&b=2)"
    )


def test_hidden_characters_are_dropped_from_cards() -> None:
    card = Card(("Hello\u202e there",), (Action("a", "Go", "1"),))
    activity = teams_activity({"text": "Hi", "view": encode_view(card)})
    assert "\u202e" not in json.dumps(activity, ensure_ascii=False)


def test_a_payload_without_a_view_is_plain_text() -> None:
    assert teams_activity({"text": "*Done*"}) == {"type": "message", "text": "**Done**"}


def _inputs(element: Any) -> dict[str, dict[str, Any]]:
    if isinstance(element, dict):
        found = (
            {element["id"]: element} if str(element.get("type", "")).startswith("Input.") else {}
        )
        for value in element.values():
            found.update(_inputs(value))
        return found
    if isinstance(element, list):
        return {k: v for item in element for k, v in _inputs(item).items()}
    return {}


def test_a_button_that_opens_a_slack_modal_unfolds_its_form_on_teams() -> None:
    view = Card(
        ("Next steps",),
        (
            Action("deployment_book_visit", "Book first visit", "7"),
            Action("deployment_agreement", "Draft the agreement", "7"),
            Action("deployment_skip_visit", "Skip the visit", "7:visit"),
        ),
    )
    content = render_card(view)
    book, agreement, skip = content["actions"]
    assert book["type"] == agreement["type"] == "Action.ShowCard"
    assert _inputs(book)["visit_on"]["type"] == "Input.Date"
    assert [b["data"] for b in _buttons(book["card"])] == [
        {"action": "deployment_book_visit", "value": "7"}
    ]
    assert set(_inputs(agreement)) == {"objectives", "impact", "days", "review_on"}
    assert skip["type"] == "Action.Execute" and skip["data"]["value"] == "7:visit"


def test_the_closing_card_carries_the_summary_on_teams() -> None:
    view = Card(("Closed",), (Action("deployment_impact", "Rate progress", "7"),))
    actions = [b["data"]["action"] for b in render_card(view)["actions"]]
    assert actions == ["deployment_impact", "deployment_summary"]


def test_slack_emoji_shortcodes_become_characters_unknown_ones_stay() -> None:
    assert teams_text(":tada: done at 09:30: :not_an_emoji:") == "🎉 done at 09:30: :not_an_emoji:"


def test_a_button_slack_confirms_first_unfolds_the_question_on_teams() -> None:
    sure = Confirm(title="Cancel the visit?", text="The schools will be told.", yes="Cancel it")
    content = render_card(
        Card(("Your visit",), (Action("visit_cancel", "Cancel", "4", "danger", sure),))
    )
    [fold] = content["actions"]
    assert fold["type"] == "Action.ShowCard" and fold["title"] == "Cancel"
    assert "The schools will be told." in json.dumps(fold["card"]["body"])
    [yes] = fold["card"]["actions"]
    assert yes["title"] == "Cancel it" and yes["data"] == {"action": "visit_cancel", "value": "4"}


def test_a_long_agreement_is_shown_whole_in_pieces_teams_takes() -> None:
    objectives = tuple(f"Objective {n} & more: " + "x" * 470 + f" end {n}." for n in range(1, 7))
    text = agreement_lines(objectives, "Impact " + "y" * 1990 + " impact ends.", 6, None)
    content = render_card(agreement_to_confirm_card(7, "UTEAMS1", text))
    shown = "\n".join(block.get("text", "") for block in content["body"])
    assert all(f"end {n}." in shown for n in range(1, 7)) and "impact ends." in shown
    assert "& more" in shown and "…" not in shown
    assert all(len(block["text"]) <= MAX_TEXT for block in content["body"])


def _texts_of(card: Any) -> list[str]:
    return [block["text"] for block in card["body"] if block.get("type") == "TextBlock"]


def test_a_long_import_report_is_shown_in_pieces_saying_how_much_is_left_out() -> None:
    report = ImportReport()
    report.rejected = [RejectedRow(n, f"U{n:05d}", "unknown role 'head'") for n in range(2, 2002)]
    card = render_card(report_message(report, "R&D people.csv"))
    summary, *pieces, footnote = _texts_of(card)
    assert summary.startswith("⚠️ Directory import from R&D people.csv: 0 added"), summary
    assert 1 < len(pieces) <= 5 and all(len(piece) <= MAX_TEXT for piece in pieces)
    assert pieces[0].startswith("Directory import: ")
    shown = sum(piece.count("\n") + 1 for piece in pieces)
    left_out = int(re.search(r"About (\d+) more lines", footnote)[1])  # type: ignore[index]
    assert shown + left_out == len(report.render().splitlines())
    assert "python -m bot directory import FILE.csv" in footnote
    assert "line 2001 (U02001)" not in "\n".join(pieces) and "line 2 (U00002)" in pieces[0]


def test_a_short_import_report_is_shown_whole_with_what_to_do_next() -> None:
    checked = ImportReport(added=["U1"], dry_run=True)
    *_, footnote = _texts_of(render_card(report_message(checked, "people.csv")))
    assert footnote == "Nothing was saved. Import the file to make these changes."
    rejected = ImportReport(rejected=[RejectedRow(4, None, "no email")])
    *shown, footnote = _texts_of(render_card(report_message(rejected, "people.csv")))
    assert "line 4: no email" in shown[-1]
    assert footnote.startswith("Fix the rejected rows and import the file again")
