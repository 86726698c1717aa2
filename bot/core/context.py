"""The services' context: what a service needs besides a session, fixed at one instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.clock import Clock
from bot.core.school_calendar import SchoolCalendar
from bot.core.settings import Settings
from bot.core.vocabulary import Vocabulary
from storage.db import SessionFactory


@dataclass(frozen=True)
class ServiceContext:
    """Settings, vocabulary, school calendar and the time, as of one moment."""

    settings: Settings
    vocabulary: Vocabulary
    calendar: SchoolCalendar
    now: datetime


class Services(Protocol):
    """What a domain's scheduled work needs from the running bot (`bot.entry.runtime.Runtime`)."""

    @property
    def settings(self) -> Settings:
        """The bot's settings."""
        ...

    @property
    def sessions(self) -> SessionFactory:
        """Opens a database session."""
        ...

    @property
    def clock(self) -> Clock:
        """The clock."""
        ...

    def context(self) -> ServiceContext:
        """The services' context as of now."""
        ...
