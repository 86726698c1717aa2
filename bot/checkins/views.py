"""What a check-in looks like to the people in it: platform-neutral shapes the renderers take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.messages import message_view
from bot.core.text import escape


@dataclass(frozen=True)
class AnswerView:
    """One person's answer to a check-in."""

    person_id: int
    name: str
    role: str  # head | supporter | colleague | shadow | coordinator (who snoozed it)
    outcome: str
    answered_at: datetime


@dataclass(frozen=True)
class CheckinMember:
    """A colleague or shadow on the deployment, who gets its check-ins too (team deployments)."""

    person_id: int
    slack_user_id: str
    role: str  # colleague | shadow


@dataclass(frozen=True)
class CheckinView:
    """Everything needed to render a check-in DM, for either recipient."""

    checkin_id: int
    sequence: int
    status: str
    deployment_id: int
    deployment_status: str
    request_id: int
    school: str | None
    needs: tuple[str, ...]
    head_id: int | None
    head_slack_id: str | None
    head_name: str
    supporter_id: int
    supporter_slack_id: str
    supporter_name: str
    started_at: datetime
    cadence_days: int
    default_cadence_days: int
    cadence_choices: tuple[int, ...]
    paused: bool
    answers: tuple[AnswerView, ...]
    remind_at: datetime | None
    next_due_at: datetime | None
    missed_in_a_row: int
    superseded: bool  # a later check-in has been sent
    ask_if_still_wanted: bool  # several rounds missed: "still want these?"
    members: tuple[CheckinMember, ...] = ()  # colleagues and shadows, besides head and lead

    def member(self, person_id: int) -> CheckinMember | None:
        """The viewer as a colleague or shadow on the deployment, if they are one."""
        return next((m for m in self.members if m.person_id == person_id), None)

    def answered_by(self, person_id: int) -> AnswerView | None:
        """This person's answer, if they gave one."""
        return next((a for a in self.answers if a.person_id == person_id), None)


def cadence_label(days: int) -> str:
    """How often, in words: "Weekly", "Fortnightly", "Every four weeks", "Every 10 days"."""
    return {7: "Weekly", 14: "Fortnightly", 28: "Every four weeks", 1: "Daily"}.get(
        days, f"Every {days} days"
    )


def checkin_text(view: CheckinView, *, reminder: bool = False) -> str:
    """The notification text of a check-in DM."""
    where = f" at {escape(view.school)}" if view.school else ""
    return ("Reminder: h" if reminder else "H") + f"ow is the support{where} going?"


# --- messages: what the check-in DMs and coordinator notices say, for an adapter to render ----
@message_view("checkins.message")
@dataclass(frozen=True)
class CheckinMessage:
    """The check-in DM as `viewer_id` (the head or the supporter) sees it, times in `tz`."""

    checkin: CheckinView
    viewer_id: int
    tz: str
    reminder: bool = False


@message_view("checkins.closed")
@dataclass(frozen=True)
class CheckinClosed:
    """A check-in DM that can no longer be answered, with why."""

    text: str


@message_view("checkins.attention_alert")
@dataclass(frozen=True)
class AttentionAlert:
    """Tells coordinators that someone said the support needs attention, with their note."""

    checkin: CheckinView
    role: str
    name: str
    note: str


@message_view("checkins.completed_notice")
@dataclass(frozen=True)
class CompletedNotice:
    """Tells coordinators that the support was marked completed, with its impact."""

    checkin: CheckinView
    name: str
    role: str
    impact: str
