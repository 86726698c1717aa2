"""The forms of Slack's modals, as Adaptive Cards for Teams (which has no modals here).

A form that needs nothing from the database unfolds inside its card (`Action.ShowCard`: the
first visit's date, the agreement, a visit log, a hosted visit's date); its *Save* button
carries the same action id as the Slack button that opens the modal, so one click runs the
core step with the card's input values. A form built from the database (the closing record's
objectives, a school's staff for the team) is the answer to its button: the card in the chat
becomes the form, and saving it turns it into a short record of what was saved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.text import escape
from bot.deployments.finding import ActiveSupport, SupportSearch, checkins_words
from bot.deployments.views import (
    BOOK_VISIT,
    CHANGE_CHECKINS,
    CHECKIN_CHANGES,
    DRAFT_AGREEMENT,
    END_SUPPORT,
    FIND_FOR_CHECKINS,
    FIND_TO_END,
    IMPACT,
    LOG_VISIT,
    PAUSE,
    RATING_WORDS,
    RESUME,
    SKIP,
    SNOOZE,
    SUMMARY,
    AgreementForm,
    ImpactForm,
)
from bot.teamwork.flows import TEAM_ACTION
from bot.teamwork.views import ROLE_WORDS, PersonChoice, TeamForm
from bot.visits.messages import PICK_DATE
from handlers.teams.cards import (
    Element,
    card,
    execute,
    heading,
    note,
    show_card,
    text_block,
    text_input,
)
from storage.models import END_REASON_LIMIT

AGREEMENT_OPEN = "deployment_agreement_open"  # *Revise the agreement*: the form, filled in
IMPACT_SAVE = "deployment_impact_save"  # the closing record's *Save* (value: deployment id)
TEAM_SAVE = "team_add"  # the team form's *Add* (value: deployment id)
OBJECTIVES_PLACEHOLDER = "One objective per line (up to six), a line or two each"


def labelled(element: Element, label: str) -> Element:
    """`element` with a label above it (Adaptive Cards 1.3+)."""
    return {**element, "label": label}


def date_input(input_id: str, label: str) -> Element:
    """A date picker (`Input.Date`); Teams sends `YYYY-MM-DD`."""
    return {"type": "Input.Date", "id": input_id, "label": label}


def number_input(input_id: str, label: str, placeholder: str) -> Element:
    """A number box (`Input.Number`) for days, halves allowed."""
    return {
        "type": "Input.Number",
        "id": input_id,
        "label": label,
        "placeholder": placeholder,
        "min": 0,
    }


def choices(
    input_id: str, label: str, options: list[tuple[str, str]], *, many: bool = False
) -> Element:
    """A drop-down of (value, title) options; several may be chosen with `many`."""
    element: Element = {
        "type": "Input.ChoiceSet",
        "id": input_id,
        "label": label,
        "style": "compact",
        "isMultiSelect": many,
        "choices": [{"title": title, "value": value} for value, title in options],
    }
    return element


# --- forms unfolded inside a card ------------------------------------------------------------
def book_visit_form(label: str, value: str) -> Element:
    """*Book first visit*: a school day from today on (the core refuses any other)."""
    return show_card(
        label,
        [date_input("visit_on", "Day of the first (diagnostic) visit")],
        [execute("Book the visit", BOOK_VISIT, value, style="primary")],
    )


def _agreement_inputs(form: AgreementForm | None = None) -> list[Element]:
    objectives = "\n".join(form.objectives) if form else ""
    days = {"value": form.days_committed} if form and form.days_committed is not None else {}
    review = {"value": form.review_on.isoformat()} if form and form.review_on else {}
    return [
        labelled(
            text_input(
                "objectives",
                OBJECTIVES_PLACEHOLDER,
                multiline=True,
                max_length=3000,
                value=objectives,
            ),
            "Objectives",
        ),
        labelled(
            text_input(
                "impact",
                "What should be different at the end?",
                multiline=True,
                value=form.expected_impact if form else "",
            ),
            "Expected impact",
        ),
        {**number_input("days", "Days committed (optional)", "For example 6 or 4.5"), **days},
        {**date_input("review_on", "Mid-point review date (optional: else halfway)"), **review},
        note("Saving again replaces your draft, and the head is asked to confirm it again."),
    ]


def agreement_form(label: str, value: str) -> Element:
    """*Draft the agreement*: objectives, expected impact, days committed, review date.
    Saving again replaces the draft and asks the head to confirm it again."""
    save = execute("Save and send to the head", DRAFT_AGREEMENT, value, style="primary")
    return show_card(label, _agreement_inputs(), [save])


def agreement_card(form: AgreementForm) -> Element:
    """*Revise the agreement*: the same form as a card, holding the current draft."""
    school = f" at *{escape(form.school)}*" if form.school else ""
    value = str(form.deployment_id)
    save = execute("Save and send to the head", DRAFT_AGREEMENT, value, style="primary")
    body = [
        heading("The agreement"),
        text_block(f"Your support{school}."),
        *_agreement_inputs(form),
    ]
    return card(body, [save])


def log_visit_form(label: str, value: str) -> Element:
    """*Log days and a visit note*: days given (the supporter), the day, a short note."""
    return show_card(
        label,
        [
            number_input("days", "Days given since the last check-in", "For example 1 or 0.5"),
            date_input("visited_on", "Day of the visit (optional: today)"),
            labelled(
                text_input("visit_note", "What happened, briefly", multiline=True), "Visit note"
            ),
        ],
        [execute("Save", LOG_VISIT, value, style="primary")],
    )


def host_date_form(label: str, value: str) -> Element:
    """*Pick a date* for a hosted visit: a school day with room this half term."""
    return show_card(
        label,
        [date_input("date", "Day of the visit")],
        [execute("Book this day", PICK_DATE, value, style="primary")],
    )


def end_support_form(label: str, value: str) -> Element:
    """A coordinator's *End this support*: why, in a few words (the core requires it)."""
    return show_card(
        label,
        [
            text_block(
                "Ending stops the check-ins and closes the request. The head, the supporter and "
                "their team are told; the head, the lead supporter and the coordinators see why."
            ),
            labelled(
                text_input("reason", "Why is it ending?", max_length=END_REASON_LIMIT), "Reason"
            ),
        ],
        [execute("End the support", END_SUPPORT, value, style="danger")],
    )


def find_to_end_form(label: str, value: str) -> Element:
    """A coordinator's *End a support…*: a few words to find any support under way."""
    return show_card(
        label,
        [labelled(text_input("query", "School, URN or supporter", max_length=200), "Find")],
        [execute("Search", FIND_TO_END, value, style="primary")],
    )


def find_for_checkins_form(label: str, value: str) -> Element:
    """A coordinator's *Check-ins for a support…*: a few words to find any support under way."""
    return show_card(
        label,
        [labelled(text_input("query", "School, URN or supporter", max_length=200), "Find")],
        [execute("Search", FIND_FOR_CHECKINS, value, style="primary")],
    )


def found_supports_card(search: SupportSearch, query: str) -> Element:
    """What *End a support…* found: each support under way that matched, with *End this
    support*; when more matched than are shown, how many (narrow the search)."""
    return _found_card(
        search,
        query,
        lambda match: [end_support_form("End this support", str(match.deployment_id))],
        find_to_end_form("Search again", "home"),
    )


def found_for_checkins_card(
    search: SupportSearch, query: str, tz: ZoneInfo, now: datetime
) -> Element:
    """What *Check-ins for a support…* found: each support under way that matched, saying how
    its check-ins stand, with the changes that make sense (*Resume check-ins* when paused,
    else *Pause check-ins* and *Snooze the next one a week*)."""
    return _found_card(
        search,
        query,
        lambda match: [
            execute(CHECKIN_CHANGES[change], CHANGE_CHECKINS, f"{match.deployment_id}:{change}")
            for change in _checkin_changes_for(match)
        ],
        find_for_checkins_form("Search again", "home"),
        about=lambda match: f"Check-ins: {checkins_words(match, tz, now)}",
    )


def _checkin_changes_for(match: ActiveSupport) -> tuple[str, ...]:
    """The changes offered for a support's check-ins as they stand (a stale card's press is
    still answered by the core: "already paused", "aren't paused")."""
    return (RESUME,) if match.checkins_paused else (PAUSE, SNOOZE)


def _found_card(
    search: SupportSearch,
    query: str,
    buttons: Callable[[ActiveSupport], list[Element]],
    again: Element,
    about: Callable[[ActiveSupport], str] | None = None,
) -> Element:
    """The supports under way a search found, each with its `buttons` (and a line `about` it);
    when more matched than are shown, how many (narrow the search); then `again` to search
    again."""
    typed = escape(" ".join(query.split())[:100])
    words = f" matching “{typed}”" if typed else ", most recent first"
    body: list[Element] = [heading(f"Supports under way{words}")]
    if not search.matches:
        body.append(
            text_block(
                "None found. Try part of the school's name, its URN or the supporter's name."
            )
        )
    for match in search.matches:
        urn = f" (URN {escape(match.urn)})" if match.urn else ""
        who = f" — {escape(match.supporter)}" if match.supporter else ""
        school = escape(match.school or "") or "School not known"
        body.append(
            text_block(f"*{school}*{urn}{who} · request #{match.request_id}", separator=True)
        )
        if about:
            body.append(text_block(about(match), spacing="None"))
        body.append({"type": "ActionSet", "actions": buttons(match)})
    if search.left_out:
        body.append(note(f"…and {search.left_out} more: narrow your search."))
    return card(body, [again])


INLINE_FORMS = {
    BOOK_VISIT: book_visit_form,
    END_SUPPORT: end_support_form,
    FIND_TO_END: find_to_end_form,
    FIND_FOR_CHECKINS: find_for_checkins_form,
    DRAFT_AGREEMENT: agreement_form,
    LOG_VISIT: log_visit_form,
    PICK_DATE: host_date_form,
}


# --- forms that are the answer to their button -----------------------------------------------
def impact_card(form: ImpactForm) -> Element:
    """The closing record: the head rates each objective with a comment; the supporter
    comments on each; both add an overall comment. Earlier answers are filled in."""
    school = f" at *{escape(form.school)}*" if form.school else ""
    head = form.role == "head"
    ask = (
        "Please rate progress against each objective, with a comment."
        if head
        else "Please add your comments on each objective."
    )
    body: list[Element] = [heading("Closing record"), text_block(f"The support{school}. {ask}")]
    for line in form.objectives:
        body.append(text_block(f"*{line.position}. {escape(line.text)}*"))
        if head:
            rating = choices(
                f"rating:{line.id}", "Progress", [(k, v) for k, v in RATING_WORDS.items()]
            )
            if line.rating:
                rating["value"] = line.rating
            body.append(rating)
        earlier = line.head_comment if head else line.supporter_comment
        box = text_input(f"comment:{line.id}", "A comment (optional)", value=earlier or "")
        body.append(box)
    if not form.objectives:
        body.append(note("There was no agreement with objectives, so just the overall comment."))
    body.append(
        labelled(
            text_input("overall", "The support as a whole", multiline=True, max_length=3000),
            "Overall comment",
        )
    )
    value = str(form.deployment_id)
    return card(
        body,
        [
            execute("Save", IMPACT_SAVE, value, style="primary"),
            execute("Skip", f"{SKIP}_impact", f"{value}:impact"),
        ],
    )


def _option(choice: PersonChoice) -> tuple[str, str]:
    return choice.slack_user_id, choice.name + (f" — {choice.note}" if choice.note else "")


def team_card(form: TeamForm) -> Element:
    """The lead supporter's team form: colleagues of their own school with room, and an
    aspiring leader to shadow."""
    school = f"*{escape(form.school)}*" if form.school else "this school"
    body: list[Element] = [
        heading("Your team"),
        text_block(
            f"Who else from your school will help support {school}? Each colleague gets the "
            "check-ins and counts against their own capacity."
        ),
    ]
    if form.members:
        on_team = ", ".join(
            f"{escape(m.name)} ({ROLE_WORDS.get(m.role, m.role)})" for m in form.members
        )
        body.append(note(f"On the team now: {on_team}"))
    if form.colleagues:
        options = [_option(c) for c in form.colleagues]
        body.append(choices("colleagues", "Colleagues", options, many=True))
    else:
        where = escape(form.lead_school) if form.lead_school else "your school"
        body.append(note(f"No colleague from {where} in the directory has room right now."))
    if form.colleagues_full:
        body.append(note(f"{form.colleagues_full} more at capacity aren't listed."))
    shadows = [*form.shadows_own_school, *form.shadows_elsewhere]
    if shadows:
        label = "An aspiring leader to shadow (optional)"
        body.append(choices("shadow", label, [_option(c) for c in shadows]))
    if not form.colleagues and not shadows:
        return card(body)
    return card(body, [execute("Add", TEAM_SAVE, str(form.deployment_id), style="primary")])


def saved_card(text: str, *buttons: Element) -> Element:
    """What a form becomes once saved: what was done, and where to go from here."""
    return card([text_block(text)], list(buttons))


def again_buttons(deployment_id: int, *, impact: bool = False, team: bool = False) -> list[Element]:
    """The buttons a saved form keeps: change it again, and the summary."""
    value = str(deployment_id)
    buttons = []
    if impact:
        buttons.append(execute("Change my closing record", IMPACT, value))
        buttons.append(execute("Summary", SUMMARY, value))
    if team:
        buttons.append(execute("Add colleagues or a shadow", TEAM_ACTION, value))
    return buttons
