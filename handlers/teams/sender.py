"""The Teams sender: delivers outbox rows addressed to Teams (`bot.outbox.transport.Transport`).

The core owes neutral messages to an *address*: a Teams user id (an Entra object id: a person's
1:1 chat, found among the stored conversation references or opened now, which Teams makes
idempotent), or a conversation id (a channel, a group chat, a 1:1). Replies in a channel thread
go to `conversation;messageid=<root>`; in a 1:1 chat there are no threads, so they are posted
plainly. An update replaces the message (`PUT`) for everyone in its conversation. A reply only
the acting person should see (Slack's ephemerals and response URLs) goes to their 1:1 chat.

Rate limits: Teams throttles per bot and conversation (about 7 messages a second in bursts,
60 in 30 s); each send is paced to that, and a 429 pauses every send to that conversation for
`Retry-After` (or backs off when Teams gives none, as it often does).

Exactly once: Teams offers no way to look up a message by anything the bot chose (no history
for 1:1 chats without tenant-wide Graph rights; no idempotency key), so a send left in doubt by
a crash or a lost answer cannot be checked. Updates and 1:1 creation are idempotent and are
simply repeated; a new message in doubt is re-sent *once*, flagged in the row's `last_error`
and logged, so a crash costs at most one duplicate, never a lost message (docs/delivery.md).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, or_, select

from bot.core.settings import Settings
from bot.core.text import escape
from bot.outbox.owing import REPLY
from bot.outbox.pacing import Limit
from bot.outbox.transport import Claim, Failed, Outcome, RateLimited, Retry, Sent
from bot.reach.conversations import ConversationSeen, conversation, conversation_with
from bot.reach.conversations import save_conversation as save_reference
from bot.reach.people import user_id_of
from handlers.teams.cards import mention_names
from handlers.teams.cards.render import teams_activity
from handlers.teams.config import TeamsConfig, teams_config
from handlers.teams.connector import BotConnector, Done
from handlers.teams.connector import Failed as ConnectorFailed
from handlers.teams.connector import Retry as ConnectorRetry
from handlers.teams.token import ClientCredentialsToken
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage, Person

log = logging.getLogger(__name__)

BARE_MENTION = re.compile(r"<@([A-Za-z0-9:_.-]+)>")
PERSON_ID = re.compile(r"[UW][A-Z0-9]{2,20}|[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
GUID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
IN_DOUBT_RESENT = "Teams send in doubt, re-sent (possible duplicate)"
PER_CONVERSATION = (1.8, 7.0)  # messages a second, burst: inside Teams' 60 per 30 s
PER_BOT = (40.0, 40.0)


class TeamsTransport:
    """Sends claimed outbox rows to Teams through the Bot Connector."""

    platform = "teams"

    def __init__(
        self, sessions: SessionFactory, connector: BotConnector, config: TeamsConfig
    ) -> None:
        self.sessions = sessions
        self.connector = connector
        self.config = config

    def classify(self, message: OutboxMessage, exc: Exception) -> Outcome | None:
        """Nothing the transport raises besides `RateLimited` is expected."""
        return None

    def send(self, claim: Claim) -> Outcome:
        """Send one claimed row: an update, a thread reply, or a new message."""
        message = claim.message
        activity = self._activity(message.payload)
        if message.method == "chat.update":
            assert claim.original is not None  # the deliverer waits for the original
            target = claim.original
            service_url = self._service_url(target.channel)
            outcome = self._paced(
                claim,
                target.channel,
                lambda: self.connector.update(service_url, target.channel, target.ts, activity),
            )
            return self._sent(outcome, target.channel, target.ts)
        where = self._where(claim)
        if isinstance(where, (Retry, Failed)):
            return where
        conversation_id, service_url, thread = where
        to = f"{conversation_id};messageid={thread}" if thread else conversation_id
        outcome = self._paced(
            claim, conversation_id, lambda: self.connector.post(service_url, to, activity)
        )
        sent = self._sent(outcome, conversation_id, None)
        if message.in_doubt and isinstance(sent, Sent):
            log.warning("outbox %s: %s", message.id, IN_DOUBT_RESENT)
            return Sent(sent.channel, sent.ts, note=IN_DOUBT_RESENT)
        return sent

    def _activity(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The message activity for `payload`, people named where the core mentions them:
        Teams cannot mention someone by a Slack id, so it shows their name instead."""
        with self.sessions() as session:
            names = mentioned_names(session, payload)
        with mention_names(names):
            return teams_activity(payload)

    # --- where a message goes ---------------------------------------------------------------
    def _where(self, claim: Claim) -> tuple[str, str, str | None] | Retry | Failed:
        """The conversation id, service URL and thread root of a new message."""
        message = claim.message
        personal_reply = message.method in (REPLY, "chat.postEphemeral") and message.user
        address = str(message.user if personal_reply else message.channel)
        thread = None if personal_reply else message.payload.get("thread_ts")
        if claim.original is not None and not personal_reply:
            address, thread = claim.original.channel, claim.original.ts
        if GUID.fullmatch(address):
            opened = self._personal_chat(claim, address)
            if not isinstance(opened, tuple):
                return opened
            return opened[0], opened[1], None  # no threads in a 1:1 chat
        with self.sessions() as session:
            ref = conversation(session, address)
            service_url = ref.service_url if ref else self.config.service_url
            kind = ref.conversation_type if ref else "channel"
        return address, service_url, (str(thread) if thread and kind == "channel" else None)

    def _personal_chat(self, claim: Claim, user_id: str) -> tuple[str, str] | Retry | Failed:
        """The 1:1 chat with a Teams user: the stored one, else opened now (and stored)."""
        with self.sessions() as session:
            ref = conversation_with(session, user_id)
            if ref is not None:
                return ref.conversation_id, ref.service_url
        service_url = self.config.service_url
        opened = self.connector.open_personal(service_url, user_id, self.config.tenant_id)
        if not isinstance(opened, Done):
            return _as_outcome(opened)
        seen = ConversationSeen(
            conversation_id=opened.id,
            service_url=service_url,
            reference={"serviceUrl": service_url, "conversation": {"id": opened.id}},
            tenant_id=self.config.tenant_id,
            teams_user_id=user_id,
        )
        with transaction(self.sessions) as session:
            save_reference(session, seen, now=claim.now())
        return opened.id, service_url

    def _service_url(self, conversation_id: str) -> str:
        with self.sessions() as session:
            ref = conversation(session, conversation_id)
            return ref.service_url if ref else self.config.service_url

    # --- calling and answering --------------------------------------------------------------
    def _paced(self, claim: Claim, conversation_id: str, call: Any) -> Any:
        """One Bot Connector call, paced; a 429 with `Retry-After` pauses the conversation."""
        limits = (
            Limit(f"teams:conversation:{conversation_id}", *PER_CONVERSATION),
            Limit("teams:bot", *PER_BOT),
        )
        claim.pace(*limits)
        outcome = call()
        if isinstance(outcome, ConnectorRetry) and outcome.reason == "HTTP 429" and outcome.after:
            raise RateLimited(outcome.after, [limit.key for limit in limits[:1]])
        return outcome

    def _sent(self, outcome: Any, conversation_id: str, activity_id: str | None) -> Outcome:
        if isinstance(outcome, Done):
            return Sent(conversation_id, activity_id or outcome.id)
        return _as_outcome(outcome)


def mentioned_names(session: Session, payload: Any) -> dict[str, str]:
    """The names (escaped) of the people `payload` mentions or names by id, by their id."""
    ids = {value for value in _strings(payload) if PERSON_ID.fullmatch(value)}
    ids |= set(BARE_MENTION.findall(json.dumps(payload)))
    if not ids:
        return {}
    people = session.exec(
        select(Person).where(
            or_(col(Person.slack_user_id).in_(ids), col(Person.teams_user_id).in_(ids))
        )
    )
    return {user_id_of(person): escape(person.name) for person in people}


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _as_outcome(outcome: ConnectorRetry | ConnectorFailed) -> Retry | Failed:
    if isinstance(outcome, ConnectorFailed):
        return Failed(outcome.error)
    after = timedelta(seconds=outcome.after) if outcome.after is not None else None
    # A send with no answer may have reached Teams: the row goes back in doubt, so its
    # re-send is flagged (`IN_DOUBT_RESENT`).
    return Retry(
        outcome.reason,
        after=after,
        count=outcome.reason != "HTTP 429",
        in_doubt=outcome.in_doubt,
    )


def teams_transport(settings: Settings, sessions: SessionFactory) -> TeamsTransport | None:
    """The Teams transport for the outbox, when Teams is configured (no SDK import)."""
    config = teams_config(settings)
    if config is None:
        return None
    token = ClientCredentialsToken(
        client_id=config.client_id,
        client_secret=config.client_secret or "",
        tenant_id=config.tenant_id,
        login_url=config.login_url,
    )
    return TeamsTransport(sessions, BotConnector(app_id=config.client_id, token=token), config)
