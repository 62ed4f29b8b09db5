"""catalog state (a rebuild that left AIPs out marks the catalog incomplete)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalog_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_catalog_state")),
    )


def downgrade() -> None:
    op.drop_table("catalog_state")
