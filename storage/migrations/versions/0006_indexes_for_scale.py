"""indexes for scale: digest periods, routing history, outbox pruning

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-30 04:10:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_support_request_created_at", "support_request", ["created_at"]),
    ("ix_support_request_closed_at", "support_request", ["closed_at"]),
    ("ix_deployment_started_at", "deployment", ["started_at"]),
    ("ix_deployment_ended_at", "deployment", ["ended_at"]),
    ("ix_deployment_supporter_started", "deployment", ["supporter_id", "started_at"]),
    ("ix_checkin_answer_answered_at", "checkin_answer", ["answered_at"]),
    ("ix_checkin_answer_outcome", "checkin_answer", ["outcome"]),
    ("ix_outbox_status_sent", "outbox_message", ["status", "sent_at"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
