"""an index for the outbox claim's look for earlier messages in the same conversation

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 18:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_conversation",
        "outbox_message",
        ["platform", "channel", "status", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_conversation", table_name="outbox_message")
