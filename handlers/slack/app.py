"""The Bolt app factory: builds the `App` for the running bot and registers every listener.

Events (and submissions of forms whose work runs after the ack, `FORMS_SAVED_BEFORE_ACK`) are
saved before they are acknowledged (`bot.inbound.service`): a middleware writes each
one to the database, Bolt acks it after that commit, and when its listener has run a completion hook
marks it handled. Saved events left unhandled are replayed through this same app by the due
work (`replay_saved_events`), as Socket Mode requests marked in their context as replays, which
no HTTP request can be.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.context.ack import Ack
from slack_bolt.error import BoltError
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware import Middleware
from slack_sdk.errors import SlackClientError

from bot.inbound import service as inbound
from handlers.slack.blocks.directory import IMPORT_CALLBACK_ID
from handlers.slack.context import SlackContext
from handlers.slack.listeners import register_all
from handlers.slack.listeners.common import (
    INBOUND_CLAIM,
    REPLAY,
    submission_id,
    tell_straight_away,
)
from handlers.slack.payloads import KNOWN_KINDS, payload_problem

log = logging.getLogger(__name__)

SORRY = (
    "Sorry, something went wrong on our side and nothing was changed. "
    "Please try again in a minute; if it keeps happening, tell your coordinator."
)
# A saved event that failed is tried again by the due work: posting it again would make two.
SORRY_WILL_RETRY = (
    "Sorry, I couldn't deal with that just now. I'll try again in a minute, so there's no "
    "need to send it again."
)
SORRY_GAVE_UP = (
    "Sorry, I still couldn't deal with that, so I've stopped trying. Please send it again "
    "later, or tell your coordinator."
)
# Past the acknowledgement, what was sent may already be saved.
SORRY_AFTER_ACK = (
    "Sorry, something went wrong on our side while I was finishing that. Please check whether "
    "it worked before you try again; if it keeps happening, tell your coordinator."
)
# Keys in a request's Bolt context (and `INBOUND_CLAIM`, `REPLAY`). Only this process sets
# them; no HTTP request can.
VERIFIED = "school_support_signature_verified"  # set by the front door after its signature check
REPLAY_REACHED = "school_support_replay_reached"  # the replay got past Bolt's own middleware
FAILED = "school_support_listener_failed"
# Forms whose work runs after the ack (fetching and importing a file): saved like events, so
# one acknowledged and then cut short is done by the due work.
FORMS_SAVED_BEFORE_ACK = frozenset({IMPORT_CALLBACK_ID})


def create_app(
    ctx: SlackContext, *, token_verification: bool = True, listener_executor: Executor | None = None
) -> App:
    """Build the Bolt app for this running bot with every listener registered."""
    bolt_log = logging.getLogger("slack_bolt")
    bolt_log.addFilter(_token_unused_warning)
    try:
        app = _bolt_app(ctx, token_verification, listener_executor)
    finally:
        bolt_log.removeFilter(_token_unused_warning)
    app.middleware(_keep_acknowledgements)
    app.middleware(_save_events_before_ack(ctx))
    app.error(_report_error(ctx))
    app.listener_runner.listener_completion_handler = _InboundCompletion(ctx)
    register_all(app, ctx)
    # Last: every event reaches some listener, so each saved event is marked handled.
    app.event(re.compile(".*"))(_no_listener_for_this_event)
    ctx.replay_saved_events = lambda: replay_saved_events(ctx, app)
    return app


def _token_unused_warning(record: logging.LogRecord) -> bool:
    """Drop Bolt's start-up warning that SLACK_BOT_TOKEN "will be unused": Bolt reads it from
    the environment itself, and the client given to it carries the same token."""
    # Compared by its start: the logs' own filter may have cut what follows.
    return not record.getMessage().startswith(warning_client_prioritized_and_token_skipped())


def _bolt_app(
    ctx: SlackContext, token_verification: bool, listener_executor: Executor | None
) -> App:
    """Bolt's app, with our Web API client, listener threads and payload check."""
    settings = ctx.settings
    return App(
        # Named, or Bolt names it after its caller's file with inspect.stack(), which looks up
        # the file of every module loaded: 60-75 ms of start-up with the bot's modules.
        name="school-support-bot",
        signing_secret=settings.slack_signing_secret or "socket-mode-does-not-sign",
        client=ctx.client,
        token_verification_enabled=token_verification,
        logger=logging.getLogger("slack_bolt"),
        listener_executor=listener_executor or listener_pool(settings.slack_listener_threads),
        # Runs right after the signature check, before Bolt reads the payload.
        before_authorize=RefuseMalformedPayloads(),
    )


class RefuseMalformedPayloads(Middleware):
    """Answer 400, doing nothing else, to a signed payload whose shape Slack never sends.

    Bolt and the listeners index payloads by position; a list where an object belongs would
    otherwise crash them into a 500. The log line names the fields, never their values.
    """

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse:
        problem = payload_problem(req.body)
        if problem is None:
            return next()
        log.info(
            "refused a malformed %s payload (%s; %d bytes)",
            _payload_kind(req.body),
            problem,
            len(req.raw_body.encode("utf-8")),
        )
        return BoltResponse(status=400, body="Bad request: not a payload Slack sends")


def _payload_kind(body: Any) -> str:
    """The payload's kind for the log: one of Slack's own names, never text from the body."""
    if not isinstance(body, dict):
        return "unknown"
    if "command" in body:
        return "slash command"
    kind = body.get("type")
    return kind if isinstance(kind, str) and kind in KNOWN_KINDS else "unknown"


def listener_pool(threads: int) -> ThreadPoolExecutor:
    """The threads Bolt runs listeners in: one per Slack request being handled at once.

    Bolt's default is 5, so the sixth simultaneous click waited for a whole Web API call
    and missed Slack's 3-second deadlines (see docs/concurrency.md).
    """
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="slack-listener")


def _no_listener_for_this_event() -> None:
    """An event type nothing here listens to: acknowledged, and there is nothing to do."""


def saved_key(body: dict[str, Any]) -> str | None:
    """The key a payload is saved under before its ack, or None if it is not saved: an
    event's `event_id`; for a form whose work runs after the ack, `view:` + its trigger id."""
    if body.get("type") == "event_callback":
        key = body.get("event_id")
        return key if isinstance(key, str) and key else None
    if body.get("type") == "view_submission":
        callback = _dict(body.get("view")).get("callback_id")
        submission = submission_id(body)
        if callback in FORMS_SAVED_BEFORE_ACK and submission:
            return f"view:{submission}"
    return None


class KeptAck(Ack):
    """Bolt's `ack`, except that an acknowledgement, once given, stands.

    When a listener fails just after acknowledging, Bolt's runner sets the acknowledgement
    back to none, so Slack was told nothing (a 404 after 3 s) about work already committed;
    the failure still reaches the error handler, which tells the person.
    """

    @property
    def response(self) -> BoltResponse | None:
        return self._response

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or getattr(self, "_response", None) is None:
            self._response = value


def _keep_acknowledgements(context: BoltContext, next: Callable[[], Any]) -> BoltResponse | None:
    """Middleware: the listeners' `ack` is a `KeptAck`."""
    context["ack"] = KeptAck()
    return next()


def _save_events_before_ack(ctx: SlackContext) -> Callable[..., BoltResponse | None]:
    """Middleware: save each event (claiming its `event_id`), and each submission of a form in
    `FORMS_SAVED_BEFORE_ACK`, before Bolt acknowledges it.

    Slack retries an event (same `event_id`) when it did not see our 200 in time, and
    never re-sends one it got a 200 for; so the 200 waits for this commit. A retry of an
    event already handled, or in another process's hands, is acknowledged and dropped.
    """

    def middleware(
        request: BoltRequest, body: dict[str, Any], context: BoltContext, next: Callable[[], Any]
    ) -> BoltResponse | None:
        if context.get(REPLAY) is not None:
            context[REPLAY_REACHED] = True
            return next()
        event_id = saved_key(body)
        if event_id is None:
            return next()
        claim = inbound.receive_event(
            ctx.sessions, event_id=event_id, body=body, now=ctx.clock.now()
        )
        if claim is None:
            log.info("event %s already handled or in hand; acknowledging the retry", event_id)
            return BoltResponse(status=200, body="")
        context[INBOUND_CLAIM] = claim
        return next()

    return middleware


class _InboundCompletion(ListenerCompletionHandler):
    """After a listener has run: mark its saved event handled, or release it for a retry
    (telling its sender, once it has been given up, who was told it would be tried again)."""

    def __init__(self, ctx: SlackContext) -> None:
        self.ctx = ctx

    def _tell_given_up(self, body: dict[str, Any]) -> None:
        user, channel = _who_and_where(body)
        if user:
            tell_straight_away(self.ctx, user, channel, None, SORRY_GAVE_UP)

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        context = request.context
        claim = context.get(INBOUND_CLAIM)
        try:
            if claim is not None:
                now, sessions = self.ctx.clock.now(), self.ctx.sessions
                if not context.get(FAILED):
                    inbound.mark_handled(sessions, claim, now=now)
                elif inbound.release_after_failure(sessions, claim, now=now):
                    self._tell_given_up(request.body)
        except Exception as exc:  # the lease lapses and the due work replays it
            row_id = claim.row_id if claim is not None else None
            log.error("could not record saved event %s: %s", row_id, type(exc).__name__)
        finally:
            done = context.get(REPLAY)
            if isinstance(done, threading.Event):
                done.set()


def replay_saved_events(ctx: SlackContext, app: App, *, limit: int = 100) -> int:
    """Handle saved events whose handling lapsed or failed, one at a time; returns how many.

    Each is claimed first, so two processes never replay the same one.
    """
    replayed = 0
    inbound.give_up_on_exhausted(ctx.sessions, now=ctx.clock.now())
    while replayed < limit:
        saved = inbound.claim_saved_event(ctx.sessions, now=ctx.clock.now())
        if saved is None:
            break
        _replay(ctx, app, saved)
        replayed += 1
    return replayed


def _replay(ctx: SlackContext, app: App, saved: inbound.SavedEvent) -> None:
    done = threading.Event()
    context = {REPLAY: done, INBOUND_CLAIM: saved.claim}
    request = BoltRequest(body=saved.body, mode="socket_mode", context=context)
    response = app.dispatch(request)
    if not request.context.get(REPLAY_REACHED):
        # Bolt's own middleware answered it (e.g. the bot's own message): nothing to run.
        _finish_unrun(ctx, saved, ok=response.status == 200)
        return
    if not done.wait(timeout=inbound.EVENT_LEASE.total_seconds()):
        log.warning("replayed event %s still running; its lease will lapse", saved.event_id)
    log.info("replayed saved event %s", saved.event_id)


def _finish_unrun(ctx: SlackContext, saved: inbound.SavedEvent, *, ok: bool) -> None:
    now = ctx.clock.now()
    if ok:
        inbound.mark_handled(ctx.sessions, saved.claim, now=now)
    else:
        inbound.release_after_failure(ctx.sessions, saved.claim, now=now)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _report_error(ctx: SlackContext) -> Callable[..., None]:
    """Global error handler: log with ids only, and tell the person something went wrong.

    It acts only on a request that passed the signature check (or came over Socket Mode), and
    says nothing for a replayed event: that person was told, or not kept waiting, at the time.
    """

    def handler(
        error: Exception,
        body: dict[str, Any],
        request: BoltRequest,
        response: BoltResponse | None,
    ) -> None:
        context = request.context
        context[FAILED] = True
        if request.mode != "socket_mode" and not context.get(VERIFIED):
            log.error("unhandled %s in an unverified request; ignored", type(error).__name__)
            return
        user, channel = _who_and_where(body)
        _log_error(error, body, user, channel)
        if user and context.get(REPLAY) is None:
            sorry = _apology(context, response)
            tell_straight_away(ctx, user, channel, body.get("response_url"), sorry)

    return handler


def _apology(context: BoltContext, response: BoltResponse | None) -> str:
    """What to tell the person: a saved event will be tried again; once the listener had
    acknowledged (Bolt then passes no response), something may already be saved."""
    if context.get(INBOUND_CLAIM) is not None:
        return SORRY_WILL_RETRY
    if response is None:
        return SORRY_AFTER_ACK
    return SORRY


def _who_and_where(body: dict[str, Any]) -> tuple[str | None, str | None]:
    event = _dict(body.get("event"))
    user = _text(_dict(body.get("user")).get("id") or body.get("user_id") or event.get("user"))
    channel = _text(
        _dict(body.get("channel")).get("id") or body.get("channel_id") or event.get("channel")
    )
    return user, channel


def _log_error(
    error: Exception, body: dict[str, Any], user: str | None, channel: str | None
) -> None:
    actions = (
        [_dict(a) for a in body.get("actions") or [{}]]
        if isinstance(body.get("actions"), list)
        else [{}]
    )
    log.error(
        "unhandled %s in %s (user=%s channel=%s action=%s callback=%s event=%s)",
        type(error).__name__,
        body.get("type") or body.get("command"),
        user,
        channel,
        actions[0].get("action_id"),
        _dict(body.get("view")).get("callback_id") or body.get("callback_id"),
        body.get("event_id"),
        exc_info=error,
    )


def connect(ctx: SlackContext) -> App:
    """Build the app, checking the bot token with Slack; a failure is one clear line."""
    try:
        return create_app(ctx)
    except (BoltError, SlackClientError, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SystemExit(
            f"error: could not check SLACK_BOT_TOKEN with Slack at "
            f"{ctx.settings.slack_api_url} ({reason})"
        ) from None


def run_socket_mode(app: App, app_token: str | None, *, threads: int) -> None:
    """Connect to Slack over Socket Mode and serve until interrupted."""
    # Lazy: only Socket Mode needs this adapter, and it loads a websocket client.
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    # One socket worker per listener thread, so acks are never queued (docs/concurrency.md).
    SocketModeHandler(app, app_token, concurrency=threads).start()
