"""schools carry their multi-academy trust; people the date they are available from

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30 05:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trust", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("available_from", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("available_from")
    with op.batch_alter_table("school", schema=None) as batch_op:
        batch_op.drop_column("trust")
