"""The services' context: what a service needs besides a session, fixed at one instant."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.school_calendar import SchoolCalendar
from bot.core.settings import Settings
from bot.core.vocabulary import Vocabulary


@dataclass(frozen=True)
class ServiceContext:
    """Settings, vocabulary, school calendar and the time, as of one moment."""

    settings: Settings
    vocabulary: Vocabulary
    calendar: SchoolCalendar
    now: datetime
