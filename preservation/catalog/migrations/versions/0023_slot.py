"""version_reservations: who reserved an AIP version being made (host:pid:start token) and
since when, so a later change can tell a live reservation from one a killed process left

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 18:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("package") as t:
        t.add_column(sa.Column("reserved_by", sa.String(200), nullable=True))
        t.add_column(sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("package") as t:
        t.drop_column("reserved_at")
        t.drop_column("reserved_by")
