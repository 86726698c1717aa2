"""indexes for the digest's acceptance and missed check-in periods

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:55:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_support_request_accepted_at", "support_request", ["accepted_at"]),
    ("ix_checkin_missed_at", "checkin", ["missed_at"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
