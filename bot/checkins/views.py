"""What a check-in looks like to the people in it: platform-neutral shapes the renderers take."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class AnswerView:
    """One person's answer to a check-in."""

    person_id: int
    name: str
    role: str  # head | supporter
    outcome: str
    answered_at: datetime


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

    def answered_by(self, person_id: int) -> AnswerView | None:
        """This person's answer, if they gave one."""
        return next((a for a in self.answers if a.person_id == person_id), None)
