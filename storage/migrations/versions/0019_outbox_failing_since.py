"""the outbox gives up on a message that never goes through: `outbox_message.failing_since`

When a message's first failed attempt was; a message still failing `OUTBOX_GIVE_UP_HOURS`
later (and tried a few times) is failed for good. Rows already being retried when this runs
start their clock at their next failure.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("failing_since", storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
