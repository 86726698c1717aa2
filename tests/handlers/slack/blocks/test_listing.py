"""A page's lists cut to fit: the longest first, each cut saying how many more, and every
section kept."""

from __future__ import annotations

from handlers.slack.blocks import section
from handlers.slack.blocks.listing import Listing, fit_listings
from tests.support.blockkit import texts


def items(count: int, size: int = 1) -> list[list[dict[str, object]]]:
    return [[section(f"item {i}.{j}") for j in range(size)] for i in range(count)]


def test_lists_that_fit_are_left_whole() -> None:
    page = [Listing([section("head")], items(3), hidden=2, more="and {n} more")]
    assert len(fit_listings(page, limit=10)) == 5  # head, three items, "and 2 more"
    assert "and 2 more" in texts(fit_listings(page, limit=10))


def test_the_longest_list_is_cut_first_and_says_so_and_no_section_is_lost() -> None:
    page = [
        Listing([section("short")], items(2), more="and {n} more short ones"),
        Listing([section("long")], items(20, size=2), hidden=5, more="and {n} more long ones"),
        Listing([section("footer")]),
    ]
    blocks = fit_listings(page, limit=20)
    shown = texts(blocks)
    assert len(blocks) <= 20
    assert "short" in shown and "footer" in shown and "item 1.0" in shown
    assert "and 18 more long ones" in shown  # 13 of 20 cut, besides the 5 left out before
    assert "short ones" not in shown
