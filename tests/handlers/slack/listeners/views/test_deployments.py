"""The lifecycle forms' submission listeners, called as Bolt calls them."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import MagicMock

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from handlers.slack.listeners.views import deployments
from storage.models import Deployment, DeploymentObjective, DeploymentVisit
from tests.handlers.slack.listeners.actions.test_deployments import deployed
from tests.handlers.slack.listeners.conftest import COORDINATOR, Ack, submission


def _text(value: str) -> dict[str, str]:
    return {"type": "plain_text_input", "value": value}


def _objectives(ctx: Runtime) -> list[str]:
    with Session(ctx.engine) as session:
        return [o.text for o in session.exec(select(DeploymentObjective))]


def test_on_agreement_saves_before_the_ack(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    deployment_id, supporter = deployed(ctx, client)
    ack.check = lambda: _objectives(ctx)
    values = {
        "objectives": _text("Register\nTraining"),
        "days": {"type": "number_input", "value": "4"},
    }
    meta = json.dumps({"deployment_id": deployment_id})
    body = submission(supporter, "deployment_agreement_form", values, meta)
    deployments.on_agreement(ctx, ack=ack, body=body)
    assert ack.once == {}
    assert ack.seen == [["Register", "Training"]]


def test_on_log_with_days_that_are_not_a_number_changes_nothing(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, supporter = deployed(ctx, client)
    meta = json.dumps({"deployment_id": deployment_id, "checkin_id": None})
    values = {"days": {"type": "number_input", "value": "two"}}
    deployments.on_log(
        ctx, ack=ack, body=submission(supporter, "deployment_log_form", values, meta)
    )
    assert ack.once == {
        "response_action": "errors",
        "errors": {"days": "Please give a number of days, such as 1 or 0.5."},
    }
    with Session(ctx.engine) as session:
        assert session.exec(select(DeploymentVisit)).all() == []


def test_a_form_without_its_deployment_is_not_saved(ctx: Runtime, ack: Ack) -> None:
    body = submission("USLE1", "deployment_visit_form", {}, "")
    deployments.on_visit(ctx, ack=ack, body=body)
    assert ack.once["response_action"] == "update"


def test_on_end_ends_the_support_before_the_ack(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    deployment_id, _ = deployed(ctx, client)

    def status() -> str:
        with Session(ctx.engine) as session:
            return str(session.exec(select(Deployment.status)).one())

    ack.check = status
    meta = json.dumps({"deployment_id": deployment_id})
    body = submission(COORDINATOR, "deployment_end_form", {"reason": _text("Merged")}, meta)
    deployments.on_end(ctx, ack=ack, body=body)
    assert ack.once == {}
    assert ack.seen == ["cancelled"]


def _chosen(deployment_id: int) -> dict[str, Any]:
    label = {"type": "plain_text", "text": "Mere Green", "emoji": True}
    return {
        "type": "external_select",
        "selected_option": {"text": label, "value": str(deployment_id)},
    }


def test_on_end_any_ends_the_chosen_support_before_the_ack(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, _ = deployed(ctx, client)

    def status() -> str:
        with Session(ctx.engine) as session:
            return str(session.exec(select(Deployment.status)).one())

    ack.check = status
    values = {"support": _chosen(deployment_id), "reason": _text("Merged")}
    deployments.on_end_any(
        ctx, ack=ack, body=submission(COORDINATOR, "deployment_end_any_form", values)
    )
    assert ack.once == {}
    assert ack.seen == ["cancelled"]


def test_on_end_any_without_a_choice_asks_again(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    deployed(ctx, client)
    values = {"support": {"type": "external_select", "selected_option": None}}
    deployments.on_end_any(
        ctx, ack=ack, body=submission(COORDINATOR, "deployment_end_any_form", values)
    )
    assert ack.once == {
        "response_action": "errors",
        "errors": {"support": "Please choose the support to end."},
    }
    with Session(ctx.engine) as session:
        assert session.exec(select(Deployment.status)).one() == "active"


def test_on_end_without_a_reason_asks_again(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    deployment_id, _ = deployed(ctx, client)
    meta = json.dumps({"deployment_id": deployment_id})
    body = submission(COORDINATOR, "deployment_end_form", {"reason": _text(" ")}, meta)
    deployments.on_end(ctx, ack=ack, body=body)
    assert ack.once == {
        "response_action": "errors",
        "errors": {"reason": "Please say briefly why the support is ending."},
    }


def _change(value: str) -> dict[str, Any]:
    label = {"type": "plain_text", "text": value, "emoji": True}
    return {"type": "radio_buttons", "selected_option": {"text": label, "value": value}}


def test_on_checkins_pauses_them_before_the_ack(ctx: Runtime, ack: Ack, client: MagicMock) -> None:
    deployment_id, _ = deployed(ctx, client)

    def paused() -> bool:
        with Session(ctx.engine) as session:
            return session.exec(select(Deployment.checkins_paused)).one()

    ack.check = paused
    values = {"support": _chosen(deployment_id), "change": _change("pause")}
    deployments.on_checkins(
        ctx, ack=ack, body=submission(COORDINATOR, "deployment_checkins_form", values)
    )
    assert ack.once == {}
    assert ack.seen == [True]


def test_on_checkins_with_a_forged_change_asks_again(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, _ = deployed(ctx, client)
    values = {"support": _chosen(deployment_id), "change": _change("stop")}
    deployments.on_checkins(
        ctx, ack=ack, body=submission(COORDINATOR, "deployment_checkins_form", values)
    )
    assert ack.once == {
        "response_action": "errors",
        "errors": {"change": "Please choose what should happen to its check-ins."},
    }
    with Session(ctx.engine) as session:
        assert session.exec(select(Deployment.checkins_paused)).one() is False
