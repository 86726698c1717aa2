"""The Slack transport: sends claimed outbox rows (`bot.outbox.delivery`) to Slack.

`SlackTransport.send` renders the row's neutral view as Block Kit and makes the Web API
calls, each paced to its method's Slack rate tier (and `chat.postMessage` to about one
message a second per channel); a 429 raises `RateLimited`, so every worker waits out
`Retry-After`. `classify` says what Slack's other answers mean: 5xx and connection errors
are retried with backoff (after a post or an upload, in doubt: Slack may have taken it), the
rest (`channel_not_found`, `invalid_blocks` …) fail for good.

A reply only the acting person should see goes through the `response_url` Slack sent with
their command or click (it works in any conversation, for 30 minutes and 5 uses); when that
is gone or refused, or an ephemeral is refused where the bot is not a member, it goes to
their DM with the bot instead: never silence.

Every posted message carries its outbox id in Slack message metadata. If a process dies after
Slack took a message but before its `ts` was recorded (its claim lapses), or Slack's answer to
a post was lost (a timeout, a dropped connection, a 5xx), the row is in doubt and the next
attempt first looks for that metadata in the channel's recent history instead of posting twice.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.core.clock import Clock
from bot.outbox.delivery import LEASE
from bot.outbox.delivery import Deliverer as OutboxDeliverer
from bot.outbox.giving_up import GiveUp
from bot.outbox.owing import FILES_UPLOAD, HOME_PUBLISH, REPLY
from bot.outbox.pacing import Limit, Pacer
from bot.outbox.transport import Claim, Failed, Outcome, RateLimited, Retry, Sent
from handlers.slack.blocks.render import slack_payload
from handlers.slack.client import error_code
from storage.db import SessionFactory
from storage.models import OutboxMessage

__all__ = ["LEASE", "Deliverer", "SlackRates", "SlackTransport", "post_to_response_url", "tell_now"]

T = TypeVar("T")

log = logging.getLogger(__name__)
# slack_sdk logs a webhook's URL, a capability to post as the bot, at DEBUG and, retrying
# after a dropped connection, at INFO: under slack_sdk's own logger, never below INFO, and each
# line cut before the URL (`bot.core.logs.LibraryDetailFilter`).
_webhook_log = logging.getLogger("slack_sdk.webhook.response_url")
_webhook_log.setLevel(logging.INFO)

# Slack honours a response_url for 30 minutes; stop a little short of that.
RESPONSE_URL_LIFETIME = timedelta(minutes=28)
RESPONSE_URL_ATTEMPTS = 3  # transient failures before the reply goes by DM instead
# Where an ephemeral can't be shown (the bot isn't in the conversation), a DM can.
NOT_SHOWN_THERE = {
    "channel_not_found",
    "not_in_channel",
    "user_not_in_channel",
    "is_archived",
    "restricted_action",
}

METADATA_EVENT_TYPE = "school_support_outbox"
# What a row in doubt records once Slack's history was checked (its `last_error`).
IN_DOUBT_FOUND = "in doubt: found in Slack, not sent again"
IN_DOUBT_POSTED = "in doubt: not found in Slack, sent"
HISTORY_LIMIT = 200
TRANSIENT_ERRORS = {
    "ratelimited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}
PERMANENT_ERRORS = {
    "channel_not_found",
    "not_in_channel",
    "user_not_found",
    "account_inactive",
    "is_archived",
    "cannot_dm_bot",
    "invalid_auth",
    "not_authed",
    "token_revoked",
    "invalid_blocks",
    "msg_too_long",
    "message_not_found",
    "cant_update_message",
}


def post_to_response_url(url: str, text: str, blocks: list[dict[str, Any]] | None = None) -> int:
    """Show `text` to the person alone where they acted (the message they acted on stays).

    Returns Slack's HTTP status, or 0 if it could not be reached. Never logs the URL.
    """
    client = WebhookClient(url, timeout=10, logger=_webhook_log)
    try:
        response = client.send(
            response_type="ephemeral", replace_original=False, text=text, blocks=blocks
        )
    except OSError:
        return 0
    return int(response.status_code)


def tell_now(
    client: WebClient,
    *,
    user: str,
    text: str,
    channel: str | None = None,
    response_url: str | None = None,
) -> None:
    """Tell one person something straight away, bypassing the outbox (for apologies when the
    database itself may be what failed): through `response_url`, else ephemeral in `channel`,
    else by DM; each falls to the next when it can't be shown."""
    if response_url and post_to_response_url(response_url, text) == 200:
        return
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        except SlackApiError as exc:
            if error_code(exc) not in NOT_SHOWN_THERE:
                raise
    client.chat_postMessage(channel=user, text=text)


def _outbox_metadata(message: OutboxMessage) -> dict[str, Any]:
    """The Slack message metadata that lets a re-send find the message already posted."""
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": {"outbox_id": message.id}}


# --- Slack's rate limits ---------------------------------------------------------------------
# Requests a minute by Slack's published tier (docs.slack.dev/apis/web-api/rate-limits).
TIER_PER_MINUTE = {2: 20, 3: 50, 4: 100}
METHOD_TIERS = {
    "chat.update": 3,
    "chat.postEphemeral": 4,
    "conversations.open": 3,
    "conversations.history": 3,
    "conversations.replies": 3,
    "files.getUploadURLExternal": 4,
    "files.completeUploadExternal": 4,
    "views.publish": 4,
}


@dataclass(frozen=True)
class SlackRates:
    """How fast the bot calls Slack: `chat.postMessage` workspace-wide (`SLACK_MESSAGES_PER_
    SECOND`) and per channel (Slack: about one a second, short bursts allowed); other
    methods at their tier's published rate, with bursts of a tenth of a minute's worth."""

    messages_per_second: float = 10.0
    per_channel: float = 1.0
    channel_burst: float = 3.0

    def post(self, channel: str) -> tuple[Limit, ...]:
        """The limits one `chat.postMessage` into `channel` counts against."""
        return (
            Limit("slack:chat.postMessage", self.messages_per_second, 1.0),
            Limit(f"slack:channel:{channel}", self.per_channel, self.channel_burst),
        )

    def method(self, name: str) -> tuple[Limit, ...]:
        """The limit of one call to a tiered method (none for a method not listed)."""
        tier = METHOD_TIERS.get(name)
        if tier is None:
            return ()
        per_minute = TIER_PER_MINUTE[tier]
        return (Limit(f"slack:{name}", per_minute / 60, max(1.0, per_minute / 10)),)


class MayHaveTaken(Exception):
    """A post or upload whose answer was a timeout, a dropped connection or a server error:
    Slack may have taken it (its docs say so of a 5xx or `internal_error`)."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _transient_error(exc: Exception) -> str | None:
    """What to call a failure worth retrying (a 5xx, a transient error code, a connection
    problem); None for a refusal for good or an unexpected exception."""
    if isinstance(exc, SlackApiError):
        error = error_code(exc)
        transient = exc.response.status_code >= 500 or error in TRANSIENT_ERRORS
        return error if transient else None
    if isinstance(exc, (SlackClientError, OSError)):
        return type(exc).__name__
    return None


def _retry_after(exc: SlackApiError) -> float:
    headers = exc.response.headers or {}
    raw = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return max(0.0, float(raw)) if raw is not None else 1.0
    except ValueError:
        return 1.0


class SlackTransport:
    """Sends claimed outbox rows to Slack (`bot.outbox.transport.Transport`)."""

    platform = "slack"

    def __init__(self, client: WebClient, rates: SlackRates | None = None) -> None:
        self.client = client
        self.rates = rates or SlackRates()

    def _call(
        self, claim: Claim, limits: tuple[Limit, ...], call: Callable[..., T], **kw: Any
    ) -> T:
        """One Web API call, paced; a 429 pauses every call under the same limits."""
        claim.pace(*limits)
        try:
            return call(**kw)
        except SlackApiError as exc:
            if exc.response.status_code == 429:
                raise RateLimited(_retry_after(exc), [lim.key for lim in limits]) from exc
            raise

    def _call_that_posts(
        self, claim: Claim, limits: tuple[Limit, ...], call: Callable[..., T], **kw: Any
    ) -> T:
        """A call that posts (a message, files): one that fails without a clear refusal
        raises `MayHaveTaken`, as Slack may have acted on it."""
        try:
            return self._call(claim, limits, call, **kw)
        except (SlackApiError, SlackClientError, OSError) as exc:
            if (error := _transient_error(exc)) is None:
                raise
            raise MayHaveTaken(error) from exc

    def classify(self, message: OutboxMessage, exc: Exception) -> Outcome | None:
        """Slack's errors: 5xx, transient codes and connection problems are retried (in doubt
        after a post or upload, which Slack may have taken)."""
        if isinstance(exc, MayHaveTaken):
            log.warning("outbox %s: no clear answer (%s); in doubt", message.id, exc.error)
            return Retry(exc.error, in_doubt=True)
        if isinstance(exc, SlackApiError) and exc.response.status_code == 429:
            # a 429 from a call made outside `_call`
            return Retry("ratelimited", after=timedelta(seconds=_retry_after(exc)), count=False)
        if (error := _transient_error(exc)) is not None:
            log.warning("outbox %s: Slack answered %s; backing off", message.id, error)
            return Retry(error)
        if isinstance(exc, SlackApiError):
            return Failed(error_code(exc))
        return None

    # --- sending -------------------------------------------------------------------------
    def send(self, claim: Claim) -> Outcome:
        """Send one claimed row: post, edit, ephemeral, reply or files."""
        message = claim.message
        if message.method == HOME_PUBLISH:
            return self._publish_home(claim)
        # The core owes neutral views; Slack gets them as Block Kit, rendered now (the row is
        # detached: what is stored stays neutral).
        message.payload = slack_payload(message.payload)
        if message.method == FILES_UPLOAD:
            return self._upload(claim)
        if message.method == "chat.update":
            assert claim.original is not None  # the deliverer waits for the original
            channel, ts = claim.original.channel, claim.original.ts
            self._call(
                claim,
                self.rates.method("chat.update"),
                self.client.chat_update,
                channel=channel,
                ts=ts,
                **message.payload,
            )
            return Sent(channel, ts)
        if message.method == REPLY:
            return self._reply(claim)
        if message.method == "chat.postEphemeral":
            return self._post_ephemeral(claim)
        channel = message.channel
        if claim.original is not None:  # a reply in the thread of an owed message
            channel = claim.original.channel or channel
            message.payload = {**message.payload, "thread_ts": claim.original.ts}
        return self._post(claim, channel, message.payload)

    def _post(self, claim: Claim, channel: str, payload: dict[str, Any]) -> Sent:
        """Post once: if a crash left it in doubt, find the post in Slack before re-posting."""
        message = claim.message
        found = self._already_posted(claim, channel) if message.in_doubt else None
        if found is not None:
            log.info("outbox %s was already posted (in doubt)", message.id)
            return Sent(*found, note=IN_DOUBT_FOUND)
        response = self._call_that_posts(
            claim,
            self.rates.post(channel),
            self.client.chat_postMessage,
            channel=channel,
            metadata=_outbox_metadata(message),
            **payload,
        )
        note = IN_DOUBT_POSTED if message.in_doubt else None
        return Sent(response.get("channel"), response.get("ts"), note=note)

    def _publish_home(self, claim: Claim) -> Sent:
        """Publish a person's Home page, already Block Kit (the whole page: publishing it
        again after a crash only shows the same page)."""
        message = claim.message
        self._call(
            claim,
            self.rates.method(HOME_PUBLISH),
            self.client.views_publish,
            user_id=message.channel,
            view=message.payload["home"],
        )
        return Sent(None, None)

    # --- replies to whoever acted --------------------------------------------------------
    def _reply(self, claim: Claim) -> Outcome:
        """Send a reply through its response_url, or by DM once that can't."""
        message = claim.message
        url = message.response_url
        if url and claim.now() - message.created_at < RESPONSE_URL_LIFETIME:
            status = self._post_to_response_url(message, url)
            if status == 200:
                return Sent(message.channel, None)
            transient = status in (0, 429) or status >= 500
            if transient and message.attempts < RESPONSE_URL_ATTEMPTS:
                log.warning("outbox %s: response_url answered %s; retrying", message.id, status)
                return Retry(f"response_{status}")
            log.info("outbox %s: response_url answered %s; replying by DM", message.id, status)
        elif url:
            log.info("outbox %s: response_url expired; replying by DM", message.id)
        return self._post_dm_instead(claim)

    def _post_to_response_url(self, message: OutboxMessage, url: str) -> int:
        """POST the reply to `url`: Slack's HTTP status, or 0 if unreachable."""
        status = post_to_response_url(
            url, message.payload.get("text") or "", message.payload.get("blocks")
        )
        if status == 0:
            log.warning("outbox %s: response_url unreachable", message.id)
        return status

    def _post_ephemeral(self, claim: Claim) -> Outcome:
        """An ephemeral in its channel, or a DM where Slack won't show it (bot not a member)."""
        message = claim.message
        try:
            self._call(
                claim,
                self.rates.method("chat.postEphemeral"),
                self.client.chat_postEphemeral,
                channel=message.channel,
                user=message.user or "",
                **message.payload,
            )
        except SlackApiError as exc:
            error = error_code(exc)
            if error not in NOT_SHOWN_THERE:
                raise
            log.info("outbox %s: ephemeral refused (%s); replying by DM", message.id, error)
            return self._post_dm_instead(claim)
        return Sent(message.channel, None)

    def _post_dm_instead(self, claim: Claim) -> Sent:
        """Post a reply meant for one person into their DM with the bot, which always works."""
        message = claim.message
        if message.response_url is not None:
            claim.record(response_url=None)  # spent: never try it again, even after a crash
            message.response_url = None
        payload = {k: v for k, v in message.payload.items() if k != "thread_ts"}
        return self._post(claim, message.user or message.channel, payload)

    # --- files ---------------------------------------------------------------------------
    def _dm_channel(self, claim: Claim, channel: str) -> str:
        """A DM's channel id for a user id (uploads and history need it); others unchanged."""
        if not channel.startswith(("U", "W")):
            return channel
        opened = self._call(
            claim,
            self.rates.method("conversations.open"),
            self.client.conversations_open,
            users=channel,
        )
        return str(opened["channel"]["id"])

    def _upload(self, claim: Claim) -> Sent:
        """Upload and share the owed files, unless a crash mid-send left them already shared."""
        message = claim.message
        channel = self._dm_channel(claim, message.channel)
        files = message.payload.get("files") or []
        names = [f["filename"] for f in files]
        found = self._already_uploaded(claim, channel, names) if message.in_doubt else None
        if found is None:
            self._call_that_posts(
                claim,
                self.rates.method("files.getUploadURLExternal")
                + self.rates.method("files.completeUploadExternal"),
                self.client.files_upload_v2,
                channel=channel,
                initial_comment=message.payload.get("initial_comment") or None,
                file_uploads=[
                    {
                        "content": base64.b64decode(f["content_b64"]),
                        "filename": f["filename"],
                        "title": f["title"],
                        "alt_txt": f.get("alt_txt") or None,
                    }
                    for f in files
                ],
            )
        else:
            log.info("outbox %s: its files were already shared (in doubt)", message.id)
        shared = [{k: v for k, v in f.items() if k != "content_b64"} for f in files]
        note = (IN_DOUBT_FOUND if found else IN_DOUBT_POSTED) if message.in_doubt else None
        return Sent(
            channel, found, note=note, values={"payload": {**message.payload, "files": shared}}
        )

    # --- finding what a crash left behind ---------------------------------------------------
    def _history(self, claim: Claim, channel: str, **kw: Any) -> list[dict[str, Any]]:
        history = self._call(
            claim,
            self.rates.method("conversations.history"),
            self.client.conversations_history,
            channel=channel,
            limit=HISTORY_LIMIT,
            **kw,
        )
        messages: list[dict[str, Any]] = history.get("messages", [])
        return messages

    def _already_uploaded(self, claim: Claim, channel: str, names: list[str]) -> str | None:
        """The ts of a recent message in `channel` sharing exactly these file names, if any."""
        for item in self._history(claim, channel):
            if [f.get("name") for f in item.get("files") or []] == names:
                return str(item["ts"])
        return None

    def _already_posted(self, claim: Claim, channel: str) -> tuple[str, str] | None:
        """Look for this entry's metadata in the channel's recent history (in-doubt recovery)."""
        message = claim.message
        channel = self._dm_channel(claim, channel)
        # The newest messages, not "since created_at": Slack's clock, not ours, stamps them,
        # and a claim lapses within minutes, so the message, if sent, is among the latest.
        for item in self._history(claim, channel, include_all_metadata=True):
            if _carries(item, message):
                return channel, item["ts"]
        if thread_ts := message.payload.get("thread_ts"):
            for item in self._thread(claim, channel, thread_ts):
                if _carries(item, message):
                    return channel, item["ts"]
        return None

    def _thread(self, claim: Claim, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        """A thread's messages; none if Slack no longer has it (then the post says so)."""
        try:
            replies = self._call(
                claim,
                self.rates.method("conversations.replies"),
                self.client.conversations_replies,
                channel=channel,
                ts=thread_ts,
                include_all_metadata=True,
                limit=HISTORY_LIMIT,
            )
        except SlackApiError as exc:
            if exc.response.get("error") == "thread_not_found":
                return []
            raise
        messages: list[dict[str, Any]] = replies.get("messages", [])
        return messages


def _carries(item: dict[str, Any], message: OutboxMessage) -> bool:
    """Whether a Slack message carries this outbox entry's metadata."""
    meta = item.get("metadata") or {}
    return (
        meta.get("event_type") == METADATA_EVENT_TYPE
        and (meta.get("event_payload") or {}).get("outbox_id") == message.id
    )


class Deliverer(OutboxDeliverer):
    """The outbox's deliverer with Slack as its only transport (tests, tools, the demo)."""

    def __init__(
        self,
        sessions: SessionFactory,
        client: WebClient,
        clock: Clock,
        *,
        rates: SlackRates | None = None,
        pacer: Pacer | None = None,
        workers: int = 1,
        on_permanent_failure: Callable[[int, str], None] | None = None,
        jitter: Callable[[], float] | None = None,
        give_up: GiveUp | None = None,
    ) -> None:
        extra: dict[str, Any] = {} if jitter is None else {"jitter": jitter}
        super().__init__(
            sessions,
            clock,
            [SlackTransport(client, rates)],
            workers=workers,
            pacer=pacer,
            on_permanent_failure=on_permanent_failure,
            give_up=give_up,
            **extra,
        )
