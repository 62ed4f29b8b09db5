"""aip claim: the job that is writing a hồ sơ's AIP, so two submissions of it at once cannot both

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 05:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aip_claim",
        sa.Column("arc_file_code", sa.String(100), primary_key=True),
        sa.Column("job_id", sa.String(36), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("aip_claim")
