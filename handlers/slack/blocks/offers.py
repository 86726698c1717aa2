"""Block Kit for offers: the supporter's DM, its closed states, and coordinator notices."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.clock import date_words, when
from bot.teamwork.flows import TEAM_ACTION
from handlers.slack.blocks import (
    Block,
    actions,
    button,
    confirm_dialog,
    context,
    escape,
    fields,
    header,
    plain,
    section,
)
from handlers.slack.blocks.requests import PHASE_LABELS, URGENCY_LABELS, titled_preview

if TYPE_CHECKING:
    from bot.requests.views import RequestSummary


def _needs(summary: RequestSummary) -> str:
    return ", ".join(escape(label) for _, label in summary.tags) or "—"


def offer_dm(
    summary: RequestSummary,
    *,
    offer_id: int,
    reasons: str,
    show_school: bool,
    expires_at: datetime | None,
    tz: ZoneInfo,
) -> list[Block]:
    """The offer a supporter receives: enough to decide, why them, and one-click answers."""
    school = (
        escape(summary.school) if show_school and summary.school else "_shared when you accept_"
    )
    about, cut = titled_preview(summary, limit=900)
    value = str(offer_id)
    blocks: list[Block] = [
        header("Can you help a school?"),
        fields(
            f"*Needs*\n{_needs(summary)}",
            f"*Urgency*\n{URGENCY_LABELS.get(summary.urgency, summary.urgency)}",
            f"*Phase*\n{PHASE_LABELS.get(summary.phase or '', '—')}",
            f"*Region*\n{escape(summary.region) or '—'}",
            f"*School*\n{school}",
            f"*Preferred start*\n{date_words(summary.preferred_start)}"
            if summary.preferred_start
            else "*Preferred start*\nFlexible",
        ),
        section(about),
        context(f"*Why you:* {escape(reasons)}"),
        actions(
            button("Accept", "offer_accept", value, style="primary"),
            button("Decline", "offer_decline", value),
            *([button("Show full request", "offer_show_full", value)] if cut else []),
            block_id=f"offer:{offer_id}",
        ),
        {
            "type": "actions",
            "block_id": f"offer_suggest:{offer_id}",
            "elements": [
                {
                    "type": "users_select",
                    "action_id": "offer_suggest",
                    "placeholder": plain("Suggest a colleague"),
                }
            ],
        },
    ]
    if expires_at is not None:
        blocks.append(
            context(f"I'll offer it to someone else if I haven't heard by {when(expires_at, tz)}.")
        )
    return blocks


def offer_closed(text: str) -> list[Block]:
    """An offer DM once it is no longer open (taken, declined, expired, cancelled)."""
    return [section(escape(text))]


def accepted_dm(
    summary: RequestSummary,
    *,
    deployment_id: int,
    head_slack_id: str | None,
    head_email: str | None = None,
) -> list[Block]:
    """What the supporter sees once the request is theirs: who, how to reach them, next steps."""
    contact = f"<@{head_slack_id}>" if head_slack_id else "the head"
    email = f" ({escape(head_email)})" if head_email else ""
    about, _ = titled_preview(summary, limit=1500)
    return [
        header("Thank you — you're supporting this school"),
        fields(
            f"*School*\n{escape(summary.school) or '—'}",
            f"*Needs*\n{_needs(summary)}",
            f"*Head*\n{contact}{email}",
            f"*Urgency*\n{URGENCY_LABELS.get(summary.urgency, summary.urgency)}",
        ),
        section(about),
        section(
            "*Next steps*\n"
            f"1. Get in touch with {contact} within 7 days to arrange a first meeting.\n"
            "2. Agree the focus, outcomes, and how often you'll visit.\n"
            "3. I'll check in with you both every couple of weeks."
        ),
        actions(
            button(
                "I can no longer do this",
                "deployment_release",
                str(deployment_id),
                confirm=confirm_dialog(
                    "Release this deployment?",
                    "I'll tell the school and find someone else.",
                    "Release it",
                ),
            ),
            button("Add colleagues or a shadow", TEAM_ACTION, str(deployment_id)),
            block_id=f"deployment:{deployment_id}",
        ),
    ]


def coordinator_alert(summary: RequestSummary, *, reason: str) -> list[Block]:
    """A request nobody could take: what it is, and a button to assign someone by hand."""
    return [
        section(
            f":warning: *Request #{summary.id} needs someone assigned by hand* ({escape(reason)})."
        ),
        fields(
            f"*School*\n{escape(summary.school) or '—'}",
            f"*Needs*\n{_needs(summary)}",
            f"*Phase*\n{PHASE_LABELS.get(summary.phase or '', '—')}",
            f"*Region*\n{escape(summary.region) or '—'}",
        ),
        actions(
            button("Assign someone", "request_assign", str(summary.id), style="primary"),
            block_id=f"assign:{summary.id}",
        ),
    ]


def assigned_notice(summary: RequestSummary, *, supporter_slack_id: str) -> list[Block]:
    """Coordinators hear that a request is now supported."""
    return [
        section(
            f":white_check_mark: Request #{summary.id} ({_needs(summary)}) for "
            f"{escape(summary.school) or 'a school'} is now supported by <@{supporter_slack_id}>."
        ),
        actions(
            button("Reassign", "request_assign", str(summary.id)),
            block_id=f"reassign:{summary.id}",
        ),
    ]


def assign_modal(request_id: int, metadata: str) -> dict:
    """The coordinator's modal to pick a supporter for a request."""
    return {
        "type": "modal",
        "callback_id": "assign",
        "title": plain("Assign a supporter", 24),
        "submit": plain("Assign"),
        "close": plain("Cancel"),
        "private_metadata": metadata,
        "blocks": [
            section(f"Who should support request #{request_id}?"),
            {
                "type": "input",
                "block_id": "supporter",
                "label": plain("Supporter"),
                "element": {"type": "users_select", "action_id": "value"},
            },
            {
                "type": "input",
                "block_id": "anyway",
                "optional": True,
                "label": plain("The hub's matching rules"),
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        {
                            "text": plain("Assign even if the rules say no"),
                            "description": plain(
                                "Same trust, phase, region or availability date. "
                                "The audit trail records it."
                            ),
                            "value": "anyway",
                        }
                    ],
                },
            },
        ],
    }


def decline_modal(offer_id: int) -> dict:
    """The optional-reason modal after Decline."""
    return {
        "type": "modal",
        "callback_id": "offer_decline",
        "title": plain("Decline", 24),
        "submit": plain("Decline"),
        "close": plain("Go back"),
        "private_metadata": str(offer_id),
        "blocks": [
            section("Thanks for letting us know. I'll offer it to someone else."),
            {
                "type": "input",
                "block_id": "reason",
                "optional": True,
                "label": plain("Reason (optional, seen by coordinators)"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": 500,
                },
            },
        ],
    }
