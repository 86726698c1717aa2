"""Scheduled routing work: offers nobody answered in time expire and their requests move on
(the next round, or the coordinators), one request per transaction."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.routing.service import expire_offers_of, requests_with_overdue_offers
from storage.db import each_in_its_own_transaction

if TYPE_CHECKING:
    from bot.core.context import Services

log = logging.getLogger(__name__)


def expire_overdue_offers(runtime: Services) -> int:
    """Expire every offer past its time, one request per transaction; returns how many
    requests moved on. A request that fails is logged and left for the next run, and the
    others still expire."""
    ctx = runtime.context()
    with runtime.sessions() as session:
        request_ids = requests_with_overdue_offers(session, ctx)
    return each_in_its_own_transaction(
        runtime.sessions,
        request_ids,
        lambda session, request_id: expire_offers_of(session, ctx, request_id),
        log=log,
        failed="expiring offers failed for request %s; next run retries",
    )
