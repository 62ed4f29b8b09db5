"""dip: the DIPs built for readers (access requests themselves are in 0006)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dip",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("objid", sa.String(length=60), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.JSON(), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'building', 'ready', 'failed', 'removed')",
                           name=op.f("ck_dip_state")),
        sa.ForeignKeyConstraint(["request_id"], ["access_request.id"],
                                name=op.f("fk_dip_request_id_access_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dip")),
    )
    op.create_index("ix_dip_owner", "dip", ["owner"])


def downgrade() -> None:
    op.drop_index("ix_dip_owner", table_name="dip")
    op.drop_table("dip")
