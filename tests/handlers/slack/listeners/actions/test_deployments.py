"""Each lifecycle button's listener, called as Bolt calls it."""

from __future__ import annotations

from unittest.mock import MagicMock

from sqlmodel import Session, select

from bot.entry.runtime import Runtime
from handlers.slack.listeners.actions import deployments, offers
from storage.models import Deployment, DeploymentPlan, DeploymentReview
from tests.handlers.slack.listeners.conftest import (
    COORDINATOR,
    HEAD,
    Ack,
    click,
    new_request,
    offers_of,
)


def deployed(ctx: Runtime, client: MagicMock) -> tuple[int, str]:
    """An accepted request: (the deployment id, the supporter)."""
    request_id = new_request(ctx)
    offer_id, supporter, _ = offers_of(ctx, request_id)[0]
    offers.on_accept(
        ctx, ack=Ack(), body=click(supporter, "offer_accept", str(offer_id)), client=client
    )
    with Session(ctx.engine) as session:
        deployment = session.exec(select(Deployment)).one()
        return int(deployment.id or 0), supporter


def plan(ctx: Runtime, deployment_id: int) -> DeploymentPlan | None:
    with Session(ctx.engine) as session:
        return session.get(DeploymentPlan, deployment_id)


def test_on_skip_acks_after_the_skip_is_committed(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, supporter = deployed(ctx, client)
    ack.check = lambda: bool((found := plan(ctx, deployment_id)) and found.first_visit_skipped)
    body = click(supporter, "deployment_skip_visit", f"{deployment_id}:visit")
    deployments.on_skip(ctx, ack=ack, body=body, client=client)
    assert ack.once == {}
    assert ack.seen == [True]


def test_on_review_records_the_answer_before_the_ack(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, _ = deployed(ctx, client)

    def answers() -> list[str]:
        with Session(ctx.engine) as session:
            return [r.decision for r in session.exec(select(DeploymentReview))]

    ack.check = answers
    body = click(HEAD, "deployment_review_adjust", f"{deployment_id}:adjust")
    deployments.on_review(ctx, ack=ack, body=body, client=client)
    assert ack.seen == [["adjust"]]


def test_on_agreement_opens_the_form_for_the_supporter_only(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, supporter = deployed(ctx, client)
    deployments.on_agreement(
        ctx, ack=ack, body=click(HEAD, "deployment_agreement", str(deployment_id)), client=client
    )
    client.views_open.assert_not_called()
    deployments.on_agreement(
        ctx,
        ack=Ack(),
        body=click(supporter, "deployment_agreement", str(deployment_id)),
        client=client,
    )
    view = client.views_open.call_args.kwargs["view"]
    assert view["callback_id"] == "deployment_agreement_form"
    assert ack.once == {}


def test_a_button_pointing_nowhere_is_answered_politely(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployments.on_confirm(
        ctx, ack=ack, body=click(HEAD, "deployment_confirm_agreement", "nonsense"), client=client
    )
    assert ack.once == {}


def test_on_end_opens_the_reason_form_for_a_coordinator_only(
    ctx: Runtime, ack: Ack, client: MagicMock
) -> None:
    deployment_id, supporter = deployed(ctx, client)
    for someone in (HEAD, supporter):
        body = click(someone, "deployment_end", str(deployment_id))
        deployments.on_end(ctx, ack=Ack(), body=body, client=client)
    client.views_open.assert_not_called()
    body = click(COORDINATOR, "deployment_end", str(deployment_id))
    deployments.on_end(ctx, ack=ack, body=body, client=client)
    view = client.views_open.call_args.kwargs["view"]
    assert view["callback_id"] == "deployment_end_form"
    assert ack.once == {}
