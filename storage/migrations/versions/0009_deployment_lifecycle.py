"""the deployment lifecycle: first visit, agreement and objectives, visits, review, impact

Existing deployments get a plan row straight away, so the upgrade does not send them the
"next steps" message meant for new deployments.

Revision ID: 0009
Revises: 0010
Create Date: 2026-11-30 05:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0009"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = storage.models.UTCDateTime(timezone=True)
TEXT = sqlmodel.sql.sqltypes.AutoString()


def upgrade() -> None:
    op.create_table(
        "deployment_plan",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("first_visit_on", sa.Date(), nullable=True),
        sa.Column("first_visit_skipped", sa.Boolean(), nullable=False),
        sa.Column("expected_impact", sa.Text(), nullable=True),
        sa.Column("days_committed", sa.Float(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("agreement_drafted_by", sa.Integer(), nullable=True),
        sa.Column("agreement_drafted_at", TS, nullable=True),
        sa.Column("agreement_confirmed_by", sa.Integer(), nullable=True),
        sa.Column("agreement_confirmed_at", TS, nullable=True),
        sa.Column("agreement_skipped", sa.Boolean(), nullable=False),
        sa.Column("review_due_at", TS, nullable=True),
        sa.Column("review_sent_at", TS, nullable=True),
        sa.Column("review_skipped", sa.Boolean(), nullable=False),
        sa.Column("closing_asked_at", TS, nullable=True),
        sa.Column("next_steps_sent_at", TS, nullable=True),
        sa.Column("text_erased_at", TS, nullable=True),
        sa.ForeignKeyConstraint(["agreement_confirmed_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["agreement_drafted_by"], ["person.id"]),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"]),
        sa.PrimaryKeyConstraint("deployment_id"),
    )
    with op.batch_alter_table("deployment_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deployment_plan_review_due_at"), ["review_due_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deployment_plan_closing_asked_at"), ["closing_asked_at"], unique=False
        )

    op.create_table(
        "deployment_objective",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("rating", TEXT, nullable=True),
        sa.Column("head_comment", sa.Text(), nullable=True),
        sa.Column("supporter_comment", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("deployment_id", "position", name="uq_deployment_objective_position"),
    )
    op.create_index(
        op.f("ix_deployment_objective_deployment_id"), "deployment_objective", ["deployment_id"]
    )

    op.create_table(
        "deployment_visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("checkin_id", sa.Integer(), nullable=True),
        sa.Column("visited_on", sa.Date(), nullable=True),
        sa.Column("days", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("form_key", TEXT, nullable=True),
        sa.ForeignKeyConstraint(["checkin_id"], ["checkin.id"]),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("checkin_id", "person_id", name="uq_deployment_visit_checkin_person"),
        sa.UniqueConstraint("form_key"),
    )
    op.create_index(
        op.f("ix_deployment_visit_deployment_id"), "deployment_visit", ["deployment_id"]
    )
    op.create_index(op.f("ix_deployment_visit_person_id"), "deployment_visit", ["person_id"])

    for table, extra, unique in (
        (
            "deployment_review",
            [
                sa.Column("role", TEXT, nullable=False),
                sa.Column("decision", TEXT, nullable=False),
                sa.Column("note", sa.Text(), nullable=True),
                sa.Column("answered_at", TS, nullable=False),
            ],
            "uq_deployment_review_person",
        ),
        (
            "deployment_impact",
            [
                sa.Column("role", TEXT, nullable=False),
                sa.Column("comment", sa.Text(), nullable=True),
                sa.Column("recorded_at", TS, nullable=False),
            ],
            "uq_deployment_impact_person",
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("deployment_id", sa.Integer(), nullable=False),
            sa.Column("person_id", sa.Integer(), nullable=False),
            *extra,
            sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"]),
            sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("deployment_id", "person_id", name=unique),
        )
        op.create_index(op.f(f"ix_{table}_deployment_id"), table, ["deployment_id"])
        op.create_index(op.f(f"ix_{table}_person_id"), table, ["person_id"])

    # Deployments that began before this upgrade are not sent the new "next steps" message,
    # and those already over are not asked for a closing impact record.
    op.execute(
        "INSERT INTO deployment_plan (deployment_id, created_at, first_visit_skipped, "
        "agreement_skipped, review_skipped, next_steps_sent_at, closing_asked_at) "
        "SELECT id, started_at, false, false, false, started_at, "
        "CASE WHEN status = 'active' THEN NULL ELSE COALESCE(ended_at, started_at) END "
        "FROM deployment"
    )


def downgrade() -> None:
    for table in ("deployment_impact", "deployment_review"):
        op.drop_index(op.f(f"ix_{table}_person_id"), table_name=table)
        op.drop_index(op.f(f"ix_{table}_deployment_id"), table_name=table)
        op.drop_table(table)
    op.drop_index(op.f("ix_deployment_visit_person_id"), table_name="deployment_visit")
    op.drop_index(op.f("ix_deployment_visit_deployment_id"), table_name="deployment_visit")
    op.drop_table("deployment_visit")
    op.drop_index(op.f("ix_deployment_objective_deployment_id"), table_name="deployment_objective")
    op.drop_table("deployment_objective")
    with op.batch_alter_table("deployment_plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployment_plan_closing_asked_at"))
        batch_op.drop_index(batch_op.f("ix_deployment_plan_review_due_at"))
    op.drop_table("deployment_plan")
