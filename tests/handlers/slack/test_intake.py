"""Request intake through Slack: channel posts, /support, the shortcut, edits and cancels."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select

from handlers.slack.stand_in.signing import (
    block_actions_payload,
    message_action_payload,
    message_event,
    new_event_id,
    view_submission_payload,
)
from storage.models import (
    AuditEntry,
    Offer,
    Person,
    PersonRole,
    RequestTag,
    School,
    SupportRequest,
)
from tests.handlers.slack.conftest import COORDINATOR_CHANNEL, SUPPORT_CHANNEL, SlackWorld
from tests.support.blockkit import action_ids, button_value, texts


def requests(slack: SlackWorld) -> list[SupportRequest]:
    with slack.runtime.sessions() as session:
        return list(session.exec(select(SupportRequest).order_by(SupportRequest.id)))


def tags_of(slack: SlackWorld, request_id: int) -> set[str]:
    with slack.runtime.sessions() as session:
        return set(
            session.exec(select(RequestTag.tag_slug).where(RequestTag.request_id == request_id))
        )


def post(slack: SlackWorld, user: str, text: str, **extra: Any) -> dict[str, Any]:
    """A head posts in the support channel; returns the event sent."""
    event = message_event(user, text, SUPPORT_CHANNEL, **extra)
    status, _, _ = slack.sender.event(event, event_id=new_event_id())
    assert status == 200
    slack.settle()
    return event


def thread_replies(slack: SlackWorld, ts: str) -> list[dict[str, Any]]:
    return [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.ok and c.args.get("thread_ts") == ts
    ]


def request_form(
    *,
    title: str = "Support for our new SENCO",
    description: str = "Our SENCO is new and EHCP reviews are piling up. We need help.",
    areas: list[str] | None = None,
    urgency: str = "soon",
    school: str = "Mere Green Primary School",
    extra: dict[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:
    """The request modal's state values as Slack sends them."""
    values: dict[str, dict[str, Any]] = {
        "title": {"value": title},
        "description": {"value": description},
        "areas": {
            "value": {
                "type": "multi_static_select",
                "selected_options": [
                    {"text": {"type": "plain_text", "text": a}, "value": a}
                    for a in (areas if areas is not None else ["send"])
                ],
            }
        },
        "urgency": {
            "value": {
                "type": "radio_buttons",
                "selected_option": {
                    "text": {"type": "plain_text", "text": urgency},
                    "value": urgency,
                },
            }
        },
        "start": {"value": {"type": "datepicker", "selected_date": None}},
        "school": {"value": school},
    }
    values.update(extra or {})
    return values


def select_value(value: str) -> dict[str, Any]:
    return {
        "value": {
            "type": "static_select",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
        }
    }


# --- 1. channel posts -----------------------------------------------------------------------
def test_channel_post_is_captured_tagged_and_answered_in_thread(slack: SlackWorld) -> None:
    slack.import_directory()
    event = post(
        slack,
        "UHEAD1",
        "Our SENCO has gone on long-term sick and we have 6 EHCP reviews due. "
        "Also KS2 maths results were poor. Could anyone help?",
    )
    [request] = requests(slack)
    assert request.status == "open"
    assert request.source == "channel"
    assert tags_of(slack, request.id) == {"send", "maths"}
    [reply] = thread_replies(slack, event["ts"])
    assert reply["channel"] == SUPPORT_CHANNEL
    shown = texts(reply["blocks"])
    assert "Mere Green Primary School" in shown
    assert "Special educational needs" in shown or "SEND" in shown
    assert {"request_confirm", "request_edit", "request_cancel"} <= set(action_ids(reply["blocks"]))
    assert button_value(reply["blocks"], "request_confirm") == str(request.id)


def test_channel_post_with_no_recognisable_need_asks_instead_of_guessing(slack: SlackWorld) -> None:
    slack.import_directory()
    event = post(slack, "UHEAD1", "Hello all, could somebody give me a ring this week please?")
    [request] = requests(slack)
    assert tags_of(slack, request.id) == set()
    [reply] = thread_replies(slack, event["ts"])
    assert "couldn't tell which areas" in texts(reply["blocks"])
    assert "request_confirm" not in action_ids(reply["blocks"])
    assert "request_edit" in action_ids(reply["blocks"])


def test_ignored_message_kinds_create_nothing(slack: SlackWorld) -> None:
    slack.import_directory()
    text = "We need help with SEND and our SENCO"
    kinds = [
        message_event("UHEAD1", text, SUPPORT_CHANNEL, subtype="bot_message", bot_id="B0OTHER"),
        message_event("UHEAD1", text, SUPPORT_CHANNEL, bot_id="B0OTHER"),
        message_event("UHEAD1", text, SUPPORT_CHANNEL, subtype="channel_join"),
        message_event("UHEAD1", text, SUPPORT_CHANNEL, subtype="message_changed"),
        message_event("UHEAD1", text, SUPPORT_CHANNEL, subtype="message_deleted"),
        message_event("UHEAD1", text, SUPPORT_CHANNEL, subtype="thread_broadcast"),
        message_event("UHEAD1", text, SUPPORT_CHANNEL, thread_ts="1700000000.000100"),
        message_event("UHEAD1", text, "C0ELSEWHERE"),
        message_event("UHEAD1", text, "G0ELSEWHERE"),  # a private channel, not the support one
        message_event("UHEAD1", text, COORDINATOR_CHANNEL),
        message_event("UHEAD1", text, "DHEAD1", bot_id="B0OTHER"),
        message_event("UHEAD1", text, "DHEAD1", thread_ts="1700000000.000100"),
    ]
    for event in kinds:
        assert slack.sender.event(event)[0] == 200
    slack.settle()
    assert requests(slack) == []
    assert slack.fake.calls_to("chat.postMessage") == []


# --- 2. /support and the modal --------------------------------------------------------------
def test_support_command_opens_a_prefilled_modal(slack: SlackWorld) -> None:
    slack.import_directory()
    status, _, _ = slack.sender.command(
        "/support", "attendance is 89% and PA is rising", user_id="UHEAD1"
    )
    assert status == 200
    [call] = slack.fake.wait_for("views.open")
    view = call.args["view"]
    assert call.args["trigger_id"]
    assert view["callback_id"] == "request_new"
    areas = next(b for b in view["blocks"] if b.get("block_id") == "areas")
    assert [o["value"] for o in areas["element"]["initial_options"]] == ["attendance"]
    school = next(b for b in view["blocks"] if b.get("block_id") == "school")
    assert school["element"]["initial_value"] == "Mere Green Primary School"
    assert not any(b.get("block_id") == "phase" for b in view["blocks"])


def test_modal_submission_stores_posts_and_routes(slack: SlackWorld) -> None:
    slack.import_directory()
    payload = view_submission_payload(
        "UHEAD1",
        "request_new",
        request_form(areas=["send", "maths"]),
        private_metadata=json.dumps({"source": "command"}),
    )
    status, body, _ = slack.sender.interact(payload)
    assert status == 200 and body in (b"", b"{}")
    slack.settle()
    [request] = requests(slack)
    assert request.source == "command"
    assert tags_of(slack, request.id) == {"send", "maths"}
    channel_posts = [
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.ok and c.args["channel"] == SUPPORT_CHANNEL
    ]
    parent = next(p for p in channel_posts if "thread_ts" not in p)
    shown = texts(parent["blocks"]) + parent["text"]
    assert "Special educational needs" in shown and "Maths" in shown
    assert "SENCO" not in shown and "EHCP" not in shown, "the details stay private"
    parent_ts = slack.fake.messages(SUPPORT_CHANNEL)[0]["ts"]
    assert thread_replies(slack, parent_ts), "the card goes in the post's thread"
    assert request.status == "offered"


def test_invalid_modal_gets_inline_errors_and_changes_nothing(slack: SlackWorld) -> None:
    slack.import_directory()
    payload = view_submission_payload(
        "UHEAD1",
        "request_new",
        request_form(title="", description="help", areas=[], school=""),
        private_metadata=json.dumps({"source": "command"}),
    )
    status, body, _ = slack.sender.interact(payload)
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"title", "description", "areas", "school"}
    slack.settle()
    assert requests(slack) == []


def test_double_submit_creates_one_request(slack: SlackWorld) -> None:
    slack.import_directory()
    payload = view_submission_payload(
        "UHEAD1",
        "request_new",
        request_form(),
        private_metadata=json.dumps({"source": "command"}),
        view_id="VDOUBLE01",
    )
    slack.sender.interact(payload)
    slack.sender.interact(payload)
    slack.settle()
    assert len(requests(slack)) == 1
    posts = [
        c
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == SUPPORT_CHANNEL and "thread_ts" not in c.args
    ]
    assert len(posts) == 1


# --- 3. the message shortcut ----------------------------------------------------------------
def test_message_shortcut_opens_the_modal_prefilled_from_the_message(slack: SlackWorld) -> None:
    slack.import_directory()
    message = slack.fake.add_message(
        "C0STAFFROOM", "Our DSL is off and we've had a safeguarding concern raised", user="UHEAD1"
    )
    payload = message_action_payload(
        "UHEAD1", "request_support_from_message", message, "C0STAFFROOM"
    )
    assert slack.sender.interact(payload)[0] == 200
    [call] = slack.fake.wait_for("views.open")
    view = call.args["view"]
    description = next(b for b in view["blocks"] if b.get("block_id") == "description")
    assert "safeguarding concern" in description["element"]["initial_value"]
    areas = next(b for b in view["blocks"] if b.get("block_id") == "areas")
    assert "safeguarding" in [o["value"] for o in areas["element"]["initial_options"]]
    assert json.loads(view["private_metadata"])["source"] == "shortcut"


# --- someone new to the directory -----------------------------------------------------------
def test_unknown_user_is_asked_once_and_the_request_is_kept(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.fake.users["UNEW1"] = {"real_name": "Nina Newhead"}
    event = post(slack, "UNEW1", "We need support with phonics and early reading in KS1")
    [request] = requests(slack)
    assert request.awaiting_profile
    [reply] = thread_replies(slack, event["ts"])
    assert "request_profile" in action_ids(reply["blocks"])
    assert "request_confirm" not in action_ids(reply["blocks"])

    click = block_actions_payload(
        "UNEW1",
        "request_profile",
        str(request.id),
        channel_id=SUPPORT_CHANNEL,
        message={"ts": "1.1", "blocks": reply["blocks"]},
    )
    slack.sender.interact(click)
    [opened] = slack.fake.wait_for("views.open")
    assert opened.args["view"]["callback_id"] == "profile"

    profile = view_submission_payload(
        "UNEW1",
        "profile",
        {
            "school": {"value": "Newtown Infants"},
            "phase": select_value("primary"),
            "region": select_value("North West"),
        },
        private_metadata=opened.args["view"]["private_metadata"],
    )
    assert slack.sender.interact(profile)[0] == 200
    slack.settle()
    with slack.runtime.sessions() as session:
        person = session.exec(select(Person).where(Person.slack_user_id == "UNEW1")).one()
        assert person.name == "Nina Newhead"
        roles = set(session.exec(select(PersonRole.role).where(PersonRole.person_id == person.id)))
        school = session.get(School, person.school_id)
    assert roles == {"head"}
    assert (school.name, school.phase, school.region) == (
        "Newtown Infants",
        "primary",
        "North West",
    )
    [request] = requests(slack)
    assert not request.awaiting_profile and request.school_id == school.id
    update = slack.fake.calls_to("chat.update")[-1]
    assert "request_confirm" in action_ids(update.args["blocks"])


def test_unknown_user_gives_school_phase_and_region_in_the_modal(slack: SlackWorld) -> None:
    slack.import_directory()
    slack.sender.command("/support", "help with behaviour", user_id="UNEW2")
    [call] = slack.fake.wait_for("views.open")
    blocks = {b.get("block_id") for b in call.args["view"]["blocks"]}
    assert {"school", "phase", "region"} <= blocks
    missing = view_submission_payload(
        "UNEW2",
        "request_new",
        request_form(school="Hilltop Academy"),
        private_metadata=json.dumps({"source": "command"}),
    )
    answer = json.loads(slack.sender.interact(missing)[1])
    assert set(answer["errors"]) == {"phase", "region"}
    complete = view_submission_payload(
        "UNEW2",
        "request_new",
        request_form(
            school="Hilltop Academy",
            extra={"phase": select_value("secondary"), "region": select_value("London")},
        ),
        private_metadata=json.dumps({"source": "command"}),
    )
    slack.sender.interact(complete)
    slack.settle()
    with slack.runtime.sessions() as session:
        person = session.exec(select(Person).where(Person.slack_user_id == "UNEW2")).one()
        school = session.get(School, person.school_id)
    assert (school.name, school.phase, school.region) == ("Hilltop Academy", "secondary", "London")
    assert len(requests(slack)) == 1


# --- edit and cancel permissions ------------------------------------------------------------
def _captured(slack: SlackWorld) -> tuple[SupportRequest, dict[str, Any]]:
    event = post(slack, "UHEAD1", "Help please: our maths lead has left and KS2 maths is slipping")
    [reply] = thread_replies(slack, event["ts"])
    return requests(slack)[0], {"ts": "9.9", "blocks": reply["blocks"]}


def test_only_the_head_or_a_coordinator_can_edit(slack: SlackWorld) -> None:
    slack.import_directory()
    request, message = _captured(slack)
    slack.fake.clear()
    slack.sender.interact(
        block_actions_payload(
            "UHEAD2", "request_edit", str(request.id), channel_id=SUPPORT_CHANNEL, message=message
        )
    )
    slack.settle()
    assert slack.fake.calls_to("views.open") == []
    [refusal] = slack.fake.calls_to("response_url")
    assert refusal.args["user"] == "UHEAD2"
    assert "Only the head who asked" in refusal.args["text"]
    with slack.runtime.sessions() as session:
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "request.edit.refused"))
        assert [a.actor for a in audit] == ["UHEAD2"]

    for user in ("UHEAD1", "UCOORD"):
        slack.sender.interact(
            block_actions_payload(
                user, "request_edit", str(request.id), channel_id=SUPPORT_CHANNEL, message=message
            )
        )
    opened = slack.fake.wait_for("views.open", count=2)
    view = opened[0].args["view"]
    assert view["callback_id"] == "request_edit"

    edit = view_submission_payload(
        "UHEAD1",
        "request_edit",
        request_form(title="Maths lead support", areas=["maths", "curriculum"]),
        private_metadata=view["private_metadata"],
    )
    assert slack.sender.interact(edit)[0] == 200
    slack.settle()
    [edited] = requests(slack)
    assert edited.title == "Maths lead support"
    assert tags_of(slack, edited.id) == {"maths", "curriculum"}
    assert any(
        "Maths lead support" in texts(c.args["blocks"]) for c in slack.fake.calls_to("chat.update")
    )


def test_edit_by_someone_else_through_a_forged_submission_is_refused(slack: SlackWorld) -> None:
    slack.import_directory()
    request, _ = _captured(slack)
    forged = view_submission_payload(
        "UHEAD2",
        "request_edit",
        request_form(title="Hijacked"),
        private_metadata=json.dumps({"request_id": request.id}),
    )
    status, body, _ = slack.sender.interact(forged)
    assert status == 200
    assert json.loads(body)["response_action"] == "update"
    slack.settle()
    assert requests(slack)[0].title != "Hijacked"


def _edit_form_then(slack: SlackWorld, *clicks: tuple[str, str]) -> tuple[SupportRequest, str]:
    """The head opens *Edit*; then, while the form is open, `clicks` happen (user, action on
    the request). Returns the request and the edit form's metadata."""
    slack.import_directory()
    request, message = _captured(slack)
    slack.sender.interact(
        block_actions_payload(
            "UHEAD1", "request_edit", str(request.id), channel_id=SUPPORT_CHANNEL, message=message
        )
    )
    [opened] = slack.fake.wait_for("views.open")
    for user, action in clicks:
        if action == "offer_accept":
            with slack.runtime.sessions() as session:
                supporter = session.exec(select(Person).where(Person.slack_user_id == user)).one()
                offer = session.exec(select(Offer).where(Offer.supporter_id == supporter.id)).one()
            slack.sender.interact(block_actions_payload(user, action, str(offer.id)))
        else:
            slack.sender.interact(
                block_actions_payload(user, action, str(request.id), channel_id=SUPPORT_CHANNEL)
            )
        slack.settle()
    return request, opened.args["view"]["private_metadata"]


def _told_after(slack: SlackWorld, since: int) -> list[str]:
    """Every message the bot sent anyone after the first `since` calls."""
    said = ("chat.postMessage", "chat.postEphemeral", "response_url")
    return [str(c.args.get("text")) for c in slack.fake.calls[since:] if c.method in said]


def test_an_edit_saved_after_acceptance_keeps_the_form_and_says_whom_to_tell(
    slack: SlackWorld,
) -> None:
    """The head had *Edit* open when Sam accepted. Saving can't change the request now, so the
    form stays open with what they typed (to copy on a phone), saying once, at its top, that
    Sam has it and can be messaged directly; no DM says it again."""
    request, metadata = _edit_form_then(
        slack, ("UHEAD1", "request_confirm"), ("USLE1", "offer_accept")
    )
    before = len(slack.fake.calls)
    status, body, _ = slack.sender.interact(
        view_submission_payload(
            "UHEAD1",
            "request_edit",
            request_form(title="Governance now", areas=["governance"]),
            private_metadata=metadata,
        )
    )
    slack.settle()
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors" and list(answer["errors"]) == ["title"]
    said = answer["errors"]["title"]
    assert "Sam Specialist has already accepted this request" in said
    assert "message them directly" in said and "copy" in said.lower()
    assert _told_after(slack, before) == []
    [after] = requests(slack)
    assert (after.status, after.title) == ("accepted", request.title)
    # *Cancel* on a card not yet refreshed: the coordinators can end it instead.
    slack.sender.interact(
        block_actions_payload(
            "UHEAD1", "request_cancel", str(request.id), channel_id=SUPPORT_CHANNEL
        )
    )
    slack.settle()
    assert "Sam Specialist has already accepted this request, so it can't be cancelled now." in (
        " ".join(slack.fake.replies_to("UHEAD1"))
    )
    assert "your coordinators can end the support" in " ".join(slack.fake.replies_to("UHEAD1"))
    assert tags_of(slack, after.id or 0) == tags_of(slack, request.id or 0) != {"governance"}


def test_an_edit_saved_after_cancelling_says_so_once_in_the_form(slack: SlackWorld) -> None:
    request, metadata = _edit_form_then(slack, ("UHEAD1", "request_cancel"))
    before = len(slack.fake.calls)
    status, body, _ = slack.sender.interact(
        view_submission_payload(
            "UHEAD1", "request_edit", request_form(title="Changed"), private_metadata=metadata
        )
    )
    slack.settle()
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "errors"
    assert (
        "This request has been cancelled, so it can't be edited now." in answer["errors"]["title"]
    )
    assert _told_after(slack, before) == []
    assert requests(slack)[0].title == request.title


def test_cancel_by_the_head_tells_everyone_offered(slack: SlackWorld) -> None:
    slack.import_directory()
    request, message = _captured(slack)
    slack.sender.interact(
        block_actions_payload(
            "UHEAD1",
            "request_confirm",
            str(request.id),
            channel_id=SUPPORT_CHANNEL,
            message=message,
        )
    )
    slack.settle()
    offered = {
        c.args["channel"]
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"].startswith("U")
    }
    assert offered, "the request was offered to someone"

    slack.sender.interact(
        block_actions_payload(
            "UHEAD2", "request_cancel", str(request.id), channel_id=SUPPORT_CHANNEL, message=message
        )
    )
    slack.settle()
    assert requests(slack)[0].status == "offered"

    slack.sender.interact(
        block_actions_payload(
            "UHEAD1", "request_cancel", str(request.id), channel_id=SUPPORT_CHANNEL, message=message
        )
    )
    slack.settle()
    assert requests(slack)[0].status == "cancelled"
    updated_dms = {
        c.args["channel"]
        for c in slack.fake.calls_to("chat.update")
        if "cancelled by the school" in c.args.get("text", "")
    }
    assert updated_dms == {f"D{user[1:]}" for user in offered}


# --- escaping and size ----------------------------------------------------------------------
def test_mentions_and_channel_pings_are_escaped(slack: SlackWorld) -> None:
    slack.import_directory()
    payload = view_submission_payload(
        "UHEAD1",
        "request_new",
        request_form(
            title="<!channel> urgent <@UCOORD>",
            description="Help with SEND <!here> and <https://evil.example|click me> & more",
        ),
        private_metadata=json.dumps({"source": "command"}),
    )
    slack.sender.interact(payload)
    slack.settle()
    for call in slack.fake.calls_to("chat.postMessage"):
        shown = texts(call.args.get("blocks")) + call.args.get("text", "")
        assert "<!channel>" not in shown and "<!here>" not in shown
        assert "<https://evil" not in shown and "<@UCOORD>" not in shown
    offer_blocks = next(
        c.args["blocks"]
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"].startswith("U")
    )
    assert "&lt;!channel&gt; urgent &lt;@UCOORD&gt;" in texts(offer_blocks)
    assert "&amp; more" in texts(offer_blocks)


def test_a_post_is_kept_as_people_read_it_not_as_slack_escapes_it(slack: SlackWorld) -> None:
    slack.import_directory()
    # What Slack sends for "Our SEND & inclusion lead has left, <@…> says EHCPs are late":
    # & as &amp;, the mention as markup. Stored like that, "&amp;" reached supporters.
    slack.fake.users["UCOORD"] = {"real_name": "Al Lee"}
    post(slack, "UHEAD1", "Our SEND &amp; inclusion lead has left, <@UCOORD> says EHCPs are late")
    post(slack, "UHEAD2", "Pupils scoring &lt;30 and &gt;70 in KS2 maths need different help")
    slack.settle()
    request, scores = requests(slack)
    assert scores.title == "Pupils scoring <30 and >70 in KS2 maths need different help"
    assert request.description == "Our SEND & inclusion lead has left, @Al Lee says EHCPs are late"
    assert request.title == request.description  # read once: not stripped again as markup
    request_id = request.id
    slack.sender.interact(block_actions_payload("UHEAD1", "request_confirm", str(request_id)))
    slack.settle()
    offer = next(
        c.args["blocks"]
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"].startswith("U")
    )
    assert "SEND &amp; inclusion" in texts(offer) and "&amp;amp;" not in texts(offer)


def test_an_over_long_post_is_shown_cut_with_a_way_to_read_it_all(slack: SlackWorld) -> None:
    slack.import_directory()
    long_text = "We need help with SEND. " + ("Our EHCP caseload keeps growing. " * 1500)
    payload = view_submission_payload(
        "UHEAD1",
        "request_new",
        request_form(description=long_text[:3000]),
        private_metadata=json.dumps({"source": "command"}),
    )
    slack.sender.interact(payload)
    event = post(slack, "UHEAD1", long_text)
    failures = [c for c in slack.fake.calls if not c.ok and c.method != "auth.test"]
    assert failures == [], [c.response for c in failures]
    parent = next(
        c.args
        for c in slack.fake.calls_to("chat.postMessage")
        if c.args["channel"] == SUPPORT_CHANNEL and "thread_ts" not in c.args
    )
    assert "request_show_full" in action_ids(parent["blocks"])
    request = requests(slack)[-1]
    assert request.description == long_text[:3000]  # cut to the documented limit
    assert thread_replies(slack, event["ts"])

    first = str(requests(slack)[0].id)
    shown = {"ts": "1.2", "blocks": parent["blocks"]}
    slack.sender.interact(
        block_actions_payload(
            "UHEAD2", "request_show_full", first, channel_id=SUPPORT_CHANNEL, message=shown
        )
    )
    slack.settle()
    assert slack.fake.calls_to("views.open") == [], "another school's head can't read it"
    refusals = slack.fake.replies_to("UHEAD2")
    assert any("shared only with" in text for text in refusals)
    slack.sender.interact(
        block_actions_payload(
            "UHEAD1", "request_show_full", first, channel_id=SUPPORT_CHANNEL, message=shown
        )
    )
    [opened] = slack.fake.wait_for("views.open")
    assert opened.ok
    assert len(opened.args["view"]["blocks"]) > 1
    assert "EHCP caseload" in texts(opened.args["view"]["blocks"])


def test_a_profile_saved_while_the_request_was_cancelled_keeps_it_cancelled(
    slack: SlackWorld,
) -> None:
    from bot.requests.intake import save_profile

    slack.import_directory()
    slack.fake.users["UNEW1"] = {"real_name": "Nina Newhead"}
    post(slack, "UNEW1", "We need support with phonics and early reading in KS1")
    [request] = requests(slack)
    # The profile save read the waiting request (PostgreSQL: before the cancel committed).
    late = slack.runtime.sessions()
    late.info["read"] = late.get(SupportRequest, request.id)
    late.commit()
    slack.sender.interact(
        block_actions_payload(
            "UNEW1", "request_cancel", str(request.id), channel_id=SUPPORT_CHANNEL
        )
    )
    slack.settle()
    with late, late.begin():
        [summary] = save_profile(
            late,
            slack.runtime.vocabulary,
            now=slack.clock.now(),
            user="UNEW1",
            user_name="Nina Newhead",
            school_name="Newtown Infants",
            phase="primary",
            region="North West",
        )
    slack.runtime.deliverer.kick()
    slack.settle()
    assert summary.status == "cancelled"
    [request] = requests(slack)
    assert request.status == "cancelled"
    card = slack.fake.calls_to("chat.update")[-1]
    assert "request_confirm" not in action_ids(card.args["blocks"])
    assert "cancelled" in card.args["text"]
