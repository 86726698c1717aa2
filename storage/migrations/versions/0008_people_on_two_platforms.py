"""people on Slack, Teams or both; Teams conversation references

A person gains `teams_user_id` (their Entra object id) and `preferred_platform`; their
`slack_user_id` may now be empty, but one of the two ids must be there. Teams conversation
references are kept in `teams_conversation_ref` so the bot can write to people proactively.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 05:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.alter_column(
            "slack_user_id", existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=True
        )
        batch_op.add_column(
            sa.Column("teams_user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                "preferred_platform",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=True,
            )
        )
        batch_op.create_index(batch_op.f("ix_person_teams_user_id"), ["teams_user_id"], unique=True)
        batch_op.create_check_constraint(
            "ck_person_has_platform_id", "slack_user_id IS NOT NULL OR teams_user_id IS NOT NULL"
        )
    op.create_table(
        "teams_conversation_ref",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("conversation_type", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("teams_user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("tenant_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("service_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reference", sa.JSON(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("conversation_id"),
        sa.UniqueConstraint("teams_user_id"),
    )


def downgrade() -> None:
    op.drop_table("teams_conversation_ref")
    teams_only = op.get_bind().execute(
        sa.text("SELECT count(*) FROM person WHERE slack_user_id IS NULL")
    )
    if teams_only.scalar():
        raise RuntimeError("people known only on Teams cannot go back to a Slack-only directory")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("ck_person_has_platform_id", type_="check")
        batch_op.drop_index(batch_op.f("ix_person_teams_user_id"))
        batch_op.drop_column("preferred_platform")
        batch_op.drop_column("teams_user_id")
        batch_op.alter_column(
            "slack_user_id", existing_type=sqlmodel.sql.sqltypes.AutoString(), nullable=False
        )
