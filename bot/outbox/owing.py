"""Messages owed: services call `owe_post`, `owe_update`, `owe_ephemeral`, `owe_reply` or
`owe_files` inside the transaction that changes state, so a message is owed exactly when the
change is committed. What a message shows is a neutral `view` (`bot.core.messages`); the
platform's sender (`handlers.slack.sender`) renders and delivers it. `blocks` are for the
adapter's own messages only.

Each row names its `platform`, read from the shape of its address (`bot.reach.people`): a
Slack channel or user id, or a Teams user id or conversation id. A message to a person goes
to `address_of(person)`, on the platform they are reached on. An update or a threaded reply
goes where the message it edits or answers went.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session, col

from bot.core.messages import encode_view
from bot.core.text import visible_payload
from bot.reach.people import platform_of
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage, OutboxStatus, Platform

REPLY = "response_url"  # the outbox method of a reply through a response_url
FILES_UPLOAD = "files.upload"
# A person's Home page (Slack's `views.publish`): each replaces the whole page, so only the
# newest owed to a person need be sent.
HOME_PUBLISH = "views.publish"


def _owe(session: Session, now: datetime, **fields: Any) -> OutboxMessage:
    # The one way out: whatever a caller built, no bidi control or zero-width character leaves.
    fields["payload"] = visible_payload(fields["payload"])
    fields.setdefault("platform", platform_of(fields["channel"]))
    message = OutboxMessage(created_at=now, next_attempt_at=now, **fields)
    session.add(message)
    return message


def _add_content(
    payload: dict[str, Any],
    blocks: list[dict[str, Any]] | None,
    view: object | None,
    *,
    replace: bool = False,
) -> None:
    """Put what the message shows into `payload`: a neutral `view` (`bot.core.messages`) the
    platform's adapter renders at delivery, or (from the adapter itself) ready-made blocks.
    An update (`replace`) always says what the blocks become, even none."""
    if view is not None:
        payload["view"] = encode_view(view)
    elif blocks or replace:
        payload["blocks"] = blocks or []


def owe_post(
    session: Session,
    *,
    now: datetime,
    channel: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    view: object | None = None,
    thread_ts: str | None = None,
    ref: str | None = None,
    thread_of: str | None = None,
    dedupe_key: str | None = None,
) -> OutboxMessage:
    """Owe a post to a channel, or to a user id for a DM from the bot (`address_of(person)`).

    `thread_of` makes it a reply to the message owed with that `ref`, once that one is sent.
    """
    payload: dict[str, Any] = {"text": text, "unfurl_links": False, "unfurl_media": False}
    _add_content(payload, blocks, view)
    if thread_ts:
        payload["thread_ts"] = thread_ts
    return _owe(
        session,
        now,
        method="chat.postMessage",
        channel=channel,
        payload=payload,
        ref=ref,
        thread_of=thread_of,
        dedupe_key=dedupe_key,
    )


def owe_update(
    session: Session,
    *,
    now: datetime,
    update_of: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    view: object | None = None,
) -> OutboxMessage:
    """Owe a `chat.update` of the message posted with `ref=update_of` (sent once it has a ts),
    on the platform it was posted on; on each, if it went to both."""
    payload: dict[str, Any] = {"text": text}
    _add_content(payload, blocks, view, replace=True)
    owed = [
        _owe(
            session,
            now,
            method="chat.update",
            channel="",
            platform=platform,
            payload=dict(payload),
            update_of=update_of,
        )
        for platform in platforms_of(session, update_of)
    ]
    return owed[0]


def platforms_of(session: Session, ref: str) -> list[str]:
    """The platforms the message(s) owed with `ref` went to; Slack if none is owed yet."""
    found = session.scalars(
        select(col(OutboxMessage.platform)).where(col(OutboxMessage.ref) == ref).distinct()
    ).all()
    return sorted(found) or [Platform.SLACK]


def is_owed(session: Session, dedupe_key: str) -> bool:
    """Whether a message with this dedupe key was ever owed (whatever became of it)."""
    found = session.scalars(
        select(col(OutboxMessage.id)).where(col(OutboxMessage.dedupe_key) == dedupe_key)
    ).first()
    return found is not None


def was_posted(session: Session, ref: str) -> bool:
    """Whether a message with `ref` was owed and has not failed for good (so it can be
    updated in place)."""
    found = session.scalars(
        select(col(OutboxMessage.id)).where(
            col(OutboxMessage.ref) == ref,
            col(OutboxMessage.method) == "chat.postMessage",
            col(OutboxMessage.status) != OutboxStatus.FAILED,
        )
    ).first()
    return found is not None


def owe_ephemeral(
    session: Session,
    *,
    now: datetime,
    channel: str,
    user: str,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    view: object | None = None,
    thread_ts: str | None = None,
) -> OutboxMessage:
    """Owe a `chat.postEphemeral` visible only to `user` in `channel`."""
    payload: dict[str, Any] = {"text": text}
    _add_content(payload, blocks, view)
    if thread_ts:
        payload["thread_ts"] = thread_ts
    return _owe(
        session, now, method="chat.postEphemeral", channel=channel, user=user, payload=payload
    )


def owe_reply(
    session: Session,
    *,
    now: datetime,
    user: str,
    response_url: str,
    text: str,
    channel: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    view: object | None = None,
) -> OutboxMessage:
    """Owe a reply only `user` sees, through the `response_url` of what they did (in
    `channel`, if it came from one); by DM instead once that URL is expired, used up or refused.
    """
    payload: dict[str, Any] = {"text": text}
    _add_content(payload, blocks, view)
    return _owe(
        session,
        now,
        method=REPLY,
        channel=channel or user,
        user=user,
        response_url=response_url,
        payload=payload,
    )


def owe_home(session: Session, *, now: datetime, user: str, page: dict[str, Any]) -> OutboxMessage:
    """Owe a publish of `user`'s Home `page` (the adapter's rendering), paced like any send.

    A page still queued for them is dropped: this newer one replaces it, never both sent.
    """
    drop_owed_home(session, user)
    return _owe(session, now, method=HOME_PUBLISH, channel=user, payload={"home": page})


def drop_owed_home(session: Session, user: str) -> int:
    """Forget the Home pages owed to `user` and not yet started (a newer one is on its way);
    returns how many. One being sent is left alone: delivery skips it if a newer one waits."""
    result = session.execute(
        delete(OutboxMessage).where(
            col(OutboxMessage.method) == HOME_PUBLISH,
            col(OutboxMessage.channel) == user,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True)
class OwedFile:
    """A file to upload: its name, title, alt text for screen readers, and content."""

    filename: str
    title: str
    content: bytes
    alt_text: str = ""


def owe_files(
    session: Session,
    *,
    now: datetime,
    channel: str,
    files: list[OwedFile],
    comment: str = "",
    ref: str | None = None,
) -> OutboxMessage:
    """Owe an upload of `files` shared in one message to a channel (or a user id, for a DM).

    Slack's current upload flow (files.getUploadURLExternal, the upload, then
    files.completeUploadExternal) runs at delivery; the content waits in the outbox until then
    and is dropped once Slack has it.
    """
    payload: dict[str, Any] = {
        "initial_comment": comment,
        "files": [
            {
                "filename": f.filename,
                "title": f.title,
                "alt_txt": f.alt_text,
                "content_b64": base64.b64encode(f.content).decode("ascii"),
            }
            for f in files
        ],
    }
    return _owe(session, now, method=FILES_UPLOAD, channel=channel, payload=payload, ref=ref)


def sent_message(
    session: Session, ref: str, *, platform: str = Platform.SLACK
) -> OutboxMessage | None:
    """The most recent message sent on `platform` with `ref`, with its channel and ts, if any."""
    return session.scalars(
        select(OutboxMessage)
        .where(
            col(OutboxMessage.ref) == ref,
            col(OutboxMessage.status) == OutboxStatus.SENT,
            col(OutboxMessage.platform) == platform,
        )
        .order_by(col(OutboxMessage.id).desc())
        .limit(1)
    ).first()


def prune_sent_messages(sessions: SessionFactory, *, now: datetime, days: int) -> int:
    """Delete messages delivered more than `days` ago; returns how many.

    Kept whatever the age: a message with a `ref` (a later edit or thread reply finds its
    timestamp through it) and one with a `dedupe_key` (it stops the same message twice).
    """
    with transaction(sessions) as session:
        result = session.execute(
            delete(OutboxMessage).where(
                col(OutboxMessage.status) == OutboxStatus.SENT,
                col(OutboxMessage.sent_at) < now - timedelta(days=days),
                col(OutboxMessage.ref).is_(None),
                col(OutboxMessage.dedupe_key).is_(None),
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
