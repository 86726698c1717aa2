"""open classrooms: visits, and schools that host them

Revision ID: 0011
Revises: 0012
Create Date: 2026-11-30 05:35:00.206023
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0011"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "visit_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source_key", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("host_id", sa.Integer(), nullable=True),
        sa.Column("host_school_id", sa.Integer(), nullable=True),
        sa.Column("visit_date", sa.Date(), nullable=True),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("booked_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("remind_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("follow_up_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("followed_up_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_until", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("text_erased_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["host_school_id"],
            ["school.id"],
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    with op.batch_alter_table("visit_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_visit_request_created_at"), ["created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_visit_request_followed_up_at"), ["followed_up_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_visit_request_host_id"), ["host_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_visit_request_host_school_id"), ["host_school_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_visit_request_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_visit_request_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_visit_request_visit_date"), ["visit_date"], unique=False
        )
        batch_op.create_index("ix_visit_status_follow_up", ["status", "follow_up_at"], unique=False)
        batch_op.create_index("ix_visit_status_remind", ["status", "remind_at"], unique=False)

    op.create_table(
        "visit_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("usefulness", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("answered_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_id", "person_id", name="uq_visit_feedback"),
    )
    with op.batch_alter_table("visit_feedback", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_visit_feedback_answered_at"), ["answered_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_visit_feedback_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_visit_feedback_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "visit_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reasons", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("responded_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["host_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit_request.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("visit_id", "host_id", name="uq_visit_offer_host"),
    )
    with op.batch_alter_table("visit_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_offer_host_id"), ["host_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_offer_visit_id"), ["visit_id"], unique=False)

    op.create_table(
        "visit_tag",
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("tag_slug", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_slug"],
            ["expertisetag.slug"],
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit_request.id"],
        ),
        sa.PrimaryKeyConstraint("visit_id", "tag_slug"),
    )
    with op.batch_alter_table("visit_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_visit_tag_tag_slug"), ["tag_slug"], unique=False)

    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hosts_visits", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "visits_per_half_term", sa.Integer(), server_default=sa.text("1"), nullable=False
            )
        )


def downgrade() -> None:

    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_column("visits_per_half_term")
        batch_op.drop_column("hosts_visits")

    with op.batch_alter_table("visit_tag", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_tag_tag_slug"))

    op.drop_table("visit_tag")
    with op.batch_alter_table("visit_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_offer_visit_id"))
        batch_op.drop_index(batch_op.f("ix_visit_offer_host_id"))

    op.drop_table("visit_offer")
    with op.batch_alter_table("visit_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_feedback_visit_id"))
        batch_op.drop_index(batch_op.f("ix_visit_feedback_person_id"))
        batch_op.drop_index(batch_op.f("ix_visit_feedback_answered_at"))

    op.drop_table("visit_feedback")
    with op.batch_alter_table("visit_request", schema=None) as batch_op:
        batch_op.drop_index("ix_visit_status_remind")
        batch_op.drop_index("ix_visit_status_follow_up")
        batch_op.drop_index(batch_op.f("ix_visit_request_visit_date"))
        batch_op.drop_index(batch_op.f("ix_visit_request_status"))
        batch_op.drop_index(batch_op.f("ix_visit_request_requester_id"))
        batch_op.drop_index(batch_op.f("ix_visit_request_host_school_id"))
        batch_op.drop_index(batch_op.f("ix_visit_request_host_id"))
        batch_op.drop_index(batch_op.f("ix_visit_request_followed_up_at"))
        batch_op.drop_index(batch_op.f("ix_visit_request_created_at"))

    op.drop_table("visit_request")
