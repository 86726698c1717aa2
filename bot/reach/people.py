"""Who someone is to the core, and where to write to them.

The core names a person by their *user id*: their Slack user id if they have one, else their
Teams user id (Entra object id). Adapters hand the core the id of whoever acted, on either
platform; `is_user` and `bot.directory.people.person_by_user_id` accept both.

An outbox address says its platform by its shape: Slack ids are upper-case letters and digits
(`C0123`, `U0456`); anything else (a GUID, `19:…@thread.tacv2`, `a:1…`) is a Teams address.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from bot.core.teams_settings import is_guid
from bot.core.text import escape
from storage.models import Person, Platform

SLACK_ADDRESS = re.compile(r"[A-Z0-9]+")
# A neutral mention in view text: `<@ID>` or `<@ID|Name>` (docs/messages.md).
MENTION = re.compile(r"<@([^|<>\s]+)(?:\|([^<>]*))?>")


def platform_of(address: str) -> Platform:
    """The platform an outbox address belongs to, from its shape (see the module's doc)."""
    return Platform.SLACK if SLACK_ADDRESS.fullmatch(address) else Platform.TEAMS


def normal_user_id(user_id: str) -> str:
    """A user id as the directory keeps it: a Teams id (a GUID) in lower case."""
    return user_id.lower() if is_guid(user_id) else user_id


class WithUserIds(Protocol):
    """A person, or a row of one, with the ids the platforms know them by."""

    @property
    def slack_user_id(self) -> str | None: ...

    @property
    def teams_user_id(self) -> str | None: ...


def user_id_of(person: WithUserIds) -> str:
    """The id the core names `person` by: Slack user id first, else Teams user id."""
    return person.slack_user_id or person.teams_user_id or ""


def is_user(person: Person | None, actor: str | None) -> bool:
    """Whether `actor` (a Slack or Teams user id) is `person`."""
    if person is None or not actor:
        return False
    return normal_user_id(actor) in (person.slack_user_id, person.teams_user_id)


def platform_for(person: Person) -> Platform:
    """Where to write to `person`: their preferred platform if they have an id there, else
    the platform they have an id on (Slack first)."""
    return platform_of(address_of(person)) if address_of(person) else Platform.SLACK


def direct_address(
    slack_user_id: str | None, teams_user_id: str | None, preferred: str | None
) -> str:
    """The outbox address of a direct message to someone with these ids: the preferred
    platform's id if they have one, else their Slack id, else their Teams id."""
    if preferred == Platform.TEAMS and teams_user_id:
        return teams_user_id
    return slack_user_id or teams_user_id or ""


class Reachable(WithUserIds, Protocol):
    """A person, or a row of one, with their ids and the platform they prefer."""

    @property
    def preferred_platform(self) -> Platform | None: ...


def address_of(person: Reachable) -> str:
    """The outbox address of a direct message to `person`: their Slack user id, or their
    Teams user id (the Teams sender finds or opens the 1:1 chat with them)."""
    return direct_address(person.slack_user_id, person.teams_user_id, person.preferred_platform)


def resolve_mentions(text: str, render: Callable[[str, str | None], str]) -> str:
    """`text` with each neutral mention replaced by `render(user_id, name or None)`."""
    return MENTION.sub(lambda match: render(match[1], match[2] or None), text)


def mention(person: Person) -> str:
    """A neutral mention of `person` for view text: `<@ID|Name>` (see docs/messages.md).

    Each platform's renderer turns it into its own mention, or the name where the id is not
    one of its own."""
    name = escape(person.name).replace("|", "/")
    return f"<@{user_id_of(person)}|{name}>"
