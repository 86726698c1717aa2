"""What the deployment lifecycle looks like to the people in it: platform-neutral shapes.

Messages are `bot.core.messages.Card`s built here; the forms' contents (`AgreementForm`,
`ImpactForm`) and each person's progress (`DeploymentProgress`, for App Home) are plain
dataclasses the adapter renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.core.messages import Action, Card, Confirm
from bot.core.text import escape

# Action ids: stable, they are stored in the buttons people click.
BOOK_VISIT = "deployment_book_visit"
DRAFT_AGREEMENT = "deployment_agreement"
CONFIRM_AGREEMENT = "deployment_confirm_agreement"
LOG_VISIT = "deployment_log_visit"
REVIEW = "deployment_review"  # + "_" + the decision
IMPACT = "deployment_impact"
SKIP = "deployment_skip"  # + "_" + the step: ids in one message must differ
SUMMARY = "deployment_summary"
END_SUPPORT = "deployment_end"  # a coordinator's *End this support* (value: deployment id)
FIND_TO_END = "deployment_end_find"  # a coordinator's *End a support…*: find any to end it
# A coordinator's *Check-ins for a support…*: find any, then pause, resume or snooze them.
FIND_FOR_CHECKINS = "deployment_checkins_find"
CHANGE_CHECKINS = "deployment_checkins_change"  # Teams: one found support's (value "12:pause")

# What *Check-ins for a support…* offers, in order, with its words.
PAUSE, RESUME, SNOOZE = "pause", "resume", "snooze"
CHECKIN_CHANGES = {
    PAUSE: "Pause check-ins",
    RESUME: "Resume check-ins",
    SNOOZE: "Snooze the next one a week",
}

STEPS = ("visit", "agreement", "review", "impact")
RATING_WORDS = {"not_started": "Not started", "some": "Some progress", "good": "Good progress"}
RATING_WORDS["met"] = "Met"
DECISION_WORDS = {"continue": "Continue", "adjust": "Adjust", "close": "Close"}


def day_words(d: date) -> str:
    """A date as people say it: "Tuesday 8 December 2026"."""
    return f"{d:%A} {d.day} {d:%B %Y}"


def days_words(days: float) -> str:
    """A number of days: "1 day", "2.5 days"."""
    shown = f"{days:g}"
    return f"{shown} day" if days == 1 else f"{shown} days"


@dataclass(frozen=True)
class AgreementForm:
    """What the agreement form holds: the current draft, if any."""

    deployment_id: int
    school: str | None
    objectives: tuple[str, ...] = ()
    expected_impact: str = ""
    days_committed: float | None = None
    review_on: date | None = None


@dataclass(frozen=True)
class ObjectiveLine:
    """One objective, with its closing rating and comments so far."""

    id: int
    position: int
    text: str
    rating: str | None = None
    head_comment: str | None = None
    supporter_comment: str | None = None


@dataclass(frozen=True)
class ImpactForm:
    """The closing form: the head rates each objective; the supporter comments on each."""

    deployment_id: int
    role: str  # head | supporter
    school: str | None
    objectives: tuple[ObjectiveLine, ...]


@dataclass(frozen=True)
class DeploymentProgress:
    """One deployment as App Home shows it to someone in it (or a coordinator)."""

    deployment_id: int
    request_id: int
    role: str  # head | supporter | coordinator
    status: str
    school: str | None
    head: str | None  # neutral mentions, `<@ID|Name>` (bot.reach.people.mention); None once
    supporter: str | None  # erased. Each renderer shows them its own way.
    first_visit_on: date | None
    visit_skipped: bool
    agreement: str  # none | drafted | confirmed | skipped
    objectives: int
    days_given: float
    days_committed: float | None
    review_on: date | None
    review_sent: bool
    reviewed: bool  # this person answered the review
    closing_asked: bool
    impact_given: bool  # this person gave their closing record


# --- messages --------------------------------------------------------------------------------
def _where(school: str | None) -> str:
    return f"*{escape(school)}*" if school else "the school"


def next_steps_card(deployment_id: int, school: str | None, *, role: str, other: str) -> Card:
    """After acceptance: the first visit and the agreement, each optional."""
    value = str(deployment_id)
    actions: tuple[Action, ...]
    if role == "supporter":
        paragraphs = (
            f"Next steps for your support at {_where(school)} (with <@{other}>):",
            "1. Book a first (diagnostic) visit.\n2. Draft the agreement — objectives, expected "
            "impact, days committed and a review date — for the head to confirm.\n"
            "Each step is optional: skip what you don't need. All of it is in my Home tab too.",
        )
        actions = (
            Action(BOOK_VISIT, "Book first visit", value, style="primary"),
            Action(DRAFT_AGREEMENT, "Draft the agreement", value),
            Action(f"{SKIP}_visit", "Skip the visit", f"{value}:visit"),
            Action(f"{SKIP}_agreement", "No agreement needed", f"{value}:agreement"),
        )
    else:
        paragraphs = (
            f"Next steps for your support from <@{other}>:",
            "You can book the first (diagnostic) visit now. Your supporter will draft an "
            "agreement — objectives, expected impact, days and a review date — for you to "
            "confirm.",
        )
        actions = (Action(BOOK_VISIT, "Book first visit", value, style="primary"),)
    return Card(paragraphs=paragraphs, actions=actions)


def visit_booked_card(school: str | None, on: date, by: str) -> Card:
    """Tells the other person that the first visit is booked."""
    return Card(
        paragraphs=(f"<@{by}> booked the first visit at {_where(school)} for *{day_words(on)}*.",)
    )


def agreement_lines(
    objectives: tuple[str, ...],
    expected_impact: str,
    days_committed: float | None,
    review_on: date | None,
) -> str:
    """The agreement as a few lines of text (user text escaped)."""
    lines = ["*Objectives*"]
    lines += [f"{n}. {escape(text)}" for n, text in enumerate(objectives, start=1)] or ["—"]
    if expected_impact:
        lines.append(f"*Expected impact*\n{escape(expected_impact)}")
    if days_committed is not None:
        lines.append(f"*Days committed:* {days_words(days_committed)}")
    lines.append(
        f"*Review:* {day_words(review_on)}" if review_on else "*Review:* halfway through the days"
    )
    return "\n".join(lines)


def agreement_to_confirm_card(deployment_id: int, supporter: str, text: str) -> Card:
    """The head is asked to confirm the supporter's agreement."""
    return Card(
        paragraphs=(
            f"<@{supporter}> has drafted the agreement for your support. Please check it:",
            text,
            "If something should change, tell them: they can revise it and I'll ask you again.",
        ),
        actions=(
            Action(CONFIRM_AGREEMENT, "Confirm agreement", str(deployment_id), style="primary"),
        ),
    )


def review_card(deployment_id: int, school: str | None, days: str) -> Card:
    """The mid-point review: continue, adjust or close?"""
    value = str(deployment_id)
    return Card(
        paragraphs=(
            f"Mid-point review of the support at {_where(school)}.",
            f"{days}\nShould the support *continue* as agreed, be *adjusted*, or *close*?",
        ),
        actions=(
            Action(f"{REVIEW}_continue", "Continue", f"{value}:continue", style="primary"),
            Action(f"{REVIEW}_adjust", "Adjust", f"{value}:adjust"),
            Action(
                f"{REVIEW}_close",
                "Close",
                f"{value}:close",
                confirm=Confirm(
                    title="Close the support?",
                    text=(
                        "The support ends now, as if a check-in said completed: check-ins stop, "
                        "the coordinators are told, and you'll both be asked for the closing "
                        "record."
                    ),
                    yes="Close the support",
                ),
            ),
            Action(f"{SKIP}_review", "Skip the review", f"{value}:review"),
        ),
    )


def revise_agreement_card(deployment_id: int, school: str | None, *, by_role: str) -> Card:
    """After a review answered *adjust*: the supporter is offered the agreement form again."""
    who = "You" if by_role == "supporter" else "The head"
    return Card(
        paragraphs=(
            f"{who} said the support at {_where(school)} should be *adjusted* at the mid-point "
            "review.",
            "Please revise the agreement — objectives, days and review date — and I'll ask the "
            "head to confirm it again.",
        ),
        actions=(
            Action(DRAFT_AGREEMENT, "Revise the agreement", str(deployment_id), style="primary"),
        ),
    )


def closing_card(deployment_id: int, school: str | None, *, role: str) -> Card:
    """At closure: the head rates progress against each objective; the supporter adds theirs."""
    value = str(deployment_id)
    if role == "head":
        ask = (
            "Please rate progress against each objective (not started, some, good, met) with "
            "a comment. It becomes the deployment's impact record for governors and funders."
        )
        label = "Rate progress"
    else:
        ask = "Please add your comments on each objective and on the support as a whole."
        label = "Add your comments"
    return Card(
        paragraphs=(f"The support at {_where(school)} has closed.", ask),
        actions=(
            Action(IMPACT, label, value, style="primary"),
            Action(f"{SKIP}_impact", "Skip", f"{value}:impact"),
        ),
    )


def notice_card(*paragraphs: str) -> Card:
    """A short notice (to coordinators or the other person)."""
    return Card(paragraphs=tuple(paragraphs))
