"""The Slack renderer of neutral messages: each view the core owes (`bot.core.messages`)
becomes Block Kit here, at delivery, so no service builds Block Kit.

`render_blocks(view)` dispatches on the view's type; a view with no renderer registered here
is a programming error and raises `TypeError`. `slack_payload` turns an outbox payload holding
a `view` into the payload Slack's Web API takes.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any
from zoneinfo import ZoneInfo

from bot.checkins.views import AttentionAlert, CheckinClosed, CheckinMessage, CompletedNotice
from bot.core.messages import Action, Card, decode_view
from bot.core.text import visible_payload
from bot.digest.views import CoordinatorDigestMessage, PersonalDigestMessage
from bot.directory.views import ImportReportMessage
from bot.requests.views import (
    ChannelPost,
    CoordinatorAlert,
    OfferClosed,
    RequestCard,
    RequestUpdated,
)
from bot.routing.views import Accepted, AssignedNotice, OfferInvitation
from bot.teamwork.views import ShadowInvitation
from bot.visits.messages import NoHostNotice
from handlers.slack.blocks import (
    MESSAGE_BLOCK_LIMIT,
    Block,
    actions,
    button,
    chunk_text,
    confirm_dialog,
    escape,
    section,
)
from handlers.slack.blocks.checkins import (
    attention_alert,
    checkin_closed,
    checkin_message,
    completed_notice,
)
from handlers.slack.blocks.digest import (
    blocks_as_text,
    coordinator_digest_blocks,
    personal_digest_blocks,
)
from handlers.slack.blocks.directory import import_report_blocks
from handlers.slack.blocks.mentions import slack_mentions
from handlers.slack.blocks.offers import (
    accepted_dm,
    assigned_notice,
    coordinator_alert,
    offer_closed,
    offer_dm,
)
from handlers.slack.blocks.requests import channel_post, description_preview, request_card
from handlers.slack.blocks.teamwork import shadow_invitation
from handlers.slack.blocks.visits import no_host_notice


def slack_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """An outbox payload as Slack takes it: a neutral `view` rendered into `blocks`, and
    neutral mentions made Slack's (`handlers.slack.blocks.mentions`)."""
    if "view" not in payload:
        return dict(slack_mentions(payload))
    rendered = {k: v for k, v in payload.items() if k != "view"}
    rendered["blocks"] = visible_payload(render_blocks(decode_view(payload["view"])))
    return dict(slack_mentions(rendered))


def view_as_text(view: object) -> str:
    """A view as readable plain text (what its Block Kit says), for previews on the CLI."""
    return blocks_as_text(render_blocks(view))


@singledispatch
def render_blocks(view: object) -> list[Block]:
    """The Block Kit of a neutral message view."""
    raise TypeError(f"no Slack renderer for {type(view).__name__}")


@render_blocks.register
def _card(view: Card) -> list[Block]:
    """Each paragraph in as many sections as it needs (a long agreement is not cut), with
    room left for the buttons."""
    pieces = [piece for paragraph in view.paragraphs for piece in chunk_text(paragraph)]
    blocks = [section(piece) for piece in pieces[: MESSAGE_BLOCK_LIMIT - 1]]
    if view.actions:
        blocks.append(actions(*(_button(action) for action in view.actions)))
    return blocks


def _button(action: Action) -> Block:
    confirm = action.confirm
    dialog = (
        confirm_dialog(confirm.title, confirm.text, confirm.yes, confirm.no) if confirm else None
    )
    return button(action.label, action.id, action.value, style=action.style, confirm=dialog)


@render_blocks.register
def _no_host_notice(view: NoHostNotice) -> list[Block]:
    return no_host_notice(view)


@render_blocks.register
def _request_card(view: RequestCard) -> list[Block]:
    return request_card(view.summary)


@render_blocks.register
def _channel_post(view: ChannelPost) -> list[Block]:
    return channel_post(view.summary)


@render_blocks.register
def _request_updated(view: RequestUpdated) -> list[Block]:
    summary = view.summary
    preview, _ = description_preview(summary, limit=1500)
    return [
        section(f"<@{summary.requester}> has updated request #{summary.id}:"),
        section(f"*{escape(summary.title)}*\n{preview}"),
    ]


@render_blocks.register
def _offer_closed(view: OfferClosed) -> list[Block]:
    return offer_closed(view.text)


@render_blocks.register
def _coordinator_alert(view: CoordinatorAlert) -> list[Block]:
    return coordinator_alert(view.summary, reason=view.reason)


@render_blocks.register
def _offer_invitation(view: OfferInvitation) -> list[Block]:
    return offer_dm(
        view.summary,
        offer_id=view.offer_id,
        reasons=view.reasons,
        show_school=view.show_school,
        expires_at=view.expires_at,
        tz=ZoneInfo(view.tz),
    )


@render_blocks.register
def _accepted(view: Accepted) -> list[Block]:
    return accepted_dm(
        view.summary,
        deployment_id=view.deployment_id,
        head_slack_id=view.head_slack_id,
        head_email=view.head_email,
    )


@render_blocks.register
def _assigned_notice(view: AssignedNotice) -> list[Block]:
    return assigned_notice(view.summary, supporter_slack_id=view.supporter_slack_id)


@render_blocks.register
def _checkin_message(view: CheckinMessage) -> list[Block]:
    return checkin_message(
        view.checkin, viewer_id=view.viewer_id, tz=ZoneInfo(view.tz), reminder=view.reminder
    )


@render_blocks.register
def _checkin_closed(view: CheckinClosed) -> list[Block]:
    return checkin_closed(view.text)


@render_blocks.register
def _attention_alert(view: AttentionAlert) -> list[Block]:
    return attention_alert(view.checkin, role=view.role, name=view.name, note=view.note)


@render_blocks.register
def _completed_notice(view: CompletedNotice) -> list[Block]:
    return completed_notice(view.checkin, name=view.name, role=view.role, impact=view.impact)


@render_blocks.register
def _coordinator_digest(view: CoordinatorDigestMessage) -> list[Block]:
    return coordinator_digest_blocks(view.digest, ZoneInfo(view.tz))


@render_blocks.register
def _personal_digest(view: PersonalDigestMessage) -> list[Block]:
    return personal_digest_blocks(view.digest, view.week, ZoneInfo(view.tz))


@render_blocks.register
def _import_report(view: ImportReportMessage) -> list[Block]:
    return import_report_blocks(view)


@render_blocks.register
def _shadow_invitation(view: ShadowInvitation) -> list[Block]:
    return shadow_invitation(view)
