"""Text in the bot's markup (Slack's, as people's posts and escaped commands carry it) shown
as a person reads it, for the forms pre-filled from it."""

from __future__ import annotations

import pytest

from bot.core.text import chunk_text, readable
from bot.requests.intake import guess_title


@pytest.mark.parametrize(
    ("marked_up", "shown"),
    [
        ("ask <@U0NADIA|nadia>", "ask @nadia"),
        ("ask <@U0NADIA>", "ask @U0NADIA"),
        ("in <#C0YEAR4|year-4>", "in #year-4"),
        ("in <#C0YEAR4>", "in #C0YEAR4"),
        ("<!here> help", "@here help"),
        ("<!subteam^S0SLT|@slt> please", "@slt please"),
        ("see <https://x.example/a?b=1&amp;c=2|our plan>", "see our plan"),
        ("see <https://x.example/a?b=1&amp;c=2>", "see https://x.example/a?b=1&c=2"),
        ("mail <mailto:head@school.example|head@school.example>", "mail head@school.example"),
        ("SEND &amp; EHCP &lt;3 weeks, Q&amp;A &gt; none", "SEND & EHCP <3 weeks, Q&A > none"),
        ("typed &amp;lt; literally", "typed &lt; literally"),
        ("", ""),
    ],
)
def test_markup_is_shown_as_people_read_it(marked_up: str, shown: str) -> None:
    assert readable(marked_up) == shown


def test_a_title_is_guessed_from_readable_text_as_it_is() -> None:
    # Adapters hand the core readable text; reading it again would take "<30 and >" as markup.
    assert guess_title(readable("Hi all. <@U0NADIA|nadia> &amp; I need KS2 maths help")) == (
        "@nadia & I need KS2 maths help"
    )
    assert guess_title("Pupils scoring <30 and >70 need help") == (
        "Pupils scoring <30 and >70 need help"
    )


def test_long_text_is_cut_at_line_breaks_and_loses_nothing() -> None:
    text = "\n".join(f"Objective {n}: " + "x" * 480 for n in range(1, 13))
    pieces = chunk_text(text, 2900)
    assert all(len(piece) <= 2900 for piece in pieces) and len(pieces) == 3
    assert "\n".join(pieces) == text


def test_a_piece_never_ends_inside_a_mention_or_a_link() -> None:
    text = "word " * 570 + "<@U0123|Dr Anne-Marie Jones> and <https://example.org|the plan> end"
    pieces = chunk_text(text, 2870)  # the last space before 2,870 is inside the mention
    assert all(p.count("<") == p.count(">") for p in pieces)
    assert " ".join(pieces).split() == text.split()
