"""Block Kit for the supply-and-demand headline, shown in the digest and a coordinator's Home."""

from __future__ import annotations

from bot.insight.service import Headline, headline_lines
from handlers.slack.blocks import Block, escape, section


def headline_section(headline: Headline) -> Block:
    """This term's supply and demand in a few lines, with the largest gaps: counts only."""
    lines = [f"*Supply and demand — {escape(headline.period_label)} so far*"]
    lines += [escape(line) for line in headline_lines(headline)]
    if headline.gaps:
        lines.append("*Largest gaps*")
        lines += [f"• {escape(gap)}" for gap in headline.gaps]
    return section("\n".join(lines))
