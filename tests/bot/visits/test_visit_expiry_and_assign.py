"""Open classrooms through the core, on SQLite and PostgreSQL: invitations to host that
nobody answers expire (the visitor and coordinators told, once), and a coordinator assigns a
host by hand within the hosting rules, or setting them aside when they say so."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlmodel import select

from bot.core.errors import Conflict, NotAllowed
from bot.visits.assigning import assign_host
from bot.visits.hosting import decline_visit_offer
from storage.db import transaction
from storage.models import AuditEntry, OfferStatus, VisitOffer, VisitStatus
from tests.support.checkin_world import COORDINATOR_CHANNEL, World, utc
from tests.support.visit_world import (
    accept,
    actions,
    ask,
    book,
    offer_to,
    offers,
    visit,
)

# Asked on Monday 23 November at 09:00: five school days of working hours (08:00-17:00) later.
EXPIRES = utc(2026, 11, 30, 9, 0)


def coordinators_told(world: World) -> list[str]:
    """What the coordinators' channel was sent: each message's text and its blocks."""
    return [
        f"{m['text']} {json.dumps(m.get('blocks'))}"
        for m in world.fake.messages(COORDINATOR_CHANNEL)
    ]


def assign(world: World, visit_id: int, host: str, *, actor: str = "UCOORD", **kw: bool) -> str:
    with transaction(world.runtime.sessions) as session:
        done = assign_host(
            session,
            world.runtime.context(),
            actor=actor,
            visit_id=visit_id,
            host_user_id=host,
            **kw,
        )
    world.runtime.deliverer.drain()
    return done.school


# --- invitations expire ------------------------------------------------------------------------
def test_unanswered_invitations_expire_after_five_school_days(world: World) -> None:
    summary = ask(world)
    with world.runtime.sessions() as session:
        expiries = set(session.exec(select(VisitOffer.expires_at)).all())
    assert expiries == {EXPIRES}
    assert world.at(utc(2026, 11, 30, 8, 59))["visit_offers_expired"] == 0
    assert visit(world, summary.id).status == VisitStatus.OFFERED
    assert world.at(EXPIRES)["visit_offers_expired"] == 1
    assert set(offers(world, summary.id).values()) == {OfferStatus.EXPIRED}
    assert visit(world, summary.id).status == VisitStatus.UNMATCHED
    # Each host's invitation loses its buttons and says why.
    for host in ("UNLE1", "USLE1"):
        assert not world.dms(host, "visit_accept")
        assert any("has expired" in m["text"] for m in world.dms(host))
    told = [m["text"] for m in world.dms("UHEAD1")]
    assert sum("within 5 school days" in t for t in told) == 1
    [notice] = [t for t in coordinators_told(world) if f"Visit #{summary.id}" in t]
    assert "visit-assign" in notice and "within 5 school days" in notice
    assert actions(world, summary.id)[-2:] == ["visit.offers_expired", "visit.expired"]
    # Nothing twice, and a late click is told politely.
    assert world.at(utc(2026, 11, 30, 9, 5))["visit_offers_expired"] == 0
    with pytest.raises(Conflict, match="no longer open"):
        accept(world, summary.id, "UNLE1")


def test_a_decline_then_a_lapse_leaves_the_visit_unmatched_once(world: World) -> None:
    summary = ask(world)
    with transaction(world.runtime.sessions) as session:
        decline_visit_offer(
            session,
            world.runtime.context(),
            actor="UNLE1",
            offer_id=offer_to(world, summary.id, "UNLE1"),
        )
    world.at(EXPIRES)
    assert offers(world, summary.id) == {
        world.person_id("UNLE1"): OfferStatus.DECLINED,
        world.person_id("USLE1"): OfferStatus.EXPIRED,
    }
    assert actions(world, summary.id).count("visit.expired") == 1


def test_an_accepted_visit_never_expires(world: World) -> None:
    summary = ask(world)
    accept(world, summary.id, "UNLE1")
    assert world.at(EXPIRES)["visit_offers_expired"] == 0
    assert visit(world, summary.id).status == VisitStatus.ACCEPTED


# --- a coordinator assigns a host -------------------------------------------------------------
def test_a_coordinator_assigns_a_host_to_an_expired_visit(world: World) -> None:
    summary = ask(world)
    world.at(EXPIRES)
    assert assign(world, summary.id, "USLE1") == "Birch Primary School"
    stored = visit(world, summary.id)
    assert stored.status == VisitStatus.ACCEPTED
    assert stored.host_id == world.person_id("USLE1")
    assert offers(world, summary.id)[world.person_id("USLE1")] == OfferStatus.ACCEPTED
    assert world.dms("USLE1", "visit_pick_date")  # a fresh DM: their invitation had lapsed
    assert any("coordinators have arranged" in m["text"] for m in world.dms("UHEAD1"))
    assert any("assigned <@USLE1>" in t for t in coordinators_told(world))
    assert actions(world, summary.id)[-1] == "visit.host_assigned"
    # The visit goes on as any other: the host books a day, and it can't be assigned again.
    assert "Booked for" in book(world, summary.id, "USLE1", date(2026, 12, 8))
    with pytest.raises(Conflict, match="already has a host"):
        assign(world, summary.id, "UNLE1")


def test_assigning_a_host_who_was_asked_changes_their_invitation_in_place(world: World) -> None:
    summary = ask(world)
    assign(world, summary.id, "UNLE1")
    assert offers(world, summary.id) == {
        world.person_id("UNLE1"): OfferStatus.ACCEPTED,
        world.person_id("USLE1"): OfferStatus.WITHDRAWN,
    }
    [invitation] = [m for m in world.dms("UNLE1") if m["text"].startswith("A coordinator")]
    assert "visit_pick_date" in str(invitation["blocks"])
    assert len(world.dms("UNLE1")) == 1  # the same message, updated
    assert not world.dms("USLE1", "visit_accept")
    assert world.at(EXPIRES)["visit_offers_expired"] == 0


def test_only_coordinators_assign_hosts(world: World) -> None:
    summary = ask(world)
    with pytest.raises(NotAllowed):
        assign(world, summary.id, "USLE1", actor="UHEAD2")
    assert visit(world, summary.id).status == VisitStatus.OFFERED


def test_a_school_that_does_not_host_needs_an_override(world: World) -> None:
    summary = ask(world)
    with pytest.raises(Conflict, match=r"Elm Primary School doesn.t host visits.*override"):
        assign(world, summary.id, "USLE2")
    assert visit(world, summary.id).status == VisitStatus.OFFERED
    assert assign(world, summary.id, "USLE2", override=True) == "Elm Primary School"
    with world.runtime.sessions() as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "visit.host_assigned")
        ).one()
    assert entry.detail["overridden"] == ["doesn't host visits in the directory"]


def test_a_school_full_this_half_term_needs_an_override(world: World) -> None:
    first = ask(world)
    accept(world, first.id, "UNLE1")
    book(world, first.id, "UNLE1", date(2026, 12, 8))  # Oak Hill's one visit this half term
    second = ask(world, user="UHEAD2")
    with pytest.raises(Conflict, match="already has 1 visit"):
        assign(world, second.id, "UNLE1")
    assign(world, second.id, "UNLE1", override=True)
    assert visit(world, second.id).host_id == world.person_id("UNLE1")


def test_the_visitor_and_strangers_cannot_be_made_hosts(world: World) -> None:
    summary = ask(world)
    with pytest.raises(Conflict, match="another school"):
        assign(world, summary.id, "UHEAD1")
    with pytest.raises(Conflict, match="isn't in the directory"):
        assign(world, summary.id, "UNOBODY")
    with pytest.raises(Conflict, match="no school"):
        assign(world, summary.id, "UCOORD")
