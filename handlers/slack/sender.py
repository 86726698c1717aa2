"""The Slack sender: delivers the outbox (`bot.outbox.owing`) to Slack after commit.

`Deliverer.drain()` claims due entries (never two processes the same one), calls Slack,
and records the `ts`.
Failures are retried: 429 after `Retry-After`, 5xx and connection errors with exponential
backoff and jitter; permanent errors are marked failed and not retried.

A reply only the acting person should see goes through the `response_url` Slack sent with
their command or click (it works in any conversation, for 30 minutes and 5 uses); when that
is gone or refused, or an ephemeral is refused where the bot is not a member, it goes to
their DM with the bot instead: never silence.

Every posted message carries its outbox id in Slack message metadata. If a process dies after
Slack took a message but before its `ts` was recorded, the entry's claim lapses and the next
attempt first looks for that metadata in the channel's recent history instead of posting twice.
"""

from __future__ import annotations

import base64
import logging
import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient
from sqlalchemy import and_, or_, select, update
from sqlmodel import col

from bot.core.clock import Clock
from bot.outbox.owing import FILES_UPLOAD, REPLY, sent_message
from handlers.slack.blocks.render import slack_payload
from storage.claims import claim_rows
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage, OutboxStatus, Platform

log = logging.getLogger(__name__)
# slack_sdk logs a webhook's URL at DEBUG; a response_url is a capability, so never below INFO.
_webhook_log = logging.getLogger(f"{__name__}.response_url")
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
LEASE = timedelta(minutes=2)
MAX_BACKOFF = timedelta(minutes=30)
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
            if str(exc.response.get("error") or "") not in NOT_SHOWN_THERE:
                raise
    client.chat_postMessage(channel=user, text=text)


def _outbox_metadata(message: OutboxMessage) -> dict[str, Any]:
    """The Slack message metadata that lets a re-send find the message already posted."""
    return {"event_type": METADATA_EVENT_TYPE, "event_payload": {"outbox_id": message.id}}


@dataclass
class DeliveryReport:
    """What one `drain` did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    failures: list[tuple[int, str]] = field(default_factory=list)


class Deliverer:
    """Delivers owed messages. Safe to run in any number of threads and processes at once."""

    def __init__(
        self,
        sessions: SessionFactory,
        client: WebClient,
        clock: Clock,
        *,
        on_permanent_failure: Callable[[int, str], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.sessions = sessions
        self.client = client
        self.clock = clock
        self.on_permanent_failure = on_permanent_failure
        self.jitter = jitter
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- running ---------------------------------------------------------------------------
    def kick(self) -> None:
        """Deliver what is owed now: wake the background worker, or drain in this thread."""
        if self._thread is not None and self._thread.is_alive():
            self._wake.set()
        else:
            self.drain()

    def start(self) -> None:
        """Run a background worker that drains whenever kicked and at least every few seconds."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the background worker."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.drain()
            except Exception:
                log.exception("outbox drain failed; will try again")
            self._wake.wait(timeout=self._seconds_until_next_due())
            self._wake.clear()

    def _seconds_until_next_due(self) -> float:
        with self.sessions() as session:
            due = session.scalars(
                select(col(OutboxMessage.next_attempt_at))
                .where(col(OutboxMessage.status) == OutboxStatus.PENDING)
                .order_by(col(OutboxMessage.next_attempt_at))
                .limit(1)
            ).first()
        if due is None:
            return 5.0
        return min(5.0, max(0.05, (due - self.clock.now()).total_seconds()))

    # --- claiming and sending --------------------------------------------------------------
    def drain(self, *, limit: int = 200) -> DeliveryReport:
        """Send every owed message that is due now, each at most once."""
        report = DeliveryReport()
        for _ in range(limit):
            claimed = self._claim_one()
            if claimed is None:
                break
            self._deliver(claimed, report)
        return report

    def _claim_one(self) -> OutboxMessage | None:
        now = self.clock.now()
        token = uuid.uuid4().hex
        claimable = and_(
            col(OutboxMessage.platform) == Platform.SLACK,  # Teams' rows are its sender's
            or_(
                and_(
                    col(OutboxMessage.status) == OutboxStatus.PENDING,
                    col(OutboxMessage.next_attempt_at) <= now,
                ),
                and_(
                    col(OutboxMessage.status) == OutboxStatus.SENDING,
                    col(OutboxMessage.claimed_until) < now,
                ),
            ),
        )
        with transaction(self.sessions) as session:
            ids = claim_rows(
                session,
                OutboxMessage,
                claimable,
                {
                    "status": OutboxStatus.SENDING,
                    "claim_token": token,
                    # A lapsed "sending" claim means a process died mid-send: in doubt.
                    "in_doubt": OutboxMessage.status == OutboxStatus.SENDING,
                    "claimed_until": now + LEASE,
                    "attempts": OutboxMessage.attempts + 1,
                },
                order_by=OutboxMessage.id,
                limit=1,
            )
            if not ids:
                return None
            message = session.get(OutboxMessage, ids[0], populate_existing=True)
            assert message is not None
            session.expunge(message)
            return message

    def _deliver(self, message: OutboxMessage, report: DeliveryReport) -> None:
        # The core owes neutral views; Slack gets them as Block Kit, rendered now (the row is
        # detached: what is stored stays neutral).
        message.payload = slack_payload(message.payload)
        try:
            if message.method == FILES_UPLOAD:
                self._upload(message)
            elif message.method == "chat.update":
                if self._superseded(message):
                    # A retried (older) edit must not overwrite a newer one: each edit is
                    # the whole message, so the newest owed edit alone decides what it says.
                    log.info(
                        "outbox %s: a later edit of %s replaces it", message.id, message.update_of
                    )
                    self._finish(
                        message,
                        status=OutboxStatus.SENT,
                        sent_at=self.clock.now(),
                        last_error="superseded",
                    )
                    return
                channel, ts = self._sent_target(message.update_of or "")
                if ts is None:
                    self._wait_for_original(message, message.update_of or "", report)
                    return
                self.client.chat_update(channel=channel, ts=ts, **message.payload)
                self._mark_sent(message, channel, ts)
            elif message.method == REPLY:
                if not self._reply(message, report):
                    return
            elif message.method == "chat.postEphemeral":
                self._post_ephemeral(message)
            else:
                post_channel = message.channel
                if message.thread_of:
                    parent_channel, parent_ts = self._sent_target(message.thread_of)
                    if parent_ts is None:
                        self._wait_for_original(message, message.thread_of, report)
                        return
                    post_channel = parent_channel or post_channel
                    message.payload = {**message.payload, "thread_ts": parent_ts}
                found = self._already_posted(message, post_channel) if message.in_doubt else None
                if found is not None:
                    log.info("outbox %s was already posted before a restart", message.id)
                    self._mark_sent(message, *found)
                else:
                    response = self.client.chat_postMessage(
                        channel=post_channel,
                        metadata=_outbox_metadata(message),
                        **message.payload,
                    )
                    self._mark_sent(message, response.get("channel"), response.get("ts"))
            report.sent += 1
        except SlackApiError as exc:
            self._handle_api_error(message, exc, report)
        except (SlackClientError, OSError) as exc:
            log.warning("outbox %s: connection problem (%s)", message.id, type(exc).__name__)
            self._reschedule(message, self._backoff(message.attempts), type(exc).__name__)
            report.retried += 1

    # --- replies to whoever acted --------------------------------------------------------
    def _reply(self, message: OutboxMessage, report: DeliveryReport) -> bool:
        """Send a reply through its response_url, or by DM once that can't; False if it waits.

        A DM failing raises SlackApiError like any other post (retried or marked failed).
        """
        url = message.response_url
        if url and self.clock.now() - message.created_at < RESPONSE_URL_LIFETIME:
            status = self._post_to_response_url(message, url)
            if status == 200:
                self._mark_sent(message, message.channel, None)
                return True
            transient = status in (0, 429) or status >= 500
            if transient and message.attempts < RESPONSE_URL_ATTEMPTS:
                log.warning("outbox %s: response_url answered %s; retrying", message.id, status)
                self._reschedule(message, self._backoff(message.attempts), f"response_{status}")
                report.retried += 1
                return False
            log.info("outbox %s: response_url answered %s; replying by DM", message.id, status)
        elif url:
            log.info("outbox %s: response_url expired; replying by DM", message.id)
        self._post_dm_instead(message)
        return True

    def _post_to_response_url(self, message: OutboxMessage, url: str) -> int:
        """POST the reply to `url`: Slack's HTTP status, or 0 if unreachable."""
        status = post_to_response_url(
            url, message.payload.get("text") or "", message.payload.get("blocks")
        )
        if status == 0:
            log.warning("outbox %s: response_url unreachable", message.id)
        return status

    def _post_ephemeral(self, message: OutboxMessage) -> None:
        """An ephemeral in its channel, or a DM where Slack won't show it (bot not a member)."""
        try:
            self.client.chat_postEphemeral(
                channel=message.channel, user=message.user or "", **message.payload
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            if error not in NOT_SHOWN_THERE:
                raise
            log.info("outbox %s: ephemeral refused (%s); replying by DM", message.id, error)
            self._post_dm_instead(message)
            return
        self._mark_sent(message, message.channel, None)

    def _post_dm_instead(self, message: OutboxMessage) -> None:
        """Post a reply meant for one person into their DM with the bot, which always works."""
        if message.response_url is not None:
            self._update_claimed(message, response_url=None)  # spent: never try it again
            message.response_url = None
        user = message.user or message.channel
        found = self._already_posted(message, user) if message.in_doubt else None
        if found is not None:
            self._mark_sent(message, *found)
            return
        payload = {k: v for k, v in message.payload.items() if k != "thread_ts"}
        response = self.client.chat_postMessage(
            channel=user,
            metadata=_outbox_metadata(message),
            **payload,
        )
        self._mark_sent(message, response.get("channel"), response.get("ts"))

    def _handle_api_error(
        self, message: OutboxMessage, exc: SlackApiError, report: DeliveryReport
    ) -> None:
        status = exc.response.status_code
        error = str(exc.response.get("error") or f"http_{status}")
        if status == 429:
            retry_after = exc.response.headers.get("Retry-After") or exc.response.headers.get(
                "retry-after"
            )
            delay = timedelta(seconds=float(retry_after or 1))
            log.info("outbox %s: rate limited, retrying after %ss", message.id, delay.seconds)
            self._reschedule(message, delay, "ratelimited")
            report.retried += 1
        elif status >= 500 or error in TRANSIENT_ERRORS:
            log.warning("outbox %s: Slack answered %s; backing off", message.id, error)
            self._reschedule(message, self._backoff(message.attempts), error)
            report.retried += 1
        else:
            log.error("outbox %s: permanent failure %s", message.id, error)
            self._mark_failed(message, error)
            report.failed += 1
            report.failures.append((message.id or 0, error))
            if self.on_permanent_failure is not None:
                self.on_permanent_failure(message.id or 0, error)

    def _backoff(self, attempts: int) -> timedelta:
        base = min(MAX_BACKOFF.total_seconds(), 2 ** max(attempts - 1, 0))
        return timedelta(seconds=base * (0.5 + self.jitter() / 2))

    def _upload(self, message: OutboxMessage) -> None:
        """Upload and share the owed files, unless a crash mid-send left them already shared."""
        channel = message.channel
        if channel.startswith(("U", "W")):  # uploads are shared into the DM's channel id
            channel = self.client.conversations_open(users=channel)["channel"]["id"]
        files = message.payload.get("files") or []
        names = [f["filename"] for f in files]
        found = self._already_uploaded(channel, names) if message.in_doubt else None
        if found is None:
            self.client.files_upload_v2(
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
            log.info("outbox %s: its files were already shared before a restart", message.id)
        shared = [{k: v for k, v in f.items() if k != "content_b64"} for f in files]
        self._finish(
            message,
            status=OutboxStatus.SENT,
            sent_channel=channel,
            sent_ts=found,
            sent_at=self.clock.now(),
            last_error=None,
            payload={**message.payload, "files": shared},
        )

    def _already_uploaded(self, channel: str, names: list[str]) -> str | None:
        """The ts of a recent message in `channel` sharing exactly these file names, if any."""
        history = self.client.conversations_history(channel=channel, limit=HISTORY_LIMIT)
        messages: list[dict[str, Any]] = history.get("messages", [])
        for item in messages:
            if [f.get("name") for f in item.get("files") or []] == names:
                return str(item["ts"])
        return None

    def _wait_for_original(self, message: OutboxMessage, ref: str, report: DeliveryReport) -> None:
        """An edit or reply whose message isn't sent: wait while it may still be, else give up."""
        with self.sessions() as session:
            pending = session.scalars(
                select(col(OutboxMessage.id)).where(
                    col(OutboxMessage.ref) == ref,
                    col(OutboxMessage.status).in_((OutboxStatus.PENDING, OutboxStatus.SENDING)),
                )
            ).first()
        if pending is not None:
            self._reschedule(message, timedelta(seconds=2), None, count=False)
            report.retried += 1
        else:  # never owed, or failed for good: there is nothing to edit or reply to
            log.warning("outbox %s: its message %s was never sent; dropping", message.id, ref)
            self._mark_failed(message, "original_not_sent")
            report.failed += 1

    def _superseded(self, message: OutboxMessage) -> bool:
        """Whether a later edit of the same message is owed or sent (and hasn't failed)."""
        with self.sessions() as session:
            later = session.scalars(
                select(col(OutboxMessage.id)).where(
                    col(OutboxMessage.id) > message.id,
                    col(OutboxMessage.method) == "chat.update",
                    col(OutboxMessage.update_of) == message.update_of,
                    col(OutboxMessage.platform) == message.platform,
                    col(OutboxMessage.status) != OutboxStatus.FAILED,
                )
            ).first()
        return later is not None

    def _sent_target(self, ref: str) -> tuple[str, str | None]:
        """The channel and ts of the message sent with `ref`, or ("", None) if not sent yet."""
        with self.sessions() as session:
            original = sent_message(session, ref)
        if original is None or not original.sent_ts:
            return "", None
        return original.sent_channel or original.channel, original.sent_ts

    def _already_posted(self, message: OutboxMessage, channel: str) -> tuple[str, str] | None:
        """Look for this entry's metadata in the channel's recent history (in-doubt recovery)."""
        if channel.startswith(("U", "W")):
            channel = self.client.conversations_open(users=channel)["channel"]["id"]
        # The newest messages, not "since created_at": Slack's clock, not ours, stamps them,
        # and a claim lapses within minutes, so the message, if sent, is among the latest.
        history = self.client.conversations_history(
            channel=channel, include_all_metadata=True, limit=HISTORY_LIMIT
        )
        messages: list[dict[str, Any]] = history.get("messages", [])
        for item in messages:
            meta = item.get("metadata") or {}
            if (
                meta.get("event_type") == METADATA_EVENT_TYPE
                and (meta.get("event_payload") or {}).get("outbox_id") == message.id
            ):
                return channel, item["ts"]
        if thread_ts := message.payload.get("thread_ts"):
            replies = self.client.conversations_replies(
                channel=channel, ts=thread_ts, include_all_metadata=True, limit=HISTORY_LIMIT
            )
            for item in replies.get("messages", []):
                meta = item.get("metadata") or {}
                if (meta.get("event_payload") or {}).get("outbox_id") == message.id:
                    return channel, item["ts"]
        return None

    # --- recording outcomes (only if we still hold the claim) -----------------------------
    def _update_claimed(self, message: OutboxMessage, **values: Any) -> None:
        """Change the row, only while this process still holds its claim."""
        with transaction(self.sessions) as session:
            session.execute(
                update(OutboxMessage)
                .where(
                    col(OutboxMessage.id) == message.id,
                    col(OutboxMessage.claim_token) == message.claim_token,
                )
                .values(**values)
            )

    def _finish(self, message: OutboxMessage, **values: Any) -> None:
        self._update_claimed(message, claim_token=None, claimed_until=None, **values)

    def _mark_sent(self, message: OutboxMessage, channel: str | None, ts: str | None) -> None:
        self._finish(
            message,
            status=OutboxStatus.SENT,
            response_url=None,
            sent_channel=channel,
            sent_ts=ts,
            sent_at=self.clock.now(),
            last_error=None,
        )

    def _mark_failed(self, message: OutboxMessage, error: str) -> None:
        self._finish(message, status=OutboxStatus.FAILED, last_error=error, response_url=None)

    def _reschedule(
        self, message: OutboxMessage, delay: timedelta, error: str | None, *, count: bool = True
    ) -> None:
        values: dict[str, Any] = {
            "status": OutboxStatus.PENDING,
            "next_attempt_at": self.clock.now() + delay,
            "last_error": error,
        }
        if not count:
            values["attempts"] = OutboxMessage.attempts - 1
        self._finish(message, **values)
