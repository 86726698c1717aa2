"""Telling coordinators: their private channel on each platform, else a DM to each one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.clock import Clock
from bot.core.settings import Settings
from bot.outbox.giving_up import GAVE_UP, is_unexpected
from bot.outbox.owing import HOME_PUBLISH, owe_post
from bot.reach.people import address_of, mention, platform_of, user_id_of
from storage.db import SessionFactory, transaction
from storage.models import OutboxMessage, Person, PersonRole, Platform


def coordinators_unreached(session: Session, channels: Mapping[Platform, str]) -> list[Person]:
    """Every coordinator (erased people aside) none of `channels` reaches, by name: who is
    written to directly. Filtered in the query, so a channel spares loading everyone."""
    query = (
        select(Person)
        .join(PersonRole, col(PersonRole.person_id) == col(Person.id))
        .where(col(PersonRole.role) == "coordinator", col(Person.erased_at).is_(None))
        .order_by(Person.name)
    )
    for platform, user_id in (
        (Platform.SLACK, Person.slack_user_id),
        (Platform.TEAMS, Person.teams_user_id),
    ):
        if platform in channels:  # the channel reaches everyone on its platform
            query = query.where(or_(col(user_id).is_(None), col(user_id) == ""))
    return list(session.exec(query))


def notify_coordinators(
    session: Session,
    settings: Settings,
    *,
    now: datetime,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
    view: object | None = None,
    ref: str | None = None,
    prefer_channel: bool = True,
) -> int:
    """Owe a notice to the coordinators in this transaction; returns messages owed.

    It goes to the coordinators' channel on each configured platform (Slack's
    `COORDINATOR_CHANNEL_ID`, Teams' `TEAMS_COORDINATOR_CONVERSATION_ID`), and by direct
    message to each coordinator no such channel reaches. `prefer_channel=False` writes to
    each coordinator directly even so (used when a channel itself is what failed).
    """
    channels = coordinator_channels(settings) if prefer_channel else {}
    for channel in channels.values():
        owe_post(session, now=now, channel=channel, text=text, blocks=blocks, view=view, ref=ref)
    people = coordinators_unreached(session, channels)
    for person in people:
        owe_post(
            session,
            now=now,
            channel=address_of(person),
            text=text,
            blocks=blocks,
            view=view,
            ref=f"{ref}:{user_id_of(person)}" if ref else None,
        )
    return len(channels) + len(people)


def coordinator_channels(settings: Settings) -> dict[Platform, str]:
    """The coordinators' channel on each platform this bot is configured for."""
    channels: dict[Platform, str] = {}
    if settings.coordinator_channel_id and Platform.SLACK in settings.platforms:
        channels[Platform.SLACK] = settings.coordinator_channel_id
    if settings.teams_coordinator_conversation_id and settings.teams_configured:
        channels[Platform.TEAMS] = settings.teams_coordinator_conversation_id
    return channels


def coordinator_targets(session: Session, settings: Settings) -> list[str]:
    """Where coordinators are told things: their channels, and each coordinator none reaches."""
    channels = coordinator_channels(settings)
    people = coordinators_unreached(session, channels)
    return list(channels.values()) + [address_of(person) for person in people]


def _where(session: Session, target: str) -> str:
    """The person or channel a message was for, as the notice names it."""
    if platform_of(target) == Platform.SLACK:
        return f"<@{target}>" if target[:1] in ("U", "W") else f"<#{target}>"
    person = session.exec(select(Person).where(col(Person.teams_user_id) == target)).first()
    return mention(person) if person is not None else "a Teams conversation"


def _about(ref: str | None) -> str:
    """What an outbox ref was about, in words ("request #3", "offer #12")."""
    kind, _, rest = (ref or "").partition(":")
    number = rest.split(":")[0]
    return f" about {kind} #{number}" if kind in ("request", "offer", "checkin") and number else ""


def _why(platform: str, error: str) -> str:
    """Why a message wasn't delivered: the platform refused it, or kept failing till given up,
    or sending it kept raising an error in the bot itself (not the platform's doing)."""
    if is_unexpected(error):
        return f"the bot kept failing to send it to {platform} (`{error}`)"
    if error.startswith(GAVE_UP):
        return f"{platform} kept failing (`{error}`)"
    return f"{platform} said `{error}`"


def undeliverable_reporter(
    sessions: SessionFactory, settings: Settings, clock: Clock
) -> Callable[[int, str], None]:
    """The outbox's hook for a permanent failure: audit it and tell the coordinators once."""

    def report(message_id: int, error: str) -> None:
        with transaction(sessions) as session:
            message = session.get(OutboxMessage, message_id)
            if message is None:
                return
            now = clock.now()
            audit.record(
                session,
                at=now,
                actor=None,
                action="message.failed",
                subject_type="outbox",
                subject_id=message_id,
                error=error,
                channel=message.channel,
                ref=message.ref,
            )
            if (message.ref or "").startswith("undeliverable:"):
                return  # a failed failure notice is only logged, never reported in a loop
            if message.method == HOME_PUBLISH:
                return  # a Home page is built afresh each time it is opened
            target = message.channel or ""
            platform = "Teams" if message.platform == Platform.TEAMS else "Slack"
            text = (
                f":warning: I couldn't deliver a message to {_where(session, target)}"
                f"{_about(message.ref)}: {_why(platform, error)}. Please check the channel "
                "or person and follow up by hand."
            )
            to_channel = target not in coordinator_channels(settings).values()
            notify_coordinators(
                session,
                settings,
                now=now,
                text=text,
                ref=f"undeliverable:{message_id}",
                prefer_channel=to_channel,
            )

    return report
