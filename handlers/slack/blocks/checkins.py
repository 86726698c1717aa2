"""Block Kit for check-ins: the DM to the head and the supporter, its states, the note
modals, and what coordinators hear when support needs attention or is completed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.checkins.views import cadence_label, checkin_text
from bot.core.clock import day_month, when
from bot.deployments.views import LOG_VISIT
from handlers.slack.blocks import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    escape,
    fields,
    header,
    option,
    plain,
    section,
    truncate,
)
from storage.models import CheckInStatus, DeploymentStatus

if TYPE_CHECKING:
    from bot.checkins.views import CheckinView

__all__ = [
    "attention_alert",
    "attention_modal",
    "cadence_label",
    "checkin_closed",
    "checkin_message",
    "checkin_text",
    "completed_modal",
    "completed_notice",
    "when",
]

OUTCOME_LABELS = {
    "on_track": ":white_check_mark: *On track*",
    "needs_attention": ":warning: *Needs attention*",
    "completed": ":tada: *Completed*",
    "snoozed": ":zzz: *Snoozed for a week*",
}
NOTE_PRIVACY = "Please don't name pupils or staff."


def _needs(view: CheckinView) -> str:
    return ", ".join(escape(label) for label in view.needs) or "support"


def _person(user_id: str | None, name: str) -> str:
    return f"<@{user_id}|{escape(name)}>" if user_id else escape(name)


def _about(view: CheckinView, viewer_id: int, tz: ZoneInfo) -> str:
    since = day_month(view.started_at, tz)
    school = f"*{escape(view.school)}*" if view.school else "the school"
    member = view.member(viewer_id)
    if member is not None:
        return (
            f"Check-in {view.sequence} on the support for {school} ({_needs(view)}) led by "
            f"{_person(view.supporter_slack_id, view.supporter_name)}, where you're "
            f"{'a colleague' if member.role == 'colleague' else 'shadowing'}, since {since}."
        )
    if viewer_id == view.supporter_id:
        return (
            f"Check-in {view.sequence} on your support for {school} ({_needs(view)}) with "
            f"{_person(view.head_slack_id, view.head_name)}, since {since}."
        )
    return (
        f"Check-in {view.sequence} on the support from "
        f"{_person(view.supporter_slack_id, view.supporter_name)} with {_needs(view)}, "
        f"since {since}."
    )


def _answers(view: CheckinView, viewer_id: int, tz: ZoneInfo) -> str:
    lines = []
    for answer in view.answers:
        who = "you" if answer.person_id == viewer_id else escape(answer.name)
        lines.append(
            f"{OUTCOME_LABELS.get(answer.outcome, escape(answer.outcome))} — {who} "
            f"({answer.role}), {when(answer.answered_at, tz)}"
        )
    return "\n".join(lines)


def _settings_block(view: CheckinView) -> Block:
    """How often, or pause: a select whose values carry the check-in id."""
    options = [
        option(
            cadence_label(days) + (" (usual)" if days == view.default_cadence_days else ""),
            f"{view.checkin_id}:{days}",
        )
        for days in view.cadence_choices
    ]
    element: Block = {
        "type": "static_select",
        "action_id": "checkin_cadence",
        "placeholder": plain("How often?" if not view.paused else "Resume how often?"),
        "options": [*options]
        + ([] if view.paused else [option("Pause check-ins", f"{view.checkin_id}:pause")]),
    }
    if not view.paused:
        element["initial_option"] = next(
            o for o in options if o["value"] == f"{view.checkin_id}:{view.cadence_days}"
        )
    elements: list[Block] = [element]
    if view.paused:
        elements.insert(
            0,
            button("Resume check-ins", "checkin_resume", str(view.checkin_id), style="primary"),
        )
    return actions(*elements, block_id=f"checkin_settings:{view.checkin_id}")


def _answer_buttons(view: CheckinView, *, on_team: bool = False) -> Block:
    """The answers; a colleague or shadow (`on_team`) can't mark the support completed or
    snooze it (when check-ins come is for the head and the lead supporter)."""
    value = str(view.checkin_id)
    buttons = [
        button("On track", "checkin_on_track", value, style="primary"),
        button("Needs attention", "checkin_needs_attention", value),
    ]
    if not on_team:
        buttons.append(button("Completed", "checkin_completed", value))
    if view.status == CheckInStatus.SENT and not on_team:
        buttons.append(button("Snooze a week", "checkin_snooze", value))
    return actions(*buttons, block_id=f"checkin:{view.checkin_id}")


def checkin_message(
    view: CheckinView, *, viewer_id: int, tz: ZoneInfo, reminder: bool = False
) -> list[Block]:
    """One recipient's check-in DM in its current state (asked, answered, missed, paused,
    closed); each recipient sees their own buttons."""
    title = "Reminder: how is the support going?" if reminder else "How is the support going?"
    blocks: list[Block] = [header(title), section(_about(view, viewer_id, tz))]
    if view.answers:
        blocks.append(section(_answers(view, viewer_id, tz)))
    if view.deployment_status != DeploymentStatus.ACTIVE:
        ended = (
            "This support has been completed — thank you both."
            if view.deployment_status == DeploymentStatus.COMPLETED
            else "This support has ended, so this check-in is closed. Thank you."
        )
        blocks.append(context(ended))
        return blocks
    answerable = (
        view.status in (CheckInStatus.SENT, CheckInStatus.ANSWERED)
        and not view.superseded
        and view.answered_by(viewer_id) is None
    )
    on_team = view.member(viewer_id) is not None
    if answerable:
        blocks.append(_answer_buttons(view, on_team=on_team))
    if view.ask_if_still_wanted and not on_team:
        blocks.extend(_still_wanted_blocks(view))
    if not on_team:  # how often is for the head and the lead supporter
        blocks.append(_settings_block(view))
    blocks.append(_log_visit_block(view))
    footnote = _footnote(view, tz, reminder=reminder)
    if footnote:
        blocks.append(context(footnote))
    return blocks


def _log_visit_block(view: CheckinView) -> Block:
    """Optionally, the days given since the last check-in and a visit note."""
    value = f"{view.deployment_id}:{view.checkin_id}"
    return actions(
        button("Log days and a visit note", LOG_VISIT, value),
        block_id=f"checkin_log:{view.checkin_id}",
    )


def _still_wanted_blocks(view: CheckinView) -> list[Block]:
    """After several unanswered check-ins: ask whether they are still wanted."""
    value = str(view.checkin_id)
    return [
        section(
            f"Nobody has answered the last {view.missed_in_a_row} check-ins. "
            "*Still want these?* Answer above to keep them coming, or:"
        ),
        actions(
            button("Ask every four weeks", "checkin_less_often", value),
            button(
                "Stop check-ins",
                "checkin_stop",
                value,
                confirm=confirm_dialog(
                    "Stop check-ins?",
                    "I'll stop asking how the support is going. You can resume them "
                    "from this message at any time.",
                    "Stop them",
                ),
            ),
            block_id=f"checkin_still_want:{view.checkin_id}",
        ),
    ]


def _footnote(view: CheckinView, tz: ZoneInfo, *, reminder: bool) -> str:
    """The line under a check-in DM: paused, missed, closed, when to expect a reminder, or
    when the next check-in is due (empty when there is nothing to say)."""
    next_due = f"Next check-in: {when(view.next_due_at, tz)}." if view.next_due_at else ""
    if view.paused:
        return "Check-ins are paused. Resume them here whenever you like."
    if view.status == CheckInStatus.MISSED:
        return (
            "Nobody answered this check-in before the next one was due, so I've marked it missed."
        )
    if view.status == CheckInStatus.CANCELLED:
        return f"This check-in was closed. {next_due}"
    if view.status == CheckInStatus.SENT and not reminder and view.remind_at is not None:
        return (
            "Either of you can answer. If neither of you has by "
            f"{when(view.remind_at, tz)}, I'll send one reminder."
        )
    if view.status == CheckInStatus.SENT:
        return "Either of you can answer — it only takes a click."
    return next_due


def checkin_closed(text: str) -> list[Block]:
    """A check-in DM that no longer takes answers, with why."""
    return [section(escape(text))]


def _note_modal(
    callback_id: str,
    checkin_id: int,
    *,
    title: str,
    intro: str,
    label: str,
    block_id: str,
    submit: str,
    max_length: int,
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Go back", 24),
        "private_metadata": json.dumps({"checkin_id": checkin_id}),
        "blocks": [
            section(intro),
            {
                "type": "input",
                "block_id": block_id,
                "label": plain(label, 2000),
                "hint": plain(NOTE_PRIVACY, 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": max_length,
                },
            },
        ],
    }


def attention_modal(checkin_id: int) -> dict[str, Any]:
    """Asks for a short note when support needs attention; coordinators will see it."""
    return _note_modal(
        "checkin_needs_attention",
        checkin_id,
        title="Needs attention",
        intro="Thanks for flagging it. I'll pass your note to the coordinators so they can help.",
        label="What needs attention?",
        block_id="note",
        submit="Tell coordinators",
        max_length=1000,
    )


def completed_modal(checkin_id: int) -> dict[str, Any]:
    """Asks for a short impact note before the support is closed."""
    return _note_modal(
        "checkin_completed",
        checkin_id,
        title="Support completed",
        intro=(
            "I'll close this support, free the supporter for other schools and stop the "
            "check-ins. A short note on the impact helps coordinators and future schools."
        ),
        label="What difference has the support made?",
        block_id="impact",
        submit="Close the support",
        max_length=2000,
    )


def _coordinator_fields(view: CheckinView) -> Block:
    return fields(
        f"*School*\n{escape(view.school) or '—'}",
        f"*Needs*\n{_needs(view)}",
        f"*Supporter*\n{_person(view.supporter_slack_id, view.supporter_name)}",
        f"*Head*\n{_person(view.head_slack_id, view.head_name)}",
    )


def attention_alert(view: CheckinView, *, role: str, name: str, note: str) -> list[Block]:
    """Coordinators hear that support needs attention, with the note (escaped)."""
    quoted = "\n".join(f">{line}" for line in escape(truncate(note, 1500)).splitlines() or [""])
    return [
        section(
            f":warning: *Support on request #{view.request_id} needs attention* "
            f"(check-in {view.sequence})."
        ),
        _coordinator_fields(view),
        section(f"*Note from {escape(name)} ({role})*\n{quoted}"),
    ]


def completed_notice(view: CheckinView, *, name: str, role: str, impact: str) -> list[Block]:
    """Coordinators hear that support has been completed, with the impact note (escaped)."""
    quoted = "\n".join(f">{line}" for line in escape(truncate(impact, 1500)).splitlines() or [""])
    return [
        section(
            f":tada: *Support on request #{view.request_id} has been completed*, marked by "
            f"{escape(name)} ({role}). The supporter is free for other schools."
        ),
        _coordinator_fields(view),
        section(f"*Impact*\n{quoted}"),
    ]
