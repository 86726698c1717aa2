"""Block Kit for requests: the thread card, the channel post, and the request modals."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from bot.requests.views import SUPPORT_ENDED
from handlers.slack.blocks import (
    TEXT_INPUT_LIMIT,
    Block,
    actions,
    button,
    chunk_text,
    confirm_dialog,
    context,
    escape,
    fields,
    option,
    plain,
    section,
    truncate,
    visible_only,
)
from storage.models import REGIONS, RequestStatus

if TYPE_CHECKING:
    from bot.core.vocabulary import Vocabulary
    from bot.requests.views import Draft, RequestSummary

DESCRIPTION_PREVIEW = 1200
URGENCY_LABELS = {
    "routine": "Routine — within a few weeks",
    "soon": "Soon — within two weeks",
    "urgent": "Urgent — this week",
}
PHASE_LABELS = {
    "nursery": "Nursery",
    "primary": "Primary",
    "secondary": "Secondary",
    "all-through": "All-through",
    "special": "Special",
    "16-plus": "16 plus",
}
PRIVACY_NOTE = (
    "Please don't name pupils or staff. Details are shared only with the people who can help "
    "and your coordinators."
)


def _tag_labels(summary: RequestSummary) -> str:
    return ", ".join(escape(label) for _, label in summary.tags) or "_not known yet_"


def _school_line(summary: RequestSummary) -> str:
    if not summary.school:
        return "_not known yet_"
    extra = ", ".join(x for x in (PHASE_LABELS.get(summary.phase or ""), summary.region) if x)
    return escape(summary.school) + (f" ({escape(extra)})" if extra else "")


def _next_step(summary: RequestSummary) -> str:
    if summary.support_ended:
        return f"{SUPPORT_ENDED} Everyone on it has been told."
    if summary.status == RequestStatus.CANCELLED:
        return "This request has been cancelled. Anyone who was asked has been told."
    if summary.status == RequestStatus.ACCEPTED:
        who = f"<@{summary.assigned_to}>" if summary.assigned_to else "A system leader"
        return f"*{who} is supporting you.* They'll be in touch to arrange a first meeting."
    if summary.status == RequestStatus.OFFERED:
        return (
            "*I've offered this to the best-matched system leaders.* "
            "You'll hear here as soon as one of them accepts."
        )
    if summary.status == RequestStatus.EXPIRED:
        return (
            "*I haven't found an available system leader yet*, so the coordinators are "
            "finding someone by hand. You'll hear here as soon as someone is lined up."
        )
    if summary.status == RequestStatus.CLOSED:
        return "This deployment has been completed. Thank you."
    if summary.awaiting_profile:
        return "*Before I look for support*, please tell me about your school — I'll only ask once."
    if not summary.tags:
        return (
            "*I couldn't tell which areas you need help with*, so I haven't guessed. "
            "Please choose them and I'll take it from there."
        )
    return (
        "*Is that right?* Press *Find support* and I'll offer it to the best-matched system "
        "leaders. You'll hear here when someone accepts."
    )


def request_card(summary: RequestSummary) -> list[Block]:
    """The bot's reply to a request: what it understood, what happens next, and buttons."""
    value = str(summary.id)
    blocks: list[Block] = [
        section(f"Thanks <@{summary.requester}> — here's your request as I understood it:"),
        fields(
            f"*School*\n{_school_line(summary)}",
            f"*Areas of need*\n{_tag_labels(summary)}",
            f"*Urgency*\n{URGENCY_LABELS.get(summary.urgency, summary.urgency)}",
            f"*Request*\n#{summary.id}"
            + (f" · {escape(truncate(summary.title, 80))}" if summary.source == "channel" else ""),
        ),
        section(_next_step(summary)),
    ]
    if summary.status not in (RequestStatus.OPEN, RequestStatus.OFFERED, RequestStatus.EXPIRED):
        return blocks
    buttons: list[Block] = []
    if summary.awaiting_profile:
        buttons.append(button("Add school details", "request_profile", value, style="primary"))
    elif not summary.tags:
        buttons.append(button("Choose areas of need", "request_edit", value, style="primary"))
    elif summary.status == RequestStatus.OPEN:
        buttons.append(button("Find support", "request_confirm", value, style="primary"))
    if summary.tags or summary.awaiting_profile:
        buttons.append(button("Edit", "request_edit", value))
    buttons.append(
        button(
            "Cancel request",
            "request_cancel",
            value,
            style="danger",
            confirm=confirm_dialog(
                "Cancel this request?",
                "Anyone who has been asked will be told it's no longer needed.",
                "Cancel request",
            ),
        )
    )
    blocks.append(actions(*buttons, block_id=f"request:{summary.id}"))
    blocks.append(context("Only you and coordinators can change this request."))
    return blocks


def description_after_title(summary: RequestSummary) -> str:
    """The description less an opening sentence or line that only repeats the title (a title
    guessed from a post or the command's text is its first sentence)."""
    title = summary.title.strip().rstrip(".!?")
    description = summary.description.lstrip()
    if not title or title.endswith("…"):  # a cut title: the sentence says more than it
        return summary.description
    words = r"\s+".join(re.escape(word) for word in title.split())
    repeated = re.match(rf"{words}(?:[.!?]+(?=\s|$)|[ \t]*(?=\n)|\s*$)", description, re.I)
    return description[repeated.end() :].lstrip() if repeated else summary.description


def description_preview(
    summary: RequestSummary, limit: int = DESCRIPTION_PREVIEW, *, after_title: bool = False
) -> tuple[str, bool]:
    """The escaped description (`after_title`: less a repeat of the title), cut for display;
    and whether it was cut."""
    text = description_after_title(summary) if after_title else summary.description
    cut = truncate(text, limit)
    return escape(cut), cut != text


def titled_preview(summary: RequestSummary, limit: int) -> tuple[str, bool]:
    """The bold title over the description, the title shown once; and whether it was cut."""
    preview, cut = description_preview(summary, limit, after_title=True)
    title = f"*{escape(summary.title)}*"
    return (f"{title}\n{preview}" if preview else title), cut


def channel_post(summary: RequestSummary) -> list[Block]:
    """The support-channel post of a request made through the modal or the shortcut.

    The channel sees only that the school asked, for what and how soon: the head wrote the
    details in a private form, so they go only to the people who can help.
    """
    return [
        section(f"*<@{summary.requester}> has asked for support* (request #{summary.id})"),
        context(
            f"{_school_line(summary)} · {_tag_labels(summary)} · "
            f"{URGENCY_LABELS.get(summary.urgency, summary.urgency)}"
        ),
        actions(button("Show full request", "request_show_full", str(summary.id))),
        context("The details are shared only with the head, coordinators and supporters asked."),
    ]


def full_request_modal(summary: RequestSummary, *, show_school: bool = True) -> dict[str, Any]:
    """A read-only modal with the whole request, split across sections within Slack's limits.

    `show_school=False` for a supporter who has only been offered it, as in the offer DM.
    """
    pieces = chunk_text(escape(summary.description)) or ["_no description_"]
    blocks: list[Block] = [section(f"*{escape(summary.title)}*")]
    blocks += [section(piece) for piece in pieces[:95]]
    school = _school_line(summary) if show_school else "School _shared when you accept_"
    blocks.append(context(f"{school} · {_tag_labels(summary)}"))
    return {
        "type": "modal",
        "callback_id": "request_full",
        "title": plain(f"Request #{summary.id}", 24),
        "close": plain("Close"),
        "blocks": blocks,
    }


def _areas_element(vocabulary: Vocabulary, selected: Sequence[str]) -> Block:
    groups: dict[str, list[Block]] = {}
    for tag in vocabulary.tags:
        groups.setdefault(tag.category, []).append(option(tag.label, tag.slug))
    element: Block = {
        "type": "multi_static_select",
        "action_id": "value",
        "placeholder": plain("Choose one or more"),
        "option_groups": [
            {"label": plain(category, 75), "options": options[:100]}
            for category, options in groups.items()
        ],
    }
    initial = [option(vocabulary.label(slug), slug) for slug in selected if vocabulary.has(slug)]
    if initial:
        element["initial_options"] = initial
    return element


def _input(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _text_input(initial: str, *, multiline: bool = False, max_length: int = 150) -> Block:
    element: Block = {
        "type": "plain_text_input",
        "action_id": "value",
        "multiline": multiline,
        "max_length": max_length,
    }
    shown = visible_only(initial)
    if shown:
        element["initial_value"] = shown[:max_length]
    return element


def _description_input(description: str) -> Block:
    """The description field, holding the whole description; or, when it is too long for a
    modal (stored before the limit), a note that it is kept as it is and not editable here."""
    if len(visible_only(description)) > TEXT_INPUT_LIMIT:
        return section(
            f"*What you need help with* is longer than {TEXT_INPUT_LIMIT:,} characters, the "
            "most a form can hold, so it can't be changed here and is kept exactly as it is. "
            "Everything else can be edited below.",
            block_id="description_kept",
        )
    return _input(
        "description",
        "What do you need help with?",
        _text_input(description, multiline=True, max_length=TEXT_INPUT_LIMIT),
        hint="What's happening, what you'd like to change, and by when.",
    )


def _select(options: Sequence[tuple[str, str]], initial: str | None, placeholder: str) -> Block:
    element: Block = {
        "type": "static_select",
        "action_id": "value",
        "placeholder": plain(placeholder),
        "options": [option(label, value) for value, label in options],
    }
    for value, label in options:
        if value == initial:
            element["initial_option"] = option(label, value)
    return element


def profile_blocks(
    school: str = "", phase: str | None = None, region: str | None = None
) -> list[Block]:
    """The school, phase and region inputs asked of someone new to the directory."""
    return [
        _input("school", "Your school", _text_input(school, max_length=150)),
        _input("phase", "Phase", _select(list(PHASE_LABELS.items()), phase, "Choose a phase")),
        _input(
            "region",
            "Region",
            _select([(r, r) for r in REGIONS], region, "Choose a region"),
        ),
    ]


def request_modal(
    draft: Draft,
    vocabulary: Vocabulary,
    *,
    need_profile: bool,
    metadata: dict[str, Any],
    editing: bool = False,
) -> dict[str, Any]:
    """The request modal (new or edit), pre-filled from `draft`."""
    blocks: list[Block] = [
        context(PRIVACY_NOTE),
        _input("title", "Short title", _text_input(draft.title, max_length=150)),
        _description_input(draft.description),
        _input("areas", "Areas of need", _areas_element(vocabulary, draft.tags)),
        _input(
            "urgency",
            "How soon?",
            {
                "type": "radio_buttons",
                "action_id": "value",
                "options": [option(label, value) for value, label in URGENCY_LABELS.items()],
                "initial_option": option(
                    URGENCY_LABELS.get(draft.urgency, URGENCY_LABELS["routine"]),
                    draft.urgency if draft.urgency in URGENCY_LABELS else "routine",
                ),
            },
        ),
        _input(
            "start",
            "Preferred start",
            _datepicker(draft.preferred_start),
            optional=True,
        ),
    ]
    if need_profile:
        blocks += profile_blocks(draft.school_name, draft.phase, draft.region)
    else:
        blocks.append(
            _input(
                "school",
                "School",
                _text_input(draft.school_name, max_length=150),
                hint="From the directory; change it if this request is for another school.",
            )
        )
    return {
        "type": "modal",
        "callback_id": "request_edit" if editing else "request_new",
        "title": plain("Edit request" if editing else "Ask for support", 24),
        "submit": plain("Save changes" if editing else "Send request"),
        "close": plain("Cancel"),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def _datepicker(initial: date | None) -> Block:
    element: Block = {"type": "datepicker", "action_id": "value", "placeholder": plain("Any time")}
    if initial:
        element["initial_date"] = initial.isoformat()
    return element


def profile_modal(metadata: dict[str, Any], school: str = "") -> dict[str, Any]:
    """The one-off modal asking a newcomer for their school, phase and region."""
    return {
        "type": "modal",
        "callback_id": "profile",
        "title": plain("Your school", 24),
        "submit": plain("Save"),
        "close": plain("Not now"),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            section(
                "You're new to the support directory. Tell me about your school once, and I'll "
                "use it for this request and any later ones."
            ),
            *profile_blocks(school),
        ],
    }
