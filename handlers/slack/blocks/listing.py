"""A page made of sections whose lists can be cut to fit Slack's 100 blocks a view: the
longest list gives up its last item first, and every list cut says so ("and 12 more …"), so
no section ever silently disappears."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from handlers.slack.blocks import VIEW_BLOCK_LIMIT, Block, context


@dataclass(frozen=True)
class Listing:
    """One section: its opening blocks, a list (each item a few blocks), how to say what is
    left out (`more`, with `{n}` for how many), and its closing blocks."""

    head: Sequence[Block]
    items: Sequence[Sequence[Block]] = ()
    hidden: int = 0  # left out already, before the page was laid out
    more: str = ""
    tail: Sequence[Block] = field(default_factory=tuple)

    def blocks(self, shown: int | None = None) -> list[Block]:
        """The section with its first `shown` items (all by default)."""
        shown = len(self.items) if shown is None else shown
        left_out = self.hidden + len(self.items) - shown
        note = [context(self.more.format(n=left_out))] if left_out > 0 and self.more else []
        return [
            *self.head,
            *(block for item in self.items[:shown] for block in item),
            *note,
            *self.tail,
        ]


def fit_listings(listings: Sequence[Listing], limit: int = VIEW_BLOCK_LIMIT) -> list[Block]:
    """The sections in order, their lists cut until the page fits in `limit` blocks: each
    time, the list showing the most blocks loses its last item."""
    shown = [len(listing.items) for listing in listings]

    def size() -> int:
        return sum(len(listing.blocks(n)) for listing, n in zip(listings, shown, strict=True))

    while size() > limit:
        longest = max(
            (
                (sum(len(item) for item in listing.items[:n]), index)
                for index, (listing, n) in enumerate(zip(listings, shown, strict=True))
                if n > 0
            ),
            default=None,
        )
        if longest is None:
            break
        shown[longest[1]] -= 1
    return [
        block for listing, n in zip(listings, shown, strict=True) for block in listing.blocks(n)
    ]
