"""Block Kit for the weekly digest: the coordinators' summary, personal digests, and a plain
text rendering of any blocks for `python -m bot digest --dry-run`.

Every list is one section, cut to fit Slack's 3000 characters with "…and N more", so the
digest stays within Slack's limits (at most 50 blocks) however busy the week was.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.core.clock import short_day, when
from bot.reach.people import resolve_mentions
from handlers.slack.blocks import (
    SECTION_TEXT_LIMIT,
    Block,
    context,
    escape,
    fields,
    fit_message,
    header,
    section,
    truncate,
)
from handlers.slack.blocks.insight import headline_section
from handlers.slack.blocks.visits import personal_visit_line, visit_digest_lines

if TYPE_CHECKING:
    from bot.digest.views import (
        CoordinatorDigest,
        DeploymentItem,
        DigestWeek,
        PersonalDigest,
        RequestItem,
    )

LIST_BUDGET = SECTION_TEXT_LIMIT - 200
MAX_LINES = 25
SCHOOLS_PER_SUPPORTER = 4
IMPACT_EXCERPT = 200
STATUS_WORDS = {
    "open": "not sent out yet",
    "offered": "offered, awaiting acceptance",
    "accepted": "accepted",
    "closed": "completed",
    "cancelled": "cancelled",
    "expired": "nobody accepted",
}
OUTCOME_WORDS = {
    "on_track": "on track",
    "needs_attention": "needs attention",
    "completed": "completed",
    "snoozed": "snoozed",
}


# --- small pieces --------------------------------------------------------------------------------
def _waited(since: datetime | None, now: datetime) -> str:
    if since is None:
        return "a while"
    days = (now - since).days
    if days < 1:
        return "under a day"
    if days < 14:
        return "1 day" if days == 1 else f"{days} days"
    return f"{days // 7} weeks"


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _school(school: str | None) -> str:
    return escape(truncate(school, 60)) if school else "school not known"


def _needs(needs: tuple[str, ...]) -> str:
    shown = ", ".join(escape(label) for label in needs[:3])
    more = f" +{len(needs) - 3}" if len(needs) > 3 else ""
    return f" ({shown}{more})" if shown else ""


def _name(name: str) -> str:
    return escape(truncate(name, 60))


def list_section(title: str, lines: list[str], *, noun: str = "more") -> Block:
    """A titled list in one section block, cut to fit with "…and N more"."""
    out = [f"*{title}*"] if title else []
    used = sum(len(line) + 1 for line in out)
    shown = 0
    for line in lines:
        if shown >= MAX_LINES or used + len(line) + 1 > LIST_BUDGET:
            break
        out.append(line)
        used += len(line) + 1
        shown += 1
    if shown < len(lines):
        out.append(f"_…and {len(lines) - shown} {noun}_")
    return section("\n".join(out))


# --- the coordinators' digest --------------------------------------------------------------------
def _attention_lines(digest: CoordinatorDigest, tz: ZoneInfo) -> list[str]:
    lines = []
    for item in digest.attention:
        where = f"#{item.request_id} {_school(item.school)}"
        if item.kind == "missed":
            lines.append(
                f"• {where} — check-in *missed* {short_day(item.at, tz)} "
                f"(supporter {_name(item.supporter_name)})"
            )
        else:
            lines.append(
                f"• {where} — *needs attention*, flagged by {_name(item.by or 'someone')} "
                f"{short_day(item.at, tz)} (supporter {_name(item.supporter_name)})"
            )
    return lines


def _awaiting_lines(digest: CoordinatorDigest) -> list[str]:
    now = digest.week.as_of
    lines = []
    for item in digest.awaiting:
        where = f"#{item.request_id} {_school(item.school)}{_needs(item.needs)}"
        if item.escalated:
            lines.append(
                f"• {where} — *nobody available*; needs assigning by hand "
                f"(waiting {_waited(item.waiting_since, now)})"
            )
        else:
            lines.append(
                f"• {where} — waiting {_waited(item.waiting_since, now)}, "
                f"{_plural(item.offers_open, 'offer')} open"
            )
    return lines


def _request_lines(items: list[RequestItem]) -> list[str]:
    return [
        f"• #{i.request_id} {_school(i.school)}{_needs(i.needs)} — "
        f"{STATUS_WORDS.get(i.status, escape(i.status))}"
        for i in items
    ]


def _accepted_lines(items: list[DeploymentItem], tz: ZoneInfo) -> list[str]:
    return [
        f"• #{i.request_id} {_school(i.school)}{_needs(i.needs)} — "
        f"{_name(i.supporter_name)}, {short_day(i.started_at, tz)}"
        for i in items
    ]


def _completed_lines(items: list[DeploymentItem], tz: ZoneInfo) -> list[str]:
    lines = []
    for i in items:
        line = (
            f"• #{i.request_id} {_school(i.school)}{_needs(i.needs)} — "
            f"{_name(i.supporter_name)}, {short_day(i.ended_at or i.started_at, tz)}"
        )
        impact = " ".join((i.impact or "").split())
        if impact:
            line += f"\n      _Impact: “{escape(truncate(impact, IMPACT_EXCERPT))}”_"
        lines.append(line)
    return lines


def _last_word(item: DeploymentItem) -> str:
    if item.paused:
        return "check-ins paused"
    return OUTCOME_WORDS.get(item.last_outcome or "", "no answer yet")


def _active_lines(items: list[DeploymentItem]) -> list[str]:
    by_supporter: dict[int, list[DeploymentItem]] = defaultdict(list)
    for item in items:
        by_supporter[item.supporter_id].append(item)
    lines = []
    for deployments in by_supporter.values():
        shown = [
            f"#{d.request_id} {_school(d.school)} ({_last_word(d)})"
            for d in deployments[:SCHOOLS_PER_SUPPORTER]
        ]
        more = len(deployments) - len(shown)
        lines.append(
            f"• *{_name(deployments[0].supporter_name)}* ({len(deployments)}): "
            + ", ".join(shown)
            + (f" and {more} more" if more else "")
        )
    return lines


def coordinator_digest_blocks(digest: CoordinatorDigest, tz: ZoneInfo) -> list[Block]:
    """The coordinators' weekly digest: counts first, then short lists, within Slack's limits."""
    week = digest.week
    needs_attention = sum(1 for a in digest.attention if a.kind != "missed")
    missed = len(digest.attention) - needs_attention
    full = sum(1 for c in digest.capacity if c.active >= c.capacity)
    longest = (
        f" (longest {_waited(digest.awaiting[0].waiting_since, week.as_of)})"
        if digest.awaiting
        else ""
    )
    blocks: list[Block] = [
        header(f"Weekly digest — week of {week.week_start.day} {week.week_start:%B %Y}"),
        context(
            f"Activity from {when(week.start, tz)} to {when(week.end, tz)}; waiting, active "
            f"and capacity as of {when(week.as_of, tz)} ({tz.key})."
        ),
        fields(
            f"*New requests*\n{len(digest.new_requests)}",
            f"*Awaiting acceptance*\n{len(digest.awaiting)}{longest}",
            f"*Accepted*\n{len(digest.accepted)}",
            f"*Active deployments*\n{len(digest.active)}",
            f"*Needs attention*\n{needs_attention}",
            f"*Missed check-ins*\n{missed}",
            f"*Completed*\n{len(digest.completed)}",
            f"*Supporters at or near capacity*\n{len(digest.capacity)} ({full} full)",
        ),
    ]
    if digest.headline is not None:
        blocks.append(headline_section(digest.headline))
    lists = _digest_lists(digest, tz)
    shown = [list_section(title, lines) for title, lines in lists if lines]
    blocks += shown or [
        section("A quiet week: nothing new, nothing waiting and no check-ins to flag.")
    ]
    blocks.append(
        context(
            "Counts and statuses only: each request's details stay in its thread. Preview any "
            "week with `python -m bot digest --week YYYY-MM-DD --dry-run`."
        )
    )
    return fit_message(blocks, "The digest was cut short to fit in one message.")


def _digest_lists(digest: CoordinatorDigest, tz: ZoneInfo) -> list[tuple[str, list[str]]]:
    """The digest's short lists, each with its title, in the order coordinators read them."""
    return [
        (":warning: Check-ins needing attention or missed", _attention_lines(digest, tz)),
        (":hourglass: Awaiting acceptance (longest first)", _awaiting_lines(digest)),
        (":inbox_tray: New requests", _request_lines(digest.new_requests)),
        (":handshake: Accepted", _accepted_lines(digest.accepted, tz)),
        (":tada: Completed", _completed_lines(digest.completed, tz)),
        (":busts_in_silhouette: Active deployments by supporter", _active_lines(digest.active)),
        (
            ":chart_with_upwards_trend: Supporters at or near capacity",
            [
                f"• {_name(c.name)} — {c.active} of {c.capacity}"
                + (" (full)" if c.active >= c.capacity else " (one place left)")
                for c in digest.capacity
            ],
        ),
        (
            ":mag: Areas in demand with no supporter free",
            [
                f"• {escape(d.label)} — {_plural(d.waiting, 'request')} waiting"
                for d in digest.unmet_demand
            ],
        ),
        (":seedling: Growing leaders: deployments shadowed this year", _growing_lines(digest)),
        (":school: Open classrooms", visit_digest_lines(digest.visits)),
    ]


def _growing_lines(digest: CoordinatorDigest) -> list[str]:
    """Each aspiring leader who shadowed this academic year, then how many have yet to."""
    lines = [
        f"• {_name(g.name)} ({', '.join(g.roles)}) — "
        f"{_plural(len(g.request_ids), 'deployment')} ("
        + ", ".join(f"#{i}" for i in g.request_ids)
        + ")"
        for g in digest.growing_leaders
        if g.request_ids
    ]
    waiting = sum(1 for g in digest.growing_leaders if not g.request_ids)
    if waiting:
        lines.append(f"• {_plural(waiting, 'aspiring leader')} yet to shadow this year")
    return lines


# --- personal digests ----------------------------------------------------------------------------
def _next(item: DeploymentItem, tz: ZoneInfo) -> str:
    if item.paused:
        return "Check-ins are paused."
    if item.next_checkin is None:
        return ""
    return f"Next check-in {when(item.next_checkin, tz)}."


def personal_digest_blocks(digest: PersonalDigest, week: DigestWeek, tz: ZoneInfo) -> list[Block]:
    """One person's short weekly summary: their deployments, waiting requests and offers."""
    lines = []
    for item in digest.supporting:
        last = OUTCOME_WORDS.get(item.last_outcome or "", "no answer yet")
        lines.append(
            f"• You're supporting *{_school(item.school)}*{_needs(item.needs)} with "
            f"{_name(item.head_name)}, since {short_day(item.started_at, tz)}. Last check-in: "
            f"{last}. {_next(item, tz)}"
        )
    for item in digest.supported:
        lines.append(
            f"• {_name(item.supporter_name)} is supporting your school"
            f"{_needs(item.needs)}, since {short_day(item.started_at, tz)}. {_next(item, tz)}"
        )
    for request in digest.waiting:
        if request.escalated:
            lines.append(
                f"• Request #{request.request_id}{_needs(request.needs)}: nobody could take it "
                "yet, so the coordinators are finding someone by hand."
            )
        else:
            lines.append(
                f"• Request #{request.request_id}{_needs(request.needs)}: offered to system "
                f"leaders {_waited(request.waiting_since, week.as_of)} ago — you'll hear as soon "
                "as one accepts."
            )
    if digest.offers_waiting:
        lines.append(
            f"• {_plural(digest.offers_waiting, 'offer')} of support "
            f"{'is' if digest.offers_waiting == 1 else 'are'} waiting for your answer — see "
            "my earlier messages."
        )
    lines += [_team_line(place.role, place.deployment, tz) for place in digest.team]
    today = week.as_of.astimezone(tz).date()
    lines += [personal_visit_line(line, today) for line in digest.visits]
    return [
        header("Your week in school-to-school support"),
        list_section("", [line.rstrip() for line in lines], noun="more"),
        context(
            f"Your weekly summary for the week of {week.week_start.day} "
            f"{week.week_start:%B}. Answering check-ins when they come helps the coordinators "
            "help you."
        ),
    ]


def _team_line(role: str, item: DeploymentItem, tz: ZoneInfo) -> str:
    """A deployment someone is on as a colleague or a shadow."""
    lead = _name(item.supporter_name)
    where = f"*{_school(item.school)}*{_needs(item.needs)}"
    since = short_day(item.started_at, tz)
    if role == "shadow":
        return f"• You're shadowing {lead} supporting {where}, since {since}. {_next(item, tz)}"
    return f"• You're on {lead}'s team supporting {where}, since {since}. {_next(item, tz)}"


# --- as text -------------------------------------------------------------------------------------
_EMOJI = {
    ":warning:": "(!)",
    ":hourglass:": "",
    ":inbox_tray:": "",
    ":handshake:": "",
    ":tada:": "",
    ":busts_in_silhouette:": "",
    ":chart_with_upwards_trend:": "",
    ":mag:": "",
    ":white_check_mark:": "",
    ":zzz:": "",
}


def _plain(text: str) -> str:
    for code, replacement in _EMOJI.items():
        text = text.replace(code, replacement)
    text = resolve_mentions(text, lambda user_id, name: f"@{name or user_id}")
    text = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"\1", text)
    text = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"\1", text)
    text = text.replace("`", "")
    return html.unescape(text).strip()


def blocks_as_text(blocks: list[dict[str, Any]]) -> str:
    """Blocks as readable plain text (headers underlined, fields as "name: value")."""
    out: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            title = _plain(block["text"]["text"])
            out += [title, "=" * len(title)]
        elif kind == "section":
            if block.get("text"):
                out.append(_plain(block["text"]["text"]))
            if block.get("fields"):
                out.append(
                    "\n".join(_plain(f["text"]).replace("\n", ": ", 1) for f in block["fields"])
                )
        elif kind == "context":
            out.append(" · ".join(_plain(e.get("text", "")) for e in block.get("elements", [])))
        elif kind == "divider":
            out.append("-" * 40)
        if kind != "header":
            out.append("")
    return "\n".join(out).rstrip() + "\n"
