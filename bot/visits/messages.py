"""The messages open classrooms owe: what the visitor and the hosts are told, as neutral
`Card`s with their buttons, and the coordinators' notice of a visit with no host
(`NoHostNotice`), all rendered by the platform's adapter at delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.core.context import ServiceContext
from bot.core.messages import Action, Card, Confirm, message_view
from bot.core.text import escape
from bot.outbox.notify import notify_coordinators
from bot.outbox.owing import owe_post, owe_update
from bot.visits.views import USEFULNESS_LABELS, VisitSummary, day_text
from storage.models import VisitUsefulness

CANCEL = "visit_cancel"
ACCEPT, DECLINE, PICK_DATE, USEFUL = (
    "visit_accept",
    "visit_decline",
    "visit_pick_date",
    "visit_useful",
)


def offer_ref(offer_id: int) -> str:
    """The `ref` of the DM offering a visit to one host."""
    return f"visit_offer:{offer_id}"


def feedback_ref(visit_id: int, person_id: int) -> str:
    """The `ref` of the "was it useful?" DM to one person."""
    return f"visit:{visit_id}:feedback:{person_id}"


def _ask(summary: VisitSummary) -> str:
    quoted = "\n".join(f"> {line}" for line in escape(summary.description).splitlines() if line)
    return (
        f"{summary.visitor_text()} would like to visit and see *{summary.areas_text()}*:\n{quoted}"
    )


def offer_card(summary: VisitSummary, offer_id: int, reasons: str) -> Card:
    """The DM asking one host whether their school will host the visit."""
    return Card(
        paragraphs=(
            ":school: *Could your school host a visit?*",
            _ask(summary),
            f"_Why you: {escape(reasons)}._ If you accept, you pick the day.",
        ),
        actions=(
            Action(ACCEPT, "Host this visit", str(offer_id), style="primary"),
            Action(DECLINE, "Not this time", str(offer_id)),
        ),
    )


def hosting_card(summary: VisitSummary) -> Card:
    """The accepted host's DM: what they agreed to, and the date (or the button to pick one)."""
    if summary.visit_date is None:
        when, label = "Please pick a school day for it.", "Pick a date"
    else:
        when, label = f"Booked for *{day_text(summary.visit_date)}*.", "Change the date"
    return Card(
        paragraphs=(
            f":white_check_mark: You're hosting this visit — thank you!\n{_ask(summary)}",
            when,
        ),
        actions=(Action(PICK_DATE, label, str(summary.id), style="primary"),),
    )


def owe_offer_closed(session: Session, *, now: datetime, offer_id: int, text: str) -> None:
    """Replace an offer DM's buttons with a line saying how it ended."""
    owe_update(session, now=now, update_of=offer_ref(offer_id), text=text, view=Card((text,)))


def owe_to(
    session: Session,
    *,
    now: datetime,
    user: str,
    text: str,
    dedupe_key: str | None = None,
    cancellable: int | None = None,
) -> None:
    """A DM from the bot; to a visitor about visit `cancellable`, with *Cancel the visit*."""
    view = Card((text,)) if cancellable is None else visitor_card(text, cancellable)
    owe_post(session, now=now, channel=user, text=text, view=view, dedupe_key=dedupe_key)


def feedback_card(summary: VisitSummary, *, answered: VisitUsefulness | None = None) -> Card:
    """The "was it useful?" DM after a visit, or its thank-you once answered (the buttons
    stay, so a change of mind is one click)."""
    where = f" to {escape(summary.host_school)}" if summary.host_school else ""
    day = day_text(summary.visit_date) if summary.visit_date else "recently"
    lead = (
        f":speech_balloon: *Was the visit useful?* The visit{where} on {day} "
        f"to see {summary.areas_text()}."
    )
    if answered is None:
        after = "Your answer is counted (no names) in the coordinators' weekly digest."
    else:
        after = f"Thank you — you said *{USEFULNESS_LABELS[answered]}*."
    return Card((lead, after), tuple(_useful_buttons(summary.id)))


def _useful_buttons(visit_id: int) -> list[Action]:
    return [
        # Slack wants each button in a block to have its own action id.
        Action(f"{USEFUL}_{value}", label, f"{visit_id}:{value}")
        for value, label in USEFULNESS_LABELS.items()
    ]


def visitor_card(text: str, visit_id: int) -> Card:
    """A DM to the visitor about their visit, with *Cancel the visit* (confirmed first)."""
    confirm = Confirm(
        title="Cancel the visit?",
        text="The schools asked, and any host, will be told it is off.",
        yes="Cancel the visit",
    )
    return Card((text,), (Action(CANCEL, "Cancel the visit", str(visit_id), "danger", confirm),))


@message_view("visits.no_host")
@dataclass(frozen=True)
class NoHostNotice:
    """Coordinators are told visit `visit_id` has no host (`what`, in the bot's markup); each
    platform's renderer adds how to assign one by hand, in its own command."""

    visit_id: int
    what: str


def tell_coordinators_no_host(
    session: Session, ctx: ServiceContext, *, visit_id: int, what: str
) -> None:
    """Owe the coordinators the notice that visit `visit_id` found no host."""
    notice = NoHostNotice(visit_id, what)
    notify_coordinators(session, ctx.settings, now=ctx.now, text=what, view=notice)
