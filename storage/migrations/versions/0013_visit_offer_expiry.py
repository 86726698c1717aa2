"""visit offers expire: `visit_offer.expires_at`

An invitation to host a visit that nobody answers expires after VISIT_OFFER_TIMEOUT_DAYS
school days, as offers of requests do. Invitations still open when this runs are given a
week from when they were made, so none waits for ever.

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-30 08:50:00.000000
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("visit_offer", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_visit_offer_status_expires", ["status", "expires_at"], unique=False
        )
    offers = sa.table(
        "visit_offer",
        sa.column("id", sa.Integer()),
        sa.column("status", sa.String()),
        sa.column("created_at", storage.models.UTCDateTime(timezone=True)),
        sa.column("expires_at", storage.models.UTCDateTime(timezone=True)),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(offers.c.id, offers.c.created_at).where(offers.c.status == "open")
    ).all()
    for offer_id, created_at in rows:
        connection.execute(
            offers.update()
            .where(offers.c.id == offer_id)
            .values(expires_at=created_at + timedelta(days=7))
        )


def downgrade() -> None:
    with op.batch_alter_table("visit_offer", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_offer_status_expires")
        batch_op.drop_column("expires_at")
