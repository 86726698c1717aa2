"""Coordinators' audit trail on Teams: `audit 12` in a chat, or *Audit trail* on a card about
request 12. The trail comes as a card in the coordinator's own 1:1 chat with the bot, never in
a shared chat or channel; anyone else is refused (and the refusal audited), as on Slack
(`handlers/slack/listeners/commands/audit.py`)."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import Session

from bot.core.context import ServiceContext
from bot.core.errors import InvalidInput
from bot.core.messages import Card
from bot.core.text import escape
from bot.home.audit import RequestTrail, TrailLine, request_trail_for
from bot.outbox.owing import owe_post
from bot.reach.people import normal_user_id
from handlers.teams.cards.render import AUDIT_TRAIL
from handlers.teams.context import TeamsContext
from handlers.teams.listeners.common import already_said
from handlers.teams.listeners.lifecycle import Step
from handlers.teams.listeners.values import target

NUMBER = re.compile(r"^#?([0-9]{1,9})\s*$")
USAGE = "Try *audit 12* (the request number) to see who did what to request 12."
LINES_PER_PARAGRAPH = 20
MOST_LINES = 200  # a Teams message holds about 28 KB; the CLI has the rest


def is_audit(command: str | None, rest: str) -> bool:
    """`audit` alone or before a number (so "audit of our SEND provision" is a request)."""
    words = rest.split()
    return command == "audit" and (not words or words[0].lstrip("#").isdigit())


def _line(line: TrailLine) -> str:
    who = f"<@{line.actor}>" if line.actor else "The bot"
    return f"*{escape(line.when)}* · {who} {escape(line.words)}"


def trail_card(trail: RequestTrail, zone: str) -> Card:
    """A request's audit trail as paragraphs of lines, oldest first."""
    lines = [_line(line) for line in trail.lines[:MOST_LINES]]
    paragraphs = [f"*Audit trail of request #{trail.request_id}*, oldest first. Times: {zone}."]
    if not lines:
        paragraphs.append("_Nothing has been recorded for this request yet._")
    for start in range(0, len(lines), LINES_PER_PARAGRAPH):
        paragraphs.append("\n".join(lines[start : start + LINES_PER_PARAGRAPH]))
    if len(trail.lines) > MOST_LINES:
        paragraphs.append(
            "The trail is longer than fits here: "
            f"`python -m bot audit --request {trail.request_id}`."
        )
    return Card(tuple(paragraphs))


def send_trail(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    request_id: int,
    dedupe_key: str | None = None,
) -> str:
    """Owe a coordinator the trail of request N in their 1:1 chat (NotAllowed for anyone
    else, NotFound for an unknown request); returns what to tell them."""
    trail = request_trail_for(session, actor=actor, request_id=request_id, tz=ctx.settings.tz)
    owe_post(
        session,
        now=ctx.now,
        channel=normal_user_id(actor),
        text=f"The audit trail of request #{request_id}.",
        view=trail_card(trail, ctx.settings.timezone),
        dedupe_key=dedupe_key,
    )
    return f"I've sent you the audit trail of request #{request_id} in our 1:1 chat."


def audit_reply(
    session: Session,
    ctx: ServiceContext,
    *,
    actor: str,
    rest: str,
    personal: bool = False,
    key: str | None = None,
) -> str:
    """`audit N`: the trail of request N, to a coordinator, once per message (`key`); ""
    when asked in their 1:1 chat, where the trail itself is the answer."""
    match = NUMBER.match(rest.strip())
    if match is None:
        raise InvalidInput({"text": USAGE})
    trail_key = f"{key}:trail" if key else None
    if trail_key and already_said(session, trail_key):
        return ""  # Teams delivered the message again: the trail is on its way
    told = send_trail(session, ctx, actor=actor, request_id=int(match[1]), dedupe_key=trail_key)
    return "" if personal else told


def audit_button(
    session: Session, ctx: TeamsContext, actor: str, value: str, _: dict[str, Any]
) -> str:
    """*Audit trail* on a card about a request."""
    request_id, _rest = target(value, "request")
    return send_trail(session, ctx.services.context(), actor=actor, request_id=request_id)


AUDIT_STEPS: dict[str, Step] = {AUDIT_TRAIL: audit_button}
