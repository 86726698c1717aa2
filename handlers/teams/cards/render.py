"""The Teams renderer of neutral messages: each view the core owes becomes an Adaptive Card.

`render_card(view)` dispatches on the view's type (a view with no renderer is a programming
error: `TypeError`, and a test checks every registered view has one); `teams_activity` turns an
outbox payload (`{"text": …, "view": …}`) into the message activity the Bot Connector takes.
The wording follows the Slack renderer's; the buttons carry the same action ids and values.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any
from zoneinfo import ZoneInfo

from bot.checkins.views import (
    AttentionAlert,
    CheckinClosed,
    CheckinMessage,
    CheckinView,
    CompletedNotice,
    cadence_label,
)
from bot.core.clock import date_words, when
from bot.core.messages import Action, Card, Confirm, decode_view
from bot.core.text import chunk_text, escape, visible_payload
from bot.deployments.views import IMPACT, SUMMARY
from bot.digest.views import (
    CoordinatorDigestMessage,
    DeploymentItem,
    PersonalDigestMessage,
    RequestItem,
    TeamPlace,
)
from bot.directory.views import ImportReportMessage, report_footnote, report_pieces
from bot.requests.intake import DESCRIPTION_LIMIT
from bot.requests.views import (
    SUPPORT_ENDED,
    ChannelPost,
    CoordinatorAlert,
    OfferClosed,
    RequestCard,
    RequestSummary,
    RequestUpdated,
)
from bot.routing.views import Accepted, AssignedNotice, OfferInvitation
from bot.teamwork.flows import TEAM_ACTION
from bot.teamwork.views import ShadowInvitation
from bot.visits.messages import NoHostNotice
from bot.visits.views import visit_line_text
from handlers.teams.cards import (
    MAX_TEXT,
    PHASE_LABELS,
    URGENCY_LABELS,
    Element,
    action_set,
    as_attachment,
    card,
    choice_input,
    execute,
    facts,
    heading,
    note,
    show_card,
    teams_text,
    text_block,
    text_input,
)
from handlers.teams.cards.forms import INLINE_FORMS, choices, log_visit_form
from storage.models import REGIONS, CheckInStatus, DeploymentStatus, RequestStatus

AUDIT_TRAIL = "home_audit_trail"  # the same id as Slack's Home tab button (value: request id)
SHADOW_PICK = "team_shadow_pick"  # value: deployment id; the card's `shadow` input says who
SHADOW_DECLINE = "team_shadow_decline"
LIST_LIMIT = 10  # lines per digest list; the rest are counted
TEXT_PIECE = MAX_TEXT - 500  # a long paragraph's pieces, with room for Teams' longer markup
# An import report's pieces on one card: some 17,500 characters, within Teams' 28 KB.
MOST_REPORT_PIECES = 5
NOTE_PLACEHOLDER = (
    "For Needs attention: what needs attention. For Completed: what difference it made."
)


def teams_activity(payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox payload as a Bot Connector message activity (a card when it has a view)."""
    activity: dict[str, Any] = {"type": "message", "text": teams_text(payload.get("text") or "")}
    if "view" in payload:
        content = visible_payload(render_card(decode_view(payload["view"])))
        activity["attachments"] = [as_attachment(content)]
        activity.pop("text")  # the card says it; Teams uses `summary` for the notification
        activity["summary"] = teams_text(payload.get("text") or "")[:200]
    return activity


@singledispatch
def render_card(view: object) -> Element:
    """The Adaptive Card of a neutral message view."""
    raise TypeError(f"no Teams renderer for {type(view).__name__}")


@render_card.register
def _card(view: Card) -> Element:
    buttons = [_button(a) for a in view.actions]
    closing = [a for a in view.actions if a.id == IMPACT]
    if closing:  # Teams has no Home tab to fetch the summary from: the closing card has it
        buttons.append(execute("Summary", SUMMARY, closing[0].value))
    pieces = [piece for p in view.paragraphs for piece in chunk_text(p, TEXT_PIECE)]
    return card([text_block(piece) for piece in pieces], buttons)


def _button(action: Action) -> Element:
    """A button; one that opens a form in Slack unfolds the form here (`cards.forms`), and
    one Slack asks "are you sure?" about unfolds the question with the button that does it."""
    form = INLINE_FORMS.get(action.id)
    if form is not None:
        return form(action.label, action.value)
    button = execute(action.label, action.id, action.value, style=action.style)
    if action.confirm is None:
        return button
    sure = action.confirm
    yes = execute(sure.yes, action.id, action.value, style=action.style)
    return show_card(action.label, [text_block(f"*{sure.title}* {sure.text}")], [yes])


# --- requests --------------------------------------------------------------------------------
def _words(summary: RequestSummary, limit: int) -> str:
    """The request's title and words, the title left out where the words begin with it."""
    title = summary.title.rstrip("…").strip()
    words = summary.description[:limit] + ("…" if len(summary.description) > limit else "")
    if title and summary.description.startswith(title):
        return escape(words)
    return f"*{escape(summary.title)}*\n\n{escape(words)}"


def _needs(summary: RequestSummary) -> str:
    return ", ".join(escape(label) for _, label in summary.tags) or "not known yet"


def _school(summary: RequestSummary) -> str:
    extra = ", ".join(x for x in (PHASE_LABELS.get(summary.phase or ""), summary.region) if x)
    school = escape(summary.school) if summary.school else "not known yet"
    return school + (f" ({escape(extra)})" if extra else "")


def _next_step(summary: RequestSummary) -> str:
    status = summary.status
    if summary.support_ended:
        return f"{SUPPORT_ENDED} Everyone on it has been told."
    if status == RequestStatus.CANCELLED:
        return "This request has been cancelled. Anyone who was asked has been told."
    if status == RequestStatus.ACCEPTED:
        who = f"<@{summary.assigned_to}>" if summary.assigned_to else "A system leader"
        return f"*{who} is supporting you.* They'll be in touch to arrange a first meeting."
    if status == RequestStatus.OFFERED:
        return "*I've offered this to the best-matched system leaders.* You'll hear here soon."
    if status == RequestStatus.EXPIRED:
        return "*No system leader is free yet*, so the coordinators are finding someone."
    if status == RequestStatus.CLOSED:
        return "This deployment has been completed. Thank you."
    if summary.awaiting_profile:
        return "*Before I look for support*, please tell me about your school."
    if not summary.tags:
        return "*I couldn't tell which areas you need help with*: please choose them."
    return "*Is that right?* Press *Find support* and I'll offer it to the best-matched leaders."


LIVE = (RequestStatus.OPEN, RequestStatus.OFFERED, RequestStatus.EXPIRED)


def _request_buttons(summary: RequestSummary) -> list[Element]:
    if summary.status not in LIVE:
        return []
    value = str(summary.id)
    buttons = []
    if summary.status == RequestStatus.OPEN and summary.tags and not summary.awaiting_profile:
        buttons.append(execute("Find support", "request_confirm", value, style="primary"))
    if summary.tags and not summary.awaiting_profile:
        buttons.append(_edit_form(summary))
    buttons.append(execute("Cancel request", "request_cancel", value, style="danger"))
    return buttons


def _edit_form(summary: RequestSummary) -> Element:
    """*Edit*: the description in a text box, unfolded in place; *Save* runs the edit."""
    box = text_input(
        "description",
        "What does your school need help with?",
        multiline=True,
        value=summary.description,
        max_length=DESCRIPTION_LIMIT,
    )
    save = execute("Save", "request_edit", str(summary.id), style="primary")
    return show_card("Edit", [box], [save])


def _profile_form(summary: RequestSummary) -> list[Element]:
    """The school details asked of a head new to the directory, as inputs on the card."""
    if summary.status != RequestStatus.OPEN or not summary.awaiting_profile:
        return []
    return [
        text_input("school", "Your school's name", max_length=150),
        text_input("urn", "Its URN, if you know it (optional)", max_length=6),
        choice_input("phase", "Phase", list(PHASE_LABELS.items())),
        choice_input("region", "Region", [(r, r) for r in REGIONS]),
    ]


def _profile_button(summary: RequestSummary) -> list[Element]:
    if summary.status != RequestStatus.OPEN or not summary.awaiting_profile:
        return []
    return [execute("Save school details", "request_profile", str(summary.id), style="primary")]


@render_card.register
def _request_card(view: RequestCard) -> Element:
    summary = view.summary
    body = [
        text_block(f"Thanks <@{summary.requester}>: here's your request as I understood it."),
        facts(
            ("School", _school(summary)),
            ("Areas of need", _needs(summary)),
            ("Urgency", URGENCY_LABELS.get(summary.urgency, summary.urgency)),
            ("Request", f"#{summary.id}"),
        ),
        text_block(_next_step(summary)),
        *_profile_form(summary),
        note("Only you and coordinators can change this request."),
    ]
    return card(body, _profile_button(summary) + _request_buttons(summary))


@render_card.register
def _channel_post(view: ChannelPost) -> Element:
    summary = view.summary
    return card(
        [
            heading(f"Request #{summary.id}: {escape(summary.title)}"),
            facts(("Needs", _needs(summary)), ("School", _school(summary))),
            text_block(escape(summary.description[:1500])),
        ]
    )


@render_card.register
def _request_updated(view: RequestUpdated) -> Element:
    summary = view.summary
    return card(
        [
            text_block(f"<@{summary.requester}> has updated request #{summary.id}:"),
            text_block(f"*{escape(summary.title)}*\n\n{escape(summary.description[:1500])}"),
        ]
    )


@render_card.register
def _offer_closed(view: OfferClosed) -> Element:
    return card([text_block(escape(view.text))])


@render_card.register
def _coordinator_alert(view: CoordinatorAlert) -> Element:
    summary = view.summary
    return card(
        [
            heading(f"Request #{summary.id} needs a coordinator"),
            text_block(escape(view.reason)),
            facts(("Needs", _needs(summary)), ("School", _school(summary))),
        ],
        [execute("Audit trail", AUDIT_TRAIL, str(summary.id))],
    )


@render_card.register
def _shadow_invitation(view: ShadowInvitation) -> Element:
    """Who could shadow the deployment: a drop-down (their own school's first), then *Take
    them along* or *Not this time*."""
    school = f"*{escape(view.school)}*" if view.school else "this school"
    needs = ", ".join(escape(n) for n in view.needs)
    options = [
        (c.slack_user_id, f"{c.name} — {c.note}" if c.note else c.name)
        for c in (*view.own_school, *view.elsewhere)
    ]
    value = str(view.deployment_id)
    return card(
        [
            heading("Take an aspiring leader along?"),
            text_block(
                f"Your support for {school}{f' ({needs})' if needs else ''} is a chance to grow "
                "the next generation of system leaders. Would you like an aspiring NLE or SLE to "
                "shadow it? They'll get its check-ins too; they don't use your capacity."
            ),
            choices("shadow", "Choose a shadow", options),
        ],
        [
            execute("Take them along", SHADOW_PICK, value, style="primary"),
            execute("Not this time", SHADOW_DECLINE, value),
        ],
    )


# --- offers ----------------------------------------------------------------------------------
@render_card.register
def _offer_invitation(view: OfferInvitation) -> Element:
    summary = view.summary
    school = escape(summary.school) if view.show_school and summary.school else None
    start = date_words(summary.preferred_start) if summary.preferred_start else "Flexible"
    body = [
        heading("Can you help a school?"),
        facts(
            ("Needs", _needs(summary)),
            ("Urgency", URGENCY_LABELS.get(summary.urgency, summary.urgency)),
            ("Phase", PHASE_LABELS.get(summary.phase or "", "—")),
            ("Region", escape(summary.region) or "—"),
            ("School", school or "shared when you accept"),
            ("Preferred start", start),
            ("Request", f"#{summary.id}"),
        ),
        text_block(_words(summary, 900)),
        note(f"*Why you:* {escape(view.reasons)}"),
        note(f"Know a colleague who could help? Tell me *suggest {summary.id}* and their name."),
    ]
    if view.expires_at is not None:
        body.append(
            note(
                f"I'll offer it to someone else if I haven't heard by "
                f"{when(view.expires_at, ZoneInfo(view.tz))}."
            )
        )
    body.append(text_input("reason", "Declining? A reason helps the coordinators (optional)"))
    value = str(view.offer_id)
    actions = [
        execute("Accept", "offer_accept", value, style="primary"),
        execute("Decline", "offer_decline", value),
    ]
    return card(body, actions)


@render_card.register
def _accepted(view: Accepted) -> Element:
    summary = view.summary
    contact = (
        f"<@{view.head_slack_id}>" if view.head_slack_id else "The head"
    )  # named by the sender
    email = f" ({escape(view.head_email)})" if view.head_email else ""
    return card(
        [
            heading("Thank you: you're supporting this school"),
            facts(
                ("School", escape(summary.school) or "—"),
                ("Needs", _needs(summary)),
                ("Head", f"{contact}{email}"),
            ),
            text_block(_words(summary, 1500)),
            text_block(
                "*Next steps*\n\n1. Get in touch with the head within 7 days.\n"
                "2. Agree the focus, outcomes, and how often you'll visit.\n"
                "3. I'll check in with you both every couple of weeks."
            ),
        ],
        [
            execute("I can no longer do this", "deployment_release", str(view.deployment_id)),
            execute("Add colleagues or a shadow", TEAM_ACTION, str(view.deployment_id)),
        ],
    )


@render_card.register
def _assigned_notice(view: AssignedNotice) -> Element:
    summary = view.summary
    return card(
        [
            text_block(f"<@{view.supporter_slack_id}> is now supporting request #{summary.id}."),
            facts(("Needs", _needs(summary)), ("School", _school(summary))),
        ]
    )


# --- check-ins -------------------------------------------------------------------------------
def _about(view: CheckinView, viewer_id: int, tz: ZoneInfo) -> str:
    where = f" at *{escape(view.school)}*" if view.school else ""
    other = view.head_name if viewer_id == view.supporter_id else view.supporter_name
    return (
        f"Check-in {view.sequence} on the support{where} with {escape(other)}, "
        f"since {when(view.started_at, tz)}."
    )


def _answer_buttons(view: CheckinView, viewer_id: int) -> list[Element]:
    """The answers; a colleague or shadow can't mark the support completed or snooze it."""
    answerable = (
        view.deployment_status == DeploymentStatus.ACTIVE
        and view.status in (CheckInStatus.SENT, CheckInStatus.ANSWERED)
        and not view.superseded
        and view.answered_by(viewer_id) is None
    )
    if not answerable:
        return []
    value = str(view.checkin_id)
    buttons = [
        execute("On track", "checkin_on_track", value, style="primary"),
        execute("Needs attention", "checkin_needs_attention", value),
    ]
    on_team = view.member(viewer_id) is not None
    if not on_team:  # completing is for the head and the lead supporter
        buttons.append(execute("Completed", "checkin_completed", value))
    if view.status == CheckInStatus.SENT and not on_team:
        buttons.append(execute("Snooze a week", "checkin_snooze", value))
    return buttons


def _schedule_buttons(view: CheckinView) -> list[Element]:
    """How often, or pause (Slack's menu, unfolded: one button per choice, with Slack's
    values); a paused deployment shows *Resume check-ins* and the frequencies to resume at."""
    value = str(view.checkin_id)
    choices = [
        execute(
            cadence_label(days) + (" (usual)" if days == view.default_cadence_days else ""),
            "checkin_cadence",
            f"{value}:{days}",
        )
        for days in view.cadence_choices
        if view.paused or days != view.cadence_days
    ]
    if view.paused:
        resume = execute("Resume check-ins", "checkin_resume", value, style="primary")
        words = text_block("Choose how often check-ins should come again:")
        return [resume, show_card("Resume how often?", [words], choices)]
    now = cadence_label(view.cadence_days).lower()
    pause = execute("Pause check-ins", "checkin_cadence", f"{value}:pause")
    words = text_block(f"Check-ins come {now}. Choose another frequency, or pause them:")
    return [show_card("How often?", [words], [*choices, pause])]


def _still_wanted(view: CheckinView) -> list[Element]:
    """After several unanswered check-ins: ask whether they are still wanted."""
    value = str(view.checkin_id)
    stop = Action(
        "checkin_stop",
        "Stop check-ins",
        value,
        confirm=Confirm(
            "Stop check-ins?",
            "I'll stop asking how the support is going. You can resume them from this "
            "message at any time.",
            "Stop them",
        ),
    )
    return [
        text_block(
            f"Nobody has answered the last {view.missed_in_a_row} check-ins. "
            "*Still want these?* Answer this one to keep them coming, or:"
        ),
        action_set(execute("Ask every four weeks", "checkin_less_often", value), _button(stop)),
    ]


def _schedule_note(view: CheckinView) -> str:
    if view.deployment_status != DeploymentStatus.ACTIVE:
        return "This support has ended, so this check-in is closed. Thank you."
    if view.paused:
        return "Check-ins are paused. Resume them here whenever you like."
    return f"Check-ins: {cadence_label(view.cadence_days).lower()}."


@render_card.register
def _checkin_message(view: CheckinMessage) -> Element:
    """One recipient's check-in card in its current state; how often, pausing and resuming
    are for the head and the lead supporter (a colleague or shadow sees only the answers)."""
    checkin, tz = view.checkin, ZoneInfo(view.tz)
    title = "Reminder: how is the support going?" if view.reminder else "How is the support going?"
    body = [heading(title), text_block(_about(checkin, view.viewer_id, tz))]
    for answer in checkin.answers:
        body.append(text_block(f"{escape(answer.name)}: *{answer.outcome.replace('_', ' ')}*"))
    if checkin.deployment_status != DeploymentStatus.ACTIVE:
        return card([*body, note(_schedule_note(checkin))])
    schedules = checkin.member(view.viewer_id) is None  # the head or the lead supporter
    buttons = _answer_buttons(checkin, view.viewer_id)
    if buttons:  # Needs attention and Completed need a few words: inline, not a dialog
        body.append(text_input("note", NOTE_PLACEHOLDER, multiline=True))
    if checkin.ask_if_still_wanted and schedules:
        body.extend(_still_wanted(checkin))
    body.append(note(_schedule_note(checkin)))
    if schedules:
        buttons.extend(_schedule_buttons(checkin))
    value = f"{checkin.deployment_id}:{checkin.checkin_id}"
    buttons.append(log_visit_form("Log days and a visit note", value))
    return card(body, buttons)


@render_card.register
def _checkin_closed(view: CheckinClosed) -> Element:
    return card([text_block(escape(view.text))])


@render_card.register
def _attention_alert(view: AttentionAlert) -> Element:
    checkin = view.checkin
    return card(
        [
            heading(f"Request #{checkin.request_id} needs attention"),
            text_block(f"{escape(view.name)} ({escape(view.role)}) says: {escape(view.note)}"),
        ]
    )


@render_card.register
def _completed_notice(view: CompletedNotice) -> Element:
    checkin = view.checkin
    return card(
        [
            heading(f"Request #{checkin.request_id} completed"),
            text_block(f"{escape(view.name)} ({escape(view.role)}): {escape(view.impact)}"),
        ]
    )


# --- open classrooms ------------------------------------------------------------------------
@render_card.register
def _no_host_notice(view: NoHostNotice) -> Element:
    """The coordinators' notice of a visit with no host, with the Teams command to assign one
    (`handlers.teams.listeners.commands`)."""
    return card(
        [
            text_block(
                f"{view.what} A coordinator can assign a host by hand: send me "
                f"*visit-assign {view.visit_id}* followed by the host's name or email."
            )
        ]
    )


# --- digests and the directory ---------------------------------------------------------------
def _listed(title: str, lines: list[str]) -> list[Element]:
    if not lines:
        return []
    more = len(lines) - LIST_LIMIT
    shown = lines[:LIST_LIMIT] + ([f"…and {more} more"] if more > 0 else [])
    listing = text_block("\n".join(f"- {line}" for line in shown))
    return [text_block(f"*{title}*"), listing] if title else [listing]


def _request_line(item: RequestItem) -> str:
    return f"#{item.request_id} {escape(item.school or 'a school')}: {', '.join(item.needs)}"


def _deployment_line(item: DeploymentItem) -> str:
    return (
        f"#{item.request_id} {escape(item.supporter_name)} with {escape(item.school or 'a school')}"
    )


@render_card.register
def _coordinator_digest(view: CoordinatorDigestMessage) -> Element:
    digest, tz = view.digest, ZoneInfo(view.tz)
    monday = digest.week.week_start
    body = [
        heading(f"Weekly digest: week of {monday.day} {monday:%B %Y}"),
        note(f"As of {when(digest.week.as_of, tz)} ({tz.key})."),
        facts(
            ("New requests", str(len(digest.new_requests))),
            ("Awaiting acceptance", str(len(digest.awaiting))),
            ("Accepted", str(len(digest.accepted))),
            ("Active deployments", str(len(digest.active))),
            ("Check-ins to look at", str(len(digest.attention))),
            ("Completed", str(len(digest.completed))),
        ),
        *_listed("Awaiting acceptance", [_request_line(i) for i in digest.awaiting]),
        *_listed("Accepted this week", [_deployment_line(i) for i in digest.accepted]),
        *_listed("Completed this week", [_deployment_line(i) for i in digest.completed]),
    ]
    return card(body)


@render_card.register
def _personal_digest(view: PersonalDigestMessage) -> Element:
    digest, tz = view.digest, ZoneInfo(view.tz)
    lines = [f"You're supporting {_deployment_line(i)}" for i in digest.supporting]
    lines += [f"{escape(i.supporter_name)} is supporting your school" for i in digest.supported]
    lines += [f"Request #{i.request_id} is looking for support" for i in digest.waiting]
    if digest.offers_waiting:
        lines.append(f"{digest.offers_waiting} offer(s) waiting for your answer")
    lines += [_team_place_line(place, tz) for place in digest.team]
    today = view.week.as_of.astimezone(tz).date()
    lines += [visit_line_text(line, today) for line in digest.visits]
    return card([heading("Your week in school-to-school support"), *_listed("", lines)])


def _team_place_line(place: TeamPlace, tz: ZoneInfo) -> str:
    """A deployment someone is on as a colleague or a shadow, as Slack's digest says it."""
    item = place.deployment
    lead, where = escape(item.supporter_name), f"*{escape(item.school or 'a school')}*"
    local = item.started_at.astimezone(tz)
    since = f"since {local.day} {local:%B}"
    doing = f"shadowing {lead}" if place.role == "shadow" else f"on {lead}'s team"
    return f"You're {doing} supporting {where} (request #{item.request_id}), {since}"


@render_card.register
def _import_report(view: ImportReportMessage) -> Element:
    pieces, hidden = report_pieces(escape(view.report), TEXT_PIECE, MOST_REPORT_PIECES)
    body = [text_block(view.summary)]
    body += [text_block(piece, fontType="Monospace") for piece in pieces]
    if footnote := report_footnote(view, hidden):
        body.append(note(footnote))
    return card(body)
