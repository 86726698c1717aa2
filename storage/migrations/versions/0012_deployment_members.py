"""deployment members: colleagues and shadows on a deployment

Team deployments and growing leaders (issue #13, parts 5 and 6): `deployment_member` holds
the colleagues a lead supporter adds from their own school and the aspiring leaders who
shadow a deployment. The lead supporter stays `deployment.supporter_id`.

Revision ID: 0012
Revises: 0009
Create Date: 2026-11-30 05:34:50.602139
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deployment_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.Column("added_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["added_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["removed_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("deployment_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deployment_member_added_at"), ["added_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deployment_member_deployment_id"), ["deployment_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deployment_member_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            "uq_deployment_member_current",
            ["deployment_id", "person_id"],
            unique=True,
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("deployment_member", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_deployment_member_current",
            sqlite_where=sa.text("removed_at IS NULL"),
            postgresql_where=sa.text("removed_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_deployment_member_person_id"))
        batch_op.drop_index(batch_op.f("ix_deployment_member_deployment_id"))
        batch_op.drop_index(batch_op.f("ix_deployment_member_added_at"))
    op.drop_table("deployment_member")
