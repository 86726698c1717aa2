"""the committed batches of a directory import that may be done again

A Slack directory import cut short (the process stopped) is done again by the due work; each
batch's outcome is saved with the batch, so that run skips what was saved and its report is
true for the whole file.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.models

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("file_digest", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("saved_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_directory_import_batch_import_key",
        "directory_import_batch",
        ["import_key"],
        unique=False,
    )
    op.create_index(
        "ix_directory_import_batch_saved_at", "directory_import_batch", ["saved_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_directory_import_batch_saved_at", table_name="directory_import_batch")
    op.drop_index("ix_directory_import_batch_import_key", table_name="directory_import_batch")
    op.drop_table("directory_import_batch")
