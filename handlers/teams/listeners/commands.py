"""The bot's commands in Teams (the manifest's command list): `support …` (only as the command
list writes it or before a colon: "Support needed with…" is a request that keeps its first
word); `home`, `away`, `back` and `help` (each only as the whole message: "Help! Our SENCO has
left…" is a request); the changes `assign N <name or email>` (coordinators), `suggest N <name
or email>` (a supporter offered request N), `visit: …` (asking to visit a classroom),
`visit-assign N <name or email> [override]` (coordinators: a host for visit N) and `audit N`
(coordinators: the trail comes in their 1:1 chat). Each answers once per message, in the chat
it came from."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session

from bot.core.context import ServiceContext
from bot.core.errors import InvalidInput, UserFacingError
from bot.directory.people import person_named
from bot.home.service import HomeData, set_availability
from bot.reach.people import mention, user_id_of
from bot.routing.flows import check_may_assign, offer_held_for
from bot.routing.service import assign_request, suggest_colleague
from bot.visits.assigning import assign_host, check_may_assign_host
from handlers.teams.listeners.audit import is_audit

# Bare-word commands are the whole message ("Help!", "back."): "Help! Our SENCO has left…"
# or "Home learning and attendance…" is a request, not a command.
BARE_COMMAND = re.compile(r"^\s*(help|\?|home|away|back)[\s.!?:,;-]*$", re.IGNORECASE)
# `visit` asks to visit a classroom only with a colon ("visit: mastery maths…") or alone:
# "Visit from a maths SLE needed…" is a support request. `support` is checked further
# (`is_support_command`); group 2 is the colon straight after the command word.
COMMAND = re.compile(
    r"^\s*(support|assign|suggest|visit-assign|visit(?=\s*(?::|$))|audit)\b(\s*:)?[\s:,-]*",
    re.IGNORECASE,
)
# "visit mastery maths…" without the colon: a visit or a request? The bot asks (`messages`).
VISIT_WITHOUT_COLON = re.compile(r"^\s*visit\b(?!-)", re.IGNORECASE)
NUMBERED = re.compile(r"^#?(\d{1,9})\s+(\S.*)$", re.DOTALL)
HELP_TEXT = (
    "*I broker school-to-school support.* Tell me in a sentence or two what your school needs "
    'help with (for example: "We need support with SEND provision in Key Stage 2") and I\'ll '
    "offer it to the best-matched system leaders. You'll hear here when someone accepts.\n\n"
    "Commands: *support* followed by your request, *home* for where things stand, *away* to "
    "pause new offers and *back* to resume them, *help* for this. Offered a request you "
    "can't take? *suggest 12 Sam Jones* (or their email) offers request 12 to a colleague. "
    "To see good practice in another school: *visit:* and what you'd like to see (for example "
    "*visit: mastery maths in Year 4*). Coordinators: *assign 12 Sam Jones* assigns (or "
    "reassigns) request 12, *visit-assign 7 Sam Jones* makes them the host of visit 7 when no "
    "school has taken it (add *override* to set the hosting rules aside), and *audit 12* shows "
    "who did what to request 12.\n\n"
    "Please don't name pupils or staff. Details are shared only with the people who can help "
    "and your coordinators."
)


def split_command(text: str) -> tuple[str | None, str]:
    """The command a message is or starts with (lower case), if any, and the rest of it."""
    bare = BARE_COMMAND.match(text)
    if bare is not None:
        return ("help" if bare.group(1) == "?" else bare.group(1).lower()), ""
    match = COMMAND.match(text)
    if match is None:
        return None, text
    word, colon, rest = match.group(1), match.group(2), text[match.end() :].strip()
    if word.lower() == "support" and not is_support_command(word, colon, rest):
        return None, text  # "Support needed with phonics…" keeps its first word
    return word.lower(), rest


def is_support_command(word: str, colon: str | None, rest: str) -> bool:
    """`support` alone, before a colon ("Support: our SENCO…"), or as the command list puts
    it, in lower case before a sentence of its own ("support We need…"); not the first word of
    a request ("Support needed with phonics…", "support for our SENCO…")."""
    return not rest or colon is not None or (word == "support" and rest[0].isupper())


def may_mean_a_visit(command: str | None, text: str) -> bool:
    """A message that is no command but begins with the word "visit": it may ask to visit a
    school (`visit:` without its colon) or for support ("Visit from a maths SLE…")."""
    return command is None and VISIT_WITHOUT_COLON.match(text) is not None


def availability_reply(session: Session, *, now: datetime, actor: str, away: bool) -> str:
    """`away` / `back`: the change, in words (or why not)."""
    try:
        change = set_availability(session, now=now, actor=actor, available=not away)
    except UserFacingError as exc:
        return exc.message
    if away:
        return "You're marked away: I won't offer you anything new until you say *back*."
    return "Welcome back: I'll offer you requests that match your expertise again." + (
        "" if change.changed else " (You were already available.)"
    )


def home_text(home: HomeData) -> str:
    """A person's home, as a short message."""
    if home.name is None:
        return "You're not in the support directory yet. Tell me what your school needs."
    lines = [f"*Where things stand for {home.name}*"]
    if home.requests is not None:
        lines.append(f"Your requests: {home.requests_total}")
        lines += [f"- #{line.id} {line.status}" for line in home.requests]
    if home.supporter is not None:
        supporter = home.supporter
        state = "available" if supporter.available else "away"
        lines.append(
            f"Offers waiting for your answer: {supporter.offers_total}. Supporting "
            f"{supporter.active} of {supporter.capacity} at once; you are {state}."
        )
    if home.coordinator is not None:
        counts = ", ".join(f"{n} {status}" for status, n in home.coordinator.counts.items())
        lines.append(f"All requests: {counts or 'none yet'}.")
        lines.append(f"Needing attention: {home.coordinator.attention_total}.")
    return "\n".join(lines)


def is_change(command: str | None, rest: str) -> bool:
    """`assign`/`suggest` followed by a request number (a head's "Suggest a mentor for…" is a
    request, not a command), `audit` alone or before a number, `visit: …` and `visit-assign …`."""
    if command in ("visit", "visit-assign"):
        return True
    if command == "audit":
        return is_audit(command, rest)
    return command in ("assign", "suggest") and re.match(r"#?\d", rest) is not None


def _numbered(rest: str, example: str, thing: str = "request") -> tuple[int, str]:
    """`12 Sam Jones` as (12, "Sam Jones"); InvalidInput with an example otherwise."""
    match = NUMBERED.match(rest.strip())
    if match is None:
        raise InvalidInput({"text": f"Try *{example}* (the {thing} number, then the person)."})
    return int(match[1]), match[2]


def assign_reply(session: Session, ctx: ServiceContext, *, actor: str, rest: str) -> str:
    """`assign N <name or email> [anyway]`: a coordinator assigns request N, as Slack's
    `/support assign`; anyone else is refused before the directory is searched."""
    request_id, who = _numbered(rest, "assign 12 Sam Jones")
    check_may_assign(session, actor=actor, request_id=request_id)
    who, anyway = _without_last(who, "anyway")
    supporter = person_named(session, who)
    assign_request(
        session,
        ctx,
        actor=actor,
        request_id=request_id,
        supporter_slack_id=user_id_of(supporter),
        anyway=anyway,
    )
    return f"Done: request #{request_id} is now with {mention(supporter)}."


def _without_last(who: str, word: str) -> tuple[str, bool]:
    """`Sam Jones anyway` as ("Sam Jones", True) for `word` "anyway": the word that overrules
    the rules (the matching rules for `assign`, the hosting rules for `visit-assign`)."""
    name, _, last = who.rstrip().rpartition(" ")
    return (name, True) if name and last.casefold() == word else (who, False)


def visit_assign_reply(session: Session, ctx: ServiceContext, *, actor: str, rest: str) -> str:
    """`visit-assign N <name or email> [override]`: a coordinator makes someone the host of
    visit N, as Slack's `/support visit-assign`; anyone else is refused before the directory
    is searched."""
    visit_id, who = _numbered(rest, "visit-assign 7 Sam Jones", "visit")
    check_may_assign_host(session, actor=actor, visit_id=visit_id)
    who, override = _without_last(who, "override")
    host = person_named(session, who)
    done = assign_host(
        session,
        ctx,
        actor=actor,
        visit_id=visit_id,
        host_user_id=user_id_of(host),
        override=override,
    )
    anyway = " (hosting rules set aside, as you asked)" if done.overridden else ""
    return f"Done: {mention(host)} is hosting visit #{visit_id}{anyway}. They'll pick the day."


def suggest_reply(session: Session, ctx: ServiceContext, *, actor: str, rest: str) -> str:
    """`suggest N <name or email>`: the supporter offered request N suggests a colleague, as
    Slack's *Suggest a colleague* on the offer."""
    request_id, who = _numbered(rest, "suggest 12 Sam Jones")
    offer_id = offer_held_for(session, actor=actor, request_id=request_id)
    colleague = user_id_of(person_named(session, who))
    return suggest_colleague(session, ctx, actor=actor, offer_id=offer_id, colleague=colleague)
