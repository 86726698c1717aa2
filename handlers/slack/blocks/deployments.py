"""Block Kit for the deployment lifecycle: the first-visit, agreement, visit-log and closing
forms, and the "Your deployments" part of App Home."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.deployments.finding import ActiveSupport, SupportSearch, checkins_words
from bot.deployments.views import (
    BOOK_VISIT,
    CHECKIN_CHANGES,
    DRAFT_AGREEMENT,
    END_SUPPORT,
    IMPACT,
    LOG_VISIT,
    RATING_WORDS,
    SUMMARY,
    AgreementForm,
    DeploymentProgress,
    ImpactForm,
    day_words,
    days_words,
)
from handlers.slack.blocks import (
    OPTION_TEXT_LIMIT,
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    header,
    option,
    plain,
    section,
    truncate,
)
from handlers.slack.blocks.audit import audit_button
from handlers.slack.blocks.listing import Listing

PRIVACY_HINT = "Please don't name pupils or staff."
END_FORM = "deployment_end_form"
END_ANY_FORM = "deployment_end_any_form"
PICK_TO_END = "deployment_end_pick"  # its menu of active supports (options served by the bot)
CHECKINS_FORM = "deployment_checkins_form"  # *Check-ins for a support…*
PICK_FOR_CHECKINS = "deployment_checkins_pick"  # its menu, as PICK_TO_END's
VISIT_FORM = "deployment_visit_form"
AGREEMENT_FORM = "deployment_agreement_form"
LOG_FORM = "deployment_log_form"
IMPACT_FORM = "deployment_impact_form"
SCHOOL_AT_LEAST = 20  # characters of the school's name an option keeps, however it is cut


def _modal(
    callback_id: str, title: str, submit: str, metadata: dict[str, Any], blocks: list[Block]
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Go back", 24),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def _input(
    block_id: str, label: str, element: Block, *, optional: bool = False, hint: str = ""
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": {"action_id": "value", **element},
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def _text(max_length: int, *, initial: str = "", multiline: bool = True) -> Block:
    element: Block = {"type": "plain_text_input", "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    return element


def _date(initial: date | None = None) -> Block:
    element: Block = {"type": "datepicker", "placeholder": plain("Choose a date")}
    if initial:
        element["initial_date"] = initial.isoformat()
    return element


def _days(initial: float | None = None) -> Block:
    element: Block = {"type": "number_input", "is_decimal_allowed": True, "min_value": "0"}
    if initial is not None:
        element["initial_value"] = f"{initial:g}"
    return element


def visit_modal(deployment_id: int) -> dict[str, Any]:
    """Book the first (diagnostic) visit."""
    return _modal(
        VISIT_FORM,
        "First visit",
        "Book it",
        {"deployment_id": deployment_id},
        [
            section(
                "Choose a school day for the first (diagnostic) visit. I'll tell the other person."
            ),
            _input("visit_on", "Date of the first visit", _date()),
        ],
    )


def end_modal(deployment_id: int, reason_limit: int) -> dict[str, Any]:
    """A coordinator's *End this support*: why, in a few words (required)."""
    return _modal(
        END_FORM,
        "End this support",
        "End the support",
        {"deployment_id": deployment_id},
        [
            section(
                "Ending stops the check-ins and closes the request. The head, the supporter and "
                "their team are told; nobody else is offered it. To find the school someone "
                "else instead, the supporter can release it."
            ),
            _input(
                "reason",
                "Why is it ending?",
                _text(reason_limit),
                hint="The head, the lead supporter and the coordinators see this. " + PRIVACY_HINT,
            ),
        ],
    )


def _support_menu(action_id: str) -> Block:
    """The menu of active supports a coordinator finds by typing (options served by the bot)."""
    return {
        "type": "external_select",
        "action_id": action_id,
        "placeholder": plain("Type a school, URN or supporter"),
        "min_query_length": 2,
    }


def end_any_modal(reason_limit: int) -> dict[str, Any]:
    """A coordinator's *End a support…*: any active support, found by typing, and why."""
    menu = _support_menu(PICK_TO_END)
    return _modal(
        END_ANY_FORM,
        "End a support",
        "End the support",
        {},
        [
            section(
                "Find any support under way by the school's name or URN (or the supporter's "
                "name). Ending stops the check-ins and closes the request; the head, the "
                "supporter and their team are told."
            ),
            _input("support", "Which support?", menu),
            _input(
                "reason",
                "Why is it ending?",
                _text(reason_limit),
                hint="The head, the lead supporter and the coordinators see this. " + PRIVACY_HINT,
            ),
        ],
    )


def checkins_modal() -> dict[str, Any]:
    """A coordinator's *Check-ins for a support…*: any active support, found by typing, and
    whether to pause, resume or snooze its check-ins."""
    choice: Block = {
        "type": "radio_buttons",
        "options": [option(label, value) for value, label in CHECKIN_CHANGES.items()],
    }
    return _modal(
        CHECKINS_FORM,
        "Check-ins",
        "Save",
        {},
        [
            section(
                "Find any support under way by the school's name or URN (or the supporter's "
                "name), then pause its check-ins (a school shut, a head off sick), resume them, "
                "or put the next one off for a week (an inspection week). The head and the lead "
                "supporter are told."
            ),
            _input("support", "Which support?", _support_menu(PICK_FOR_CHECKINS)),
            _input("change", "What should happen?", choice),
        ],
    )


def support_options(search: SupportSearch) -> dict[str, Any]:
    """The menu of *End a support…* as the options Slack asks for: each support in a line, and
    when more matched than are shown, how many (type more to narrow it)."""
    return _options(search, _support_label)


def checkins_support_options(search: SupportSearch, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The menu of *Check-ins for a support…*: as *End a support…*'s, each line also saying
    how its check-ins stand ("· paused", "· next Tue 8 Dec"), before the coordinator chooses."""
    return _options(search, lambda match: _support_label(match, checkins_words(match, tz, now)))


def refused_options(message: str) -> dict[str, Any]:
    """The menu for someone who may not use it: one line saying why."""
    return {"options": [option(message, "none")]}


def _options(search: SupportSearch, label: Callable[[ActiveSupport], str]) -> dict[str, Any]:
    """The supports found as options, each with its `label`; when more matched than are
    shown, in a group saying how many."""
    options = [option(label(match), str(match.deployment_id)) for match in search.matches]
    if not search.left_out:
        return {"options": options}
    more = f"{len(options)} of {search.total}: type more to narrow it"
    return {"option_groups": [{"label": plain(more, 75), "options": options}]}


def _support_label(match: ActiveSupport, state: str = "") -> str:
    """ "Mere Green Primary School (103413) — Sam Specialist · #12" (then " · `state`"), within
    an option's 75 characters: the school's name cut short first, then the supporter's."""
    urn = f" ({match.urn})" if match.urn else ""
    end = f" · #{match.request_id}" + (f" · {state}" if state else "")
    room = OPTION_TEXT_LIMIT - SCHOOL_AT_LEAST - len(urn) - len(end) - len(" — ")
    who = f" — {truncate(match.supporter, min(room, 25))}" if match.supporter and room > 3 else ""
    rest = f"{urn}{who}{end}"
    school = match.school or "School not known"
    return truncate(school, max(OPTION_TEXT_LIMIT - len(rest), SCHOOL_AT_LEAST)) + rest


def agreement_modal(form: AgreementForm) -> dict[str, Any]:
    """The agreement, filled in by the supporter; the head confirms it."""
    where = f" with {escape(form.school)}" if form.school else ""
    return _modal(
        AGREEMENT_FORM,
        "Agreement",
        "Send to the head",
        {"deployment_id": form.deployment_id},
        [
            section(
                f"The agreement for your support{where}. The head will be asked to confirm it."
            ),
            _input(
                "objectives",
                "Objectives, one per line (up to 6)",
                _text(3000, initial="\n".join(form.objectives)),
                hint=PRIVACY_HINT,
            ),
            _input(
                "impact",
                "Expected impact",
                _text(2000, initial=form.expected_impact),
                optional=True,
            ),
            _input("days", "Days committed", _days(form.days_committed), optional=True),
            _input(
                "review_on",
                "Review date",
                _date(form.review_on),
                optional=True,
                hint="Leave empty to review halfway through the days committed.",
            ),
        ],
    )


def log_modal(deployment_id: int, checkin_id: int | None, *, supporter: bool) -> dict[str, Any]:
    """Days given (the supporter) and a short visit note."""
    blocks = [section("Record a visit: the days given and a short note (both optional).")]
    if supporter:
        blocks.append(_input("days", "Days given", _days(), optional=True))
    blocks += [
        _input("visited_on", "Date of the visit", _date(), optional=True, hint="Empty: today."),
        _input("note", "Visit note", _text(1000), optional=True, hint=PRIVACY_HINT),
    ]
    metadata = {"deployment_id": deployment_id, "checkin_id": checkin_id}
    return _modal(LOG_FORM, "Log a visit", "Save", metadata, blocks)


def impact_modal(form: ImpactForm) -> dict[str, Any]:
    """At closure: the head rates each objective with a comment; the supporter comments."""
    head = form.role == "head"
    blocks: list[Block] = [
        section(
            "Rate progress against each objective, with a comment if you like."
            if head
            else "Add your comments on each objective and on the support as a whole."
        )
    ]
    ratings = [option(words, value) for value, words in RATING_WORDS.items()]
    for objective in form.objectives:
        label = truncate(f"{objective.position}. {objective.text}", 1900)
        if head:
            select: Block = {
                "type": "static_select",
                "options": ratings,
                "placeholder": plain("Progress"),
            }
            if objective.rating:
                select["initial_option"] = option(RATING_WORDS[objective.rating], objective.rating)
            blocks.append(_input(f"rating:{objective.id}", label, select, optional=True))
        mine = objective.head_comment if head else objective.supporter_comment
        blocks.append(
            _input(
                f"comment:{objective.id}",
                "Comment" if head else label,
                _text(1000, initial=mine or ""),
                optional=True,
            )
        )
    blocks.append(
        _input(
            "overall",
            "Overall comment on the support",
            _text(2000),
            optional=True,
            hint=PRIVACY_HINT,
        )
    )
    return _modal(
        IMPACT_FORM, "Closing record", "Save", {"deployment_id": form.deployment_id}, blocks
    )


# --- App Home --------------------------------------------------------------------------------
def _progress_lines(line: DeploymentProgress) -> str:
    school = escape(truncate(line.school or "", 100)) or "A school"
    other = line.head if line.role == "supporter" else line.supporter
    who = f" with {other}" if other else ""
    visit = (
        day_words(line.first_visit_on)
        if line.first_visit_on
        else ("skipped" if line.visit_skipped else "not booked")
    )
    committed = f" of {days_words(line.days_committed)}" if line.days_committed else ""
    review = f"review {day_words(line.review_on)}" if line.review_on else "review halfway"
    ended = " · *closed*" if line.status != "active" else ""
    return (
        f"*{school}*{who} · request #{line.request_id}{ended}\n"
        f"First visit: {visit} · Agreement: {line.agreement}"
        f" ({line.objectives} objective{'s' if line.objectives != 1 else ''}) · {review}\n"
        f"Days given: {days_words(line.days_given)}{committed}"
    )


def _progress_buttons(line: DeploymentProgress, *, audit: bool) -> list[Block]:
    value = str(line.deployment_id)
    buttons = []
    if line.status == "active" and line.role in ("head", "supporter"):
        if line.first_visit_on is None and not line.visit_skipped:
            buttons.append(button("Book first visit", BOOK_VISIT, value))
        if line.role == "supporter":
            label = (
                "Draft the agreement"
                if line.agreement in ("none", "skipped")
                else "Revise the agreement"
            )
            buttons.append(button(label, DRAFT_AGREEMENT, value))
        buttons.append(button("Log a visit", LOG_VISIT, value))
    if line.status != "active" and line.role in ("head", "supporter") and not line.impact_given:
        buttons.append(button("Closing record", IMPACT, value, style="primary"))
    buttons.append(button("Summary (HTML)", SUMMARY, value))
    if line.status == "active" and line.role == "coordinator":
        buttons.append(button("End this support", END_SUPPORT, value, style="danger"))
    if audit:
        buttons.append(audit_button(line.request_id))
    return buttons


def progress_listing(
    lines: tuple[DeploymentProgress, ...], total: int, *, audit: bool = False, others: bool = False
) -> Listing:
    """A part of App Home: "Your deployments" (the person's own), or with `others` a
    coordinator's "Recent deployments" of everyone else; `audit` adds each request's *Audit
    trail* button, for a coordinator."""
    items = [
        [
            section(_progress_lines(line)),
            actions(
                *_progress_buttons(line, audit=audit),
                block_id=f"home_deployment:{line.deployment_id}",
            ),
        ]
        for line in lines
    ]
    if others:
        return Listing(
            [divider(), header("Recent deployments")],
            items,
            hidden=total - len(lines),
            more="and {n} more — find any that is under way with *End a support…*",
        )
    return Listing(
        [divider(), header("Your deployments")],
        items,
        hidden=total - len(lines),
        more="and {n} more of yours not shown",
        tail=[context("Each step is optional. The summary comes to you as a printable file.")],
    )
