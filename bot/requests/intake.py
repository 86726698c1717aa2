"""Request intake: a support request captured from a channel post, the modal or the shortcut,
stored once, confirmed to the head; then edited, completed with a profile, or cancelled.

Functions take an open session (the caller's transaction) and return plain results. Messages
the bot owes are written to the outbox in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.core.messages import Action, Card
from bot.core.settings import Settings
from bot.core.vocabulary import Vocabulary
from bot.directory.people import (
    ensure_person,
    find_or_create_school,
    give_role,
    is_coordinator,
    person_by_user_id,
    roles_of,
    school_of,
)
from bot.outbox.owing import is_owed, owe_post, owe_update, was_posted
from bot.reach.people import user_id_of
from bot.requests.tagging import infer_tags
from bot.requests.views import (
    SUPPORT_ENDED,
    ChannelPost,
    Draft,
    OfferClosed,
    RequestCard,
    RequestSummary,
)
from storage.models import (
    ACCEPTED,
    CANCELLED,
    CLOSED,
    EXPIRED,
    OFFERED,
    OPEN,
    PHASES,
    URGENCIES,
    Deployment,
    DeploymentStatus,
    Offer,
    OfferStatus,
    Person,
    RequestTag,
    School,
    SupportRequest,
)

EDITABLE = (OPEN, OFFERED, EXPIRED)
TITLE_LIMIT = 150
# The most an edit form's text box holds on the platforms we serve (Slack's plain_text_input
# takes 3,000), so the Edit form can always show all of it.
DESCRIPTION_LIMIT = 3000
LONG_POST_NOTE = (
    f"Your post was longer than {DESCRIPTION_LIMIT:,} characters, so I kept the first "
    f"{DESCRIPTION_LIMIT:,} in your request; the full text stays in your post above."
)
SMALL_TALK_WORDS = 6
DM_HINT = (
    "Thanks for your message. To ask for support, tell me here in a sentence or two what your "
    "school needs, or type `/support`. I don't pass other messages on, so to reach someone, "
    "please message them directly."
)
# The buttons of the question asked of a message that may be a visit (value: the request id).
VISIT_INSTEAD = "request_visit_instead"
SHOW_REQUEST = "request_show"
VISIT_OR_SUPPORT = "Did you mean to visit a school, or is this a request for support?"
URGENT_WORDS = re.compile(
    r"\b(urgent(ly)?|asap|as soon as possible|immediately|this week|emergency|"
    r"ofsted (is )?(due|coming|next week|imminent)|inspection (is )?(due|imminent|next week)|"
    r"special measures|serious weaknesses|crisis)\b",
    re.IGNORECASE,
)
SOON_WORDS = re.compile(
    r"\b(soon|next half[- ]term|before (christmas|easter|half[- ]term|the summer)|"
    r"this term|next term|in the (autumn|spring|summer)|requires improvement|\bRI\b)",
    re.IGNORECASE,
)


@dataclass
class Outcome:
    """The result of an intake action: the request as it now stands, and whether it is new."""

    summary: RequestSummary
    created: bool = True
    notices: list[str] = field(default_factory=list)


# --- reading ---------------------------------------------------------------------------------
def get_request(session: Session, request_id: int, *, for_update: bool = False) -> SupportRequest:
    """The request, or NotFound with a friendly message.

    `for_update` locks the row until the transaction ends (PostgreSQL; SQLite transactions
    are already serialised), so a read-then-write can't lose a concurrent change.
    """
    query = select(SupportRequest).where(SupportRequest.id == request_id)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    request = session.exec(query).first()
    if request is None:
        raise NotFound("I can't find that request any more. It may have been removed.")
    return request


def request_tags(session: Session, request_id: int) -> list[str]:
    """The tag slugs of a request, sorted."""
    return sorted(
        session.exec(select(RequestTag.tag_slug).where(RequestTag.request_id == request_id))
    )


def summarise(session: Session, request: SupportRequest, vocabulary: Vocabulary) -> RequestSummary:
    """The request as a plain summary for rendering."""
    school = session.get(School, request.school_id) if request.school_id else None
    requester = session.get(Person, request.requester_id)
    assigned = session.get(Person, request.assigned_id) if request.assigned_id else None
    return RequestSummary(
        id=request.id or 0,
        status=request.status,
        title=request.title,
        description=request.description,
        tags=tuple(
            (slug, vocabulary.label(slug)) for slug in request_tags(session, request.id or 0)
        ),
        urgency=request.urgency,
        preferred_start=request.preferred_start,
        school=school.name if school else None,
        phase=school.phase if school else None,
        region=school.region if school else None,
        requester=user_id_of(requester) if requester else "",
        assigned_to=user_id_of(assigned) if assigned else None,
        awaiting_profile=request.awaiting_profile,
        source=request.source,
        created_at=request.created_at,
        support_ended=request.status == CANCELLED and bool(ended_supports(session, [request.id])),
    )


def ended_supports(session: Session, request_ids: Iterable[int | None]) -> set[int]:
    """Of these requests, those cancelled because a coordinator ended the support under way
    (*End this support*): only that cancels a deployment."""
    ids = [i for i in request_ids if i is not None]
    if not ids:
        return set()
    return set(
        session.exec(
            select(Deployment.request_id).where(
                col(Deployment.request_id).in_(ids),
                col(Deployment.status) == DeploymentStatus.CANCELLED,
            )
        )
    )


def may_change(session: Session, request: SupportRequest, slack_user_id: str) -> bool:
    """Only the head who asked, or a coordinator, may edit or cancel a request."""
    person = person_by_user_id(session, slack_user_id)
    if person is not None and person.id == request.requester_id:
        return True
    return is_coordinator(session, slack_user_id)


def may_view(session: Session, request: SupportRequest, slack_user_id: str) -> bool:
    """The full request is for the head, coordinators and supporters offered or assigned it."""
    if may_change(session, request, slack_user_id):
        return True
    person = person_by_user_id(session, slack_user_id)
    if person is None:
        return False
    if request.assigned_id == person.id:
        return True
    offered = session.exec(
        select(Offer.id).where(Offer.request_id == request.id, Offer.supporter_id == person.id)
    ).first()
    return offered is not None


def find_by_source(session: Session, source_key: str) -> SupportRequest | None:
    """The request captured from this source (message, modal view), if already stored."""
    return session.exec(
        select(SupportRequest).where(SupportRequest.source_key == source_key)
    ).first()


# --- guessing from free text -----------------------------------------------------------------
def guess_urgency(text: str) -> str:
    """Routine, soon or urgent, from the words a head used."""
    if URGENT_WORDS.search(text):
        return "urgent"
    if SOON_WORDS.search(text):
        return "soon"
    return "routine"


GREETING = re.compile(
    r"^(hi|hello|hey|morning|afternoon|good (morning|afternoon|evening)|dear|greetings|"
    r"happy \w+day)\b[^.!?]*$|^(thanks|thank you)\b",
    re.IGNORECASE,
)


def guess_title(text: str, limit: int = 80) -> str:
    """A short title from text as people read it (the adapter's `readable` form, never
    markup: "<30" is text): the first sentence that says something (greetings skipped)."""
    clean = text.strip()
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", clean) if s.strip()]
    useful = [s for s in sentences if not GREETING.match(s.rstrip(".!?,")) and len(s.split()) > 2]
    first = (useful or sentences or ["Support request"])[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def draft_for_modal(
    session: Session, text: str, slack_user_id: str, vocabulary: Vocabulary
) -> tuple[Draft, bool]:
    """The modal's pre-filled draft, and whether it must ask for the person's school, phase
    and region: one look-up of the person, as the modal has to open within Slack's 3 s."""
    person = person_by_user_id(session, slack_user_id)
    school = school_of(session, person) if person else None
    draft = Draft(
        title=guess_title(text) if text.strip() else "",
        description=text.strip()[:DESCRIPTION_LIMIT],
        tags=tuple(match.slug for match in infer_tags(text, vocabulary)),
        urgency=guess_urgency(text),
        school_name=school.name if school else "",
        phase=school.phase if school else None,
        region=school.region if school else None,
    )
    return draft, person is None or person.school_id is None


def needs_profile(session: Session, slack_user_id: str) -> bool:
    """Whether we still need to ask this person for their school, phase and region."""
    person = person_by_user_id(session, slack_user_id)
    return person is None or person.school_id is None


# --- validation ------------------------------------------------------------------------------
def validate(
    draft: Draft,
    vocabulary: Vocabulary,
    *,
    today: date,
    need_profile: bool,
    keep_description: bool = False,
) -> Draft:
    """Check a modal draft; raise InvalidInput with one message per field (block id).

    `keep_description`: the form had no description field (the stored one is kept)."""
    errors: dict[str, str] = {}
    title = " ".join(draft.title.split())
    description = draft.description.strip()
    if not title:
        errors["title"] = "Please give your request a short title."
    elif len(title) > TITLE_LIMIT:
        errors["title"] = f"Please keep the title under {TITLE_LIMIT} characters."
    if len(description) < 10 and not keep_description:
        errors["description"] = "Please say a little more about what you need (a sentence or two)."
    elif len(description) > DESCRIPTION_LIMIT and not keep_description:
        errors["description"] = f"Please keep this under {DESCRIPTION_LIMIT:,} characters."
    tags = tuple(dict.fromkeys(draft.tags))
    if not tags:
        errors["areas"] = "Please choose at least one area of need."
    elif unknown := [t for t in tags if not vocabulary.has(t)]:
        errors["areas"] = f"I don't know the area {unknown[0]!r}; please choose from the list."
    if draft.urgency not in URGENCIES:
        errors["urgency"] = "Please choose how soon you need support."
    if draft.preferred_start and draft.preferred_start < today:
        errors["start"] = "The start date is in the past; please choose today or later."
    if not draft.school_name.strip():
        errors["school"] = "Please tell us which school needs support."
    if need_profile:
        if draft.phase not in PHASES:
            errors["phase"] = "Please choose your school's phase."
        if not draft.region:
            errors["region"] = "Please choose your region."
    if errors:
        raise InvalidInput(errors)
    return Draft(
        title=title,
        description=description,
        tags=tags,
        urgency=draft.urgency,
        preferred_start=draft.preferred_start,
        school_name=" ".join(draft.school_name.split()),
        phase=draft.phase,
        region=draft.region,
    )


# --- capturing -------------------------------------------------------------------------------
def card_ref(request_id: int) -> str:
    """The outbox ref of the request's card (the bot's thread reply), for later updates."""
    return f"request:{request_id}:card"


def post_ref(request_id: int) -> str:
    """The outbox ref of the bot's channel post of a request made through the modal."""
    return f"request:{request_id}:post"


def capture_message(
    session: Session,
    settings: Settings,
    vocabulary: Vocabulary,
    *,
    now: datetime,
    user: str,
    user_name: str,
    channel: str,
    ts: str,
    text: str,
    ask_if_visit: bool = False,
) -> Outcome:
    """Store a top-level support-channel post as a request (once) and owe the thread reply:
    the request's card, or with `ask_if_visit` the question whether a visit was meant (the
    request waits unsent, its words kept, until they choose)."""
    source_key = message_source_key(channel, ts)
    existing = find_by_source(session, source_key)
    if existing is not None:
        return Outcome(summarise(session, existing, vocabulary), created=False)
    person = ensure_person(session, user, name=user_name, now=now)
    school = school_of(session, person)
    request = SupportRequest(
        requester_id=person.id or 0,
        school_id=school.id if school else None,
        title=guess_title(text),
        description=text[:DESCRIPTION_LIMIT],
        urgency=guess_urgency(text),
        status=OPEN,
        source="channel",
        source_key=source_key,
        channel_id=channel,
        message_ts=ts,
        thread_channel_id=channel,
        thread_ts=ts,
        awaiting_profile=school is None,
        created_at=now,
        updated_at=now,
    )
    tags = [m.slug for m in infer_tags(text, vocabulary)]
    _store_request(session, request, tags, now=now, actor=user, action="request.captured")
    summary = summarise(session, request, vocabulary)
    owe_post(
        session,
        now=now,
        channel=channel,
        thread_ts=ts,
        text=VISIT_OR_SUPPORT if ask_if_visit else _card_text(summary),
        view=visit_or_support(summary.id) if ask_if_visit else RequestCard(summary),
        ref=card_ref(summary.id),  # the request's card takes the question's place
    )
    if len(text) > DESCRIPTION_LIMIT:
        owe_post(session, now=now, channel=channel, thread_ts=ts, text=LONG_POST_NOTE)
    return Outcome(summary)


def visit_or_support(request_id: int) -> Card:
    """The question asked in place of a request's card when its words may ask for a visit."""
    value = str(request_id)
    return Card(
        paragraphs=(
            f"*{VISIT_OR_SUPPORT}*",
            "*Visit a school* asks schools that open their classrooms to show you this practice "
            "(next time, start with *visit:* and a colon). *Ask for support* shows your request, "
            "ready to send to system leaders. Nothing goes to anyone until you choose.",
        ),
        actions=(
            Action(VISIT_INSTEAD, "Visit a school", value, style="primary"),
            Action(SHOW_REQUEST, "Ask for support", value),
        ),
    )


def show_request(
    session: Session, vocabulary: Vocabulary, *, now: datetime, actor: str, request_id: int
) -> RequestSummary:
    """*Ask for support* on that question: the request's own card takes its place."""
    request = get_request(session, request_id, for_update=True)
    if not may_change(session, request, actor):
        raise NotAllowed(
            "Only the head who asked for this support, or a coordinator, can choose.",
            action="request.show",
            subject_type="request",
            subject_id=request_id,
        )
    if request.status != OPEN:
        raise Conflict(_chosen_already(request.status))
    summary = summarise(session, request, vocabulary)
    refresh_card(session, summary, now=now)
    return summary


def _chosen_already(status: str) -> str:
    if status == CANCELLED:
        return "This request has been set aside (or cancelled), so there's nothing to choose now."
    return "This request has already gone out as a request for support."


def is_small_talk(text: str, vocabulary: Vocabulary) -> bool:
    """A few words naming no area of need ("thanks!", "ok"): in a DM, not a request."""
    return len(text.split()) < SMALL_TALK_WORDS and not infer_tags(text, vocabulary)


def answer_small_talk(session: Session, *, now: datetime, channel: str, ts: str) -> None:
    """Say (once per message) how to ask for support, instead of making a request of it."""
    key = f"dm-hint:{channel}:{ts}"
    if not is_owed(session, key):
        owe_post(session, now=now, channel=channel, text=DM_HINT, dedupe_key=key)


def message_source_key(channel: str, ts: str) -> str:
    """The source key of a request captured from the message `ts` in `channel`."""
    return f"msg:{channel}:{ts}"


def submit_request(
    session: Session,
    settings: Settings,
    vocabulary: Vocabulary,
    *,
    now: datetime,
    user: str,
    user_name: str,
    draft: Draft,
    source: str,
    source_key: str,
    private: bool = False,
) -> Outcome:
    """Store a request from the modal (once per view) and post it where the head can see it.

    `private`: asked from a DM or a private channel, so it is confirmed to the head by DM and
    announced nowhere public (not in the support channel)."""
    shared_channel = None if private else settings.support_channel_id
    existing = find_by_source(session, source_key)
    if existing is not None:
        return Outcome(summarise(session, existing, vocabulary), created=False)
    person = ensure_person(session, user, name=user_name, now=now)
    school = _school_for(session, person, draft)
    request = SupportRequest(
        requester_id=person.id or 0,
        school_id=school.id,
        title=draft.title,
        description=draft.description,
        urgency=draft.urgency,
        preferred_start=draft.preferred_start,
        status=OPEN,
        source=source,
        source_key=source_key,
        thread_channel_id=shared_channel,
        created_at=now,
        updated_at=now,
    )
    _store_request(
        session, request, list(draft.tags), now=now, actor=user, action="request.submitted"
    )
    summary = summarise(session, request, vocabulary)
    _owe_submitted_posts(session, summary, now=now, user=user, shared_channel=shared_channel)
    return Outcome(summary)


def _store_request(
    session: Session,
    request: SupportRequest,
    tags: list[str],
    *,
    now: datetime,
    actor: str,
    action: str,
) -> None:
    """Add a new request with its tags and audit how it came in."""
    session.add(request)
    session.flush()
    set_tags(session, request, tags)
    audit.record(
        session,
        at=now,
        actor=actor,
        action=action,
        subject_type="request",
        subject_id=request.id or 0,
        source=request.source,
    )


def _owe_submitted_posts(
    session: Session,
    summary: RequestSummary,
    *,
    now: datetime,
    user: str,
    shared_channel: str | None,
) -> None:
    """The post and card in the support channel, or for a private ask the card by DM."""
    if shared_channel:
        owe_post(
            session,
            now=now,
            channel=shared_channel,
            text=f"<@{user}> has asked for support with {_labels(summary)}.",
            view=ChannelPost(summary),
            ref=post_ref(summary.id),
        )
        owe_post(
            session,
            now=now,
            channel=shared_channel,
            thread_of=post_ref(summary.id),
            text=_card_text(summary),
            view=RequestCard(summary),
            ref=card_ref(summary.id),
        )
    else:
        owe_post(
            session,
            now=now,
            channel=user,
            text=_card_text(summary),
            view=RequestCard(summary),
            ref=card_ref(summary.id),
        )


def _school_for(session: Session, person: Person, draft: Draft) -> School:
    """The school named in the draft; someone new to the directory becomes its head."""
    current = school_of(session, person)
    if current is not None and current.name.casefold() == draft.school_name.casefold():
        return current
    school = find_or_create_school(
        session, draft.school_name, phase=draft.phase, region=draft.region
    )
    if person.school_id is None:
        person.school_id = school.id
        if not roles_of(session, person.id):
            give_role(session, person, "head")
    return school


def set_tags(session: Session, request: SupportRequest, tags: list[str]) -> None:
    """Make the request's areas of need exactly `tags`."""
    current = set(request_tags(session, request.id or 0))
    wanted = set(tags)
    for link in session.exec(select(RequestTag).where(RequestTag.request_id == request.id)):
        if link.tag_slug not in wanted:
            session.delete(link)
    for slug in sorted(wanted - current):
        session.add(RequestTag(request_id=request.id or 0, tag_slug=slug))
    session.flush()


def _card_text(summary: RequestSummary) -> str:
    """The notification text of the card (what shows in the phone notification)."""
    if summary.support_ended:
        return SUPPORT_ENDED
    if summary.status == CANCELLED:
        return "This request has been cancelled."
    if not summary.tags:
        return "Thanks — which areas do you need support with?"
    return f"Thanks — I've got your request for support with {_labels(summary)}."


def _labels(summary: RequestSummary) -> str:
    labels = [label for _, label in summary.tags]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def refresh_card(session: Session, summary: RequestSummary, *, now: datetime) -> None:
    """Owe an update of the request's card (and the channel post, for modal requests)."""
    owe_update(
        session,
        now=now,
        update_of=card_ref(summary.id),
        text=_card_text(summary),
        view=RequestCard(summary),
    )
    if was_posted(session, post_ref(summary.id)):
        owe_update(
            session,
            now=now,
            update_of=post_ref(summary.id),
            text=f"Support request #{summary.id}",
            view=ChannelPost(summary),
        )


# --- changing ----------------------------------------------------------------------------------
def _changeable(session: Session, request_id: int, actor: str, verb: str) -> SupportRequest:
    request = get_request(session, request_id, for_update=True)
    if not may_change(session, request, actor):
        raise NotAllowed(
            f"Only the head who asked for this support, or a coordinator, can {verb} it.",
            action=f"request.{verb}",
            subject_type="request",
            subject_id=request_id,
        )
    if request.status not in EDITABLE:
        raise Conflict(_too_late_to(session, request, verb))
    return request


def _too_late_to(session: Session, request: SupportRequest, verb: str) -> str:
    """Why a request can no longer be edited or cancelled, and, once a supporter has it,
    whom to tell instead (a form left open while they accepted is the usual way here)."""
    done = {"edit": "edited", "cancel": "cancelled"}[verb]
    if request.status == ACCEPTED:
        supporter = session.get(Person, request.assigned_id) if request.assigned_id else None
        who = "A supporter"
        if supporter is not None and supporter.erased_at is None and supporter.name:
            who = supporter.name
        said = f"{who} has already accepted this request, so it can't be {done} now."
        if verb == "edit":
            return f"{said} To change what you've asked for, please message them directly."
        return f"{said} If it's no longer needed, your coordinators can end the support."
    states = {CANCELLED: "has been cancelled", CLOSED: "has been completed"}
    state = states.get(request.status, f"is {request.status}")
    return f"This request {state}, so it can't be {done} now."


def edit_request(
    session: Session,
    vocabulary: Vocabulary,
    *,
    now: datetime,
    actor: str,
    request_id: int,
    draft: Draft,
    keep_description: bool = False,
) -> Outcome:
    """Apply an edit from the modal; the head or a coordinator, until the request is accepted.

    `keep_description`: the form could not hold the description, so it stays as stored."""
    request = _changeable(session, request_id, actor, "edit")
    requester = session.get(Person, request.requester_id)
    assert requester is not None
    request.school_id = _school_for(session, requester, draft).id
    request.awaiting_profile = False
    request.title = draft.title
    if not keep_description:
        request.description = draft.description
    request.urgency = draft.urgency
    request.preferred_start = draft.preferred_start
    request.updated_at = now
    set_tags(session, request, list(draft.tags))
    audit.record(
        session,
        at=now,
        actor=actor,
        action="request.edited",
        subject_type="request",
        subject_id=request_id,
    )
    summary = summarise(session, request, vocabulary)
    refresh_card(session, summary, now=now)
    return Outcome(summary, created=False)


def cancel_request(
    session: Session, vocabulary: Vocabulary, *, now: datetime, actor: str, request_id: int
) -> Outcome:
    """Cancel a request, withdraw its open offers and tell everyone who was offered it."""
    request = _changeable(session, request_id, actor, "cancel")
    request.status = CANCELLED
    request.closed_at = now
    request.updated_at = now
    withdrawn = 0
    for offer in session.exec(
        select(Offer).where(Offer.request_id == request_id, Offer.status == OfferStatus.OPEN)
    ):
        offer.status = OfferStatus.WITHDRAWN
        offer.responded_at = now
        withdrawn += 1
        owe_update(
            session,
            now=now,
            update_of=f"offer:{offer.id}",
            text="This request has been cancelled by the school.",
            view=OfferClosed(
                "This request has been cancelled by the school. Thank you for "
                "considering it — nothing more is needed from you."
            ),
        )
    audit.record(
        session,
        at=now,
        actor=actor,
        action="request.cancelled",
        subject_type="request",
        subject_id=request_id,
        offers_withdrawn=withdrawn,
    )
    summary = summarise(session, request, vocabulary)
    refresh_card(session, summary, now=now)
    return Outcome(summary, created=False)


def _check_profile(
    school_name: str, phase: str | None, region: str | None, urn: str | None = None
) -> None:
    """Raise `InvalidInput` naming each missing or unknown part of a newcomer's profile."""
    errors: dict[str, str] = {}
    if not school_name.strip():
        errors["school"] = "Please tell us the name of your school."
    if urn and not (urn.isdigit() and len(urn) == 6):
        errors["urn"] = "A URN is six digits (leave it blank if you don't know it)."
    if phase not in PHASES:
        errors["phase"] = "Please choose your school's phase."
    if not region:
        errors["region"] = "Please choose your region."
    if errors:
        raise InvalidInput(errors)


def save_profile(
    session: Session,
    vocabulary: Vocabulary,
    *,
    now: datetime,
    user: str,
    user_name: str,
    school_name: str,
    phase: str | None,
    region: str | None,
    urn: str | None = None,
) -> list[RequestSummary]:
    """Record a newcomer's school, phase, region and (optionally) URN, once; they become a
    head in the directory and their waiting requests go ahead. Returns the requests released."""
    urn = (urn or "").strip() or None
    _check_profile(school_name, phase, region, urn)
    # The waiting requests' locks first, then the person (the lock order everywhere), and
    # fresh copies of them: a cancel or edit committed meanwhile must not be drawn over.
    known = person_by_user_id(session, user)
    waiting_ids = (
        session.exec(
            select(SupportRequest.id)
            .where(
                SupportRequest.requester_id == known.id,
                col(SupportRequest.awaiting_profile).is_(True),
            )
            .order_by(col(SupportRequest.id))
        ).all()
        if known is not None
        else []
    )
    waiting = [get_request(session, request_id or 0, for_update=True) for request_id in waiting_ids]
    person = ensure_person(session, user, name=user_name, now=now)
    school = find_or_create_school(session, school_name, phase=phase, region=region, urn=urn)
    person.school_id = school.id
    person.updated_at = now
    give_role(session, person, "head")
    audit.record(
        session,
        at=now,
        actor=user,
        action="person.profile_saved",
        subject_type="person",
        subject_id=person.id or 0,
        school_id=school.id,
    )
    released = []
    for request in waiting:
        if not request.awaiting_profile:
            continue
        request.awaiting_profile = False
        request.school_id = school.id
        request.updated_at = now
        summary = summarise(session, request, vocabulary)
        refresh_card(session, summary, now=now)
        released.append(summary)
    return released
