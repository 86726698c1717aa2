"""an index for the digest's visits booked in the week

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_visit_request_booked_at", "visit_request", ["booked_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_visit_request_booked_at", table_name="visit_request")
