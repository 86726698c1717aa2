"""Block Kit for the App Home: a short welcome, then the person's own requests, offers and
deployments, and a coordinator's overview — short lines that read well on a phone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from bot.deployments.views import FIND_FOR_CHECKINS, FIND_TO_END
from handlers.slack.blocks import (
    VIEW_BLOCK_LIMIT,
    Block,
    actions,
    button,
    context,
    divider,
    escape,
    fields,
    header,
    section,
    truncate,
)
from handlers.slack.blocks.audit import audit_button
from handlers.slack.blocks.deployments import progress_listing
from handlers.slack.blocks.insight import headline_section
from handlers.slack.blocks.listing import Listing, fit_listings
from handlers.slack.blocks.mentions import slack_mentions
from handlers.slack.blocks.offers import when
from handlers.slack.blocks.requests import PHASE_LABELS
from handlers.slack.blocks.teamwork import team_blocks, team_places_listing
from handlers.slack.blocks.visits import home_visit_listing
from storage.models import RequestStatus

if TYPE_CHECKING:
    from bot.home.service import (
        AttentionLine,
        CoordinatorHome,
        DeploymentLine,
        HomeData,
        OfferLine,
        RequestLine,
        SupporterHome,
    )

ASK_ACTION = "home_ask_support"
AVAILABILITY_ACTION = "home_availability"
AWAY, AVAILABLE = "away", "available"  # the availability button's values

STATUS_LABELS = {
    "open": "Open",
    "offered": "Offered",
    "accepted": "Accepted",
    "closed": "Closed",
    "cancelled": "Cancelled",
    "expired": "Expired",
}
URGENCY_WORDS = {"urgent": "Urgent", "soon": "Soon", "routine": "Routine"}
PRIVACY = (
    "Only you can see this page. A request's details are shared only with the people who "
    "can help and your coordinators."
)
TITLE_SHOWN = 100
NEEDS_SHOWN = 200


def home_view(
    data: HomeData, tz: ZoneInfo, *, support_channel: str | None = None
) -> dict[str, Any]:
    """The Home tab for one person, always within Slack's limits for a view (long lists cut,
    each saying how many more there are); neutral mentions become Slack's (someone only on
    Teams: their name)."""
    audit = "coordinator" in data.roles  # every request line gets an *Audit trail* button
    listings = [Listing(_welcome(data, support_channel))]
    if data.requests is not None:
        listings.append(_own_requests(data, tz, audit=audit))
    if data.supporter is not None:
        listings += _supporter(data.supporter, tz, audit=audit)
    if data.team_places:
        listings.append(team_places_listing(data.team_places, tz, audit=audit))
    if data.coordinator is not None:
        listings.append(_coordinator(data.coordinator, data.now))
    if data.deployments:
        listings.append(progress_listing(data.deployments, data.deployments_total, audit=audit))
    if data.others:
        listings.append(progress_listing(data.others, data.others_total, audit=audit, others=True))
    if data.visits:
        listings.append(home_visit_listing(data.visits))
    listings.append(Listing([divider(), context(PRIVACY)]))
    return {"type": "home", "blocks": slack_mentions(fit_view(fit_listings(listings)))}


def fit_view(blocks: list[Block], note: str = "There's more than fits here.") -> list[Block]:
    """Keep a view within Slack's 100-block limit, ending with a note when cut."""
    if len(blocks) <= VIEW_BLOCK_LIMIT:
        return blocks
    return [*blocks[: VIEW_BLOCK_LIMIT - 1], context(note)]


# --- words ---------------------------------------------------------------------------------------
def _title(request_id: int, title: str) -> str:
    shown = escape(truncate(" ".join(title.split()), TITLE_SHOWN)) or "Support request"
    return f"*#{request_id} · {shown}*"


def _needs(labels: Sequence[str]) -> str:
    return escape(truncate(", ".join(labels), NEEDS_SHOWN)) or "areas of need not chosen yet"


def _day(instant: datetime, tz: ZoneInfo) -> str:
    local = instant.astimezone(tz)
    return f"{local.day} {local:%B %Y}"


def duration(now: datetime, since: datetime) -> str:
    """How long since `since`, roughly: "under an hour", "5 hours", "3 days"."""
    seconds = max((now - since).total_seconds(), 0)
    hours = int(seconds // 3600)
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{hours // 24} days"


# --- everyone ------------------------------------------------------------------------------------
def _welcome(data: HomeData, support_channel: str | None) -> list[Block]:
    hello = f"Hello {escape(data.name)}. " if data.name else "Hello. "
    ways = ["press *Ask for support* below", "type `/support` in any channel"]
    if support_channel:
        ways.append(f"post in <#{support_channel}>")
    ways.append("choose *Request support from this message* from a message's ⋯ menu")
    blocks: list[Block] = [
        header("School-to-school support"),
        section(
            hello + "I help schools get support from other schools: tell me what your school "
            "needs, I offer it to the best-matched system leaders (NLEs, SLEs and trained "
            "specialists), and I check in with you both while the support runs."
        ),
        section("*To ask for support*\n" + "\n".join(f"• {way}" for way in ways)),
        actions(
            button("Ask for support", ASK_ACTION, "home", style="primary"), block_id="home_ask"
        ),
    ]
    if data.name is None:
        blocks.append(
            context(
                "You're not in the support directory yet. I'll ask for your school's details "
                "the first time you ask; system leaders, please ask your coordinator to add you."
            )
        )
    return blocks


# --- a head --------------------------------------------------------------------------------------
def _own_requests(data: HomeData, tz: ZoneInfo, *, audit: bool) -> Listing:
    requests = data.requests or ()
    head: list[Block] = [divider(), header("Your requests")]
    if not requests:
        return Listing([*head, section("You haven't asked for support yet.")])
    items = [
        [
            section(
                f"{_title(line.id, line.title)}\n{_head_status(line, data.now, tz)}\n"
                f"{_needs(line.needs)} · asked {_day(line.created_at, tz)}",
                accessory=audit_button(line.id) if audit else None,
            )
        ]
        for line in requests
    ]
    return Listing(
        head,
        items,
        hidden=data.requests_total - len(requests),
        more="and {n} more older requests not shown",
    )


def _head_status(line: RequestLine, now: datetime, tz: ZoneInfo) -> str:
    """Where a request stands, as its head would want to hear it."""
    if line.status == RequestStatus.ACCEPTED:
        who = line.assigned_to or "A system leader"
        since = f" since {_day(line.accepted_at, tz)}" if line.accepted_at else ""
        return f":white_check_mark: *Accepted* — {who} is supporting you{since}"
    if line.status == RequestStatus.OFFERED:
        waited = duration(now, line.offered_at or line.created_at)
        return f":hourglass_flowing_sand: *Offered* {waited} ago — awaiting a reply"
    if line.status == RequestStatus.EXPIRED or line.escalated_at is not None:
        return ":hourglass: *Nobody available yet* — the coordinators are finding someone"
    if line.status == RequestStatus.OPEN:
        if line.awaiting_profile:
            return ":pencil2: *Open* — waiting for your school's details (the button on it)"
        if not line.needs:
            return ":pencil2: *Open* — please choose the areas of need (press Edit on it)"
        return ":pencil2: *Open* — not sent yet: press *Find support* on it"
    if line.status == RequestStatus.CLOSED:
        return ":checkered_flag: *Completed*"
    if line.support_ended:
        return ":octagonal_sign: *Support ended* by the coordinators — I've sent you their reason"
    return f"*{STATUS_LABELS.get(line.status, escape(line.status))}*"


# --- a supporter ---------------------------------------------------------------------------------
def _supporter(home: SupporterHome, tz: ZoneInfo, *, audit: bool) -> list[Listing]:
    head: list[Block] = [divider(), header("Your support work"), _availability(home, tz)]
    if home.offers:
        offers = Listing(
            [*head, section("*Offers waiting for your reply*")],
            [_offer(offer, tz) for offer in home.offers],
            hidden=home.offers_total - len(home.offers),
            more="and {n} more — see my messages to you",
        )
    else:
        offers = Listing([*head, context("No offers are waiting for your reply.")])
    if not home.deployments:
        return [offers, Listing([context("You aren't supporting a school at the moment.")])]
    supporting = Listing(
        [section("*Schools you're supporting*")],
        [
            [_deployment(line, tz, audit), *team_blocks(line.deployment_id, line.team)]
            for line in home.deployments
        ],
        hidden=home.active - len(home.deployments),
        more="and {n} more schools you're supporting",
    )
    return [offers, supporting]


def _availability(home: SupporterHome, tz: ZoneInfo) -> Block:
    used = f"*Deployments:* {home.active + home.as_colleague} of {home.capacity} in use"
    if home.as_colleague:
        used += f" ({home.as_colleague} as a colleague)"
    if home.available:
        state = ":large_green_circle: *Available* — I'll offer you requests that match"
        toggle = button("I'm away", AVAILABILITY_ACTION, AWAY)
    else:
        until = f" (back {home.away_until.day} {home.away_until:%B})" if home.away_until else ""
        state = f":palm_tree: *Away*{until} — I won't offer you anything new"
        toggle = button("I'm available again", AVAILABILITY_ACTION, AVAILABLE, style="primary")
    return section(f"{used}\n{state}", accessory=toggle, block_id="home_availability")


def _offer(offer: OfferLine, tz: ZoneInfo) -> list[Block]:
    where = [
        PHASE_LABELS.get(offer.phase or "", ""),
        escape(offer.region),
        escape(offer.school) if offer.school else "school shared when you accept",
    ]
    lines = [
        _title(offer.request_id, offer.title),
        f"{_needs(offer.needs)} · {URGENCY_WORDS.get(offer.urgency, escape(offer.urgency))}",
        " · ".join(part for part in where if part),
    ]
    if offer.reasons:
        lines.append(f"_Why you:_ {escape(truncate(offer.reasons, 300))}")
    if offer.expires_at is not None:
        lines.append(f"Please reply by {when(offer.expires_at, tz)}")
    value = str(offer.offer_id)
    return [
        section("\n".join(lines)),
        actions(
            button("Accept", "offer_accept", value, style="primary"),
            button("Decline", "offer_decline", value),
            button("Show full request", "offer_show_full", value),
            block_id=f"home_offer:{offer.offer_id}",
        ),
    ]


def _deployment(line: DeploymentLine, tz: ZoneInfo, audit: bool) -> Block:
    school = escape(truncate(line.school or "", TITLE_SHOWN)) or "A school"
    head = f" — head {line.head}" if line.head else ""
    return section(
        f"*{school}*{head}\n{_needs(line.needs)} · since {_day(line.started_at, tz)}"
        f" · request #{line.request_id}",
        accessory=audit_button(line.request_id) if audit else None,
    )


# --- a coordinator -------------------------------------------------------------------------------
def _coordinator(home: CoordinatorHome, now: datetime) -> Listing:
    head: list[Block] = [
        divider(),
        header("Coordinator overview"),
        fields(
            *(f"*{label}*\n{home.counts.get(status, 0)}" for status, label in STATUS_LABELS.items())
        ),
    ]
    if home.headline is not None:
        head.append(headline_section(home.headline))
    head.append(
        section(
            "To end any support that is under way, find it by school, URN or supporter.",
            accessory=button("End a support…", FIND_TO_END, "home"),
            block_id="home_find_to_end",
        )
    )
    head.append(
        section(
            "To pause, resume or snooze the check-ins of any support under way, find it the "
            "same way.",
            accessory=button("Check-ins for a support…", FIND_FOR_CHECKINS, "home"),
            block_id="home_find_for_checkins",
        )
    )
    if not home.attention:
        return Listing([*head, context("Nothing needs your attention right now.")])
    return Listing(
        [*head, section(f"*Needs attention* ({home.attention_total})")],
        [_attention(item, now) for item in home.attention],
        hidden=home.attention_total - len(home.attention),
        more="and {n} more — see the digest",
    )


def _attention(item: AttentionLine, now: datetime) -> list[Block]:
    """The request in a few words, what it waits for, and its buttons."""
    trail = audit_button(item.request.id)
    block = _attention_section(item, now)
    if "accessory" in block:  # Assign someone
        return [
            {key: value for key, value in block.items() if key != "accessory"},
            actions(block["accessory"], trail, block_id=f"home_request:{item.request.id}"),
        ]
    return [{**block, "accessory": trail}]


def _attention_section(item: AttentionLine, now: datetime) -> Block:
    line = item.request
    waited = duration(now, item.since)
    school = escape(truncate(line.school or "", TITLE_SHOWN)) or "School not known yet"
    text = (
        f"{_title(line.id, line.title)}\n{school} · {_needs(line.needs)} · "
        f"{URGENCY_WORDS.get(line.urgency, escape(line.urgency))}\n"
    )
    if item.kind == "unassigned":
        why = (
            "nobody accepted"
            if line.status == RequestStatus.EXPIRED
            else "no available supporter matched"
        )
        return section(
            text + f":warning: Needs someone assigned by hand ({why}) — waiting {waited}",
            accessory=button("Assign someone", "request_assign", str(line.id), style="primary"),
            block_id=f"home_assign:{line.id}",
        )
    if item.kind == "waiting":
        replies = f"{line.open_offers} repl{'y' if line.open_offers == 1 else 'ies'} awaited"
        return section(text + f":hourglass_flowing_sand: Offered {waited} ago — {replies}")
    if line.awaiting_profile:
        blocker = "waiting for the school's details"
    elif not line.needs:
        blocker = "areas of need not chosen"
    else:
        blocker = "waiting for the head to press Find support"
    return section(text + f":pencil2: Not offered yet after {waited} — {blocker}")
