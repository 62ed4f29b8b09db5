"""transfers: transfers (nộp lưu) to the historical archive and their hồ sơ

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

STATUSES = "'pending', 'processing', 'passed', 'failed', 'completed'"


def upgrade() -> None:
    op.create_table(
        "transfer",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("fonds_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("receiver", sa.String(length=300), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("delivery", sa.String(length=8), nullable=True),
        sa.Column("remote_url", sa.String(length=500), nullable=True),
        sa.Column("media_dir", sa.String(length=1024), nullable=True),
        sa.Column("registered_by", sa.String(length=80), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_by", sa.String(length=80), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_transfer_status")),
        sa.CheckConstraint("delivery IN ('remote', 'media')", name=op.f("ck_transfer_delivery")),
        sa.ForeignKeyConstraint(["fonds_id"], ["fonds.id"],
                                name=op.f("fk_transfer_fonds_id_fonds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer")),
    )
    op.create_index("ix_transfer_fonds_id", "transfer", ["fonds_id"])
    op.create_table(
        "transfer_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.String(length=36), nullable=False),
        sa.Column("record_file_id", sa.Integer(), nullable=False),
        sa.Column("arc_file_code", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("objid", sa.String(length=60), nullable=True),
        sa.Column("sent", sa.JSON(), nullable=True),
        sa.Column("remote_job", sa.String(length=36), nullable=True),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("remote_arc_file_code", sa.String(length=100), nullable=True),
        sa.Column("problem", sa.JSON(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_transfer_item_status")),
        sa.ForeignKeyConstraint(["transfer_id"], ["transfer.id"],
                                name=op.f("fk_transfer_item_transfer_id_transfer")),
        sa.ForeignKeyConstraint(["record_file_id"], ["record_file.id"],
                                name=op.f("fk_transfer_item_record_file_id_record_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transfer_item")),
        sa.UniqueConstraint("transfer_id", "record_file_id",
                            name="transfer_record"),
    )
    op.create_index("ix_transfer_item_record_file_id", "transfer_item", ["record_file_id"])


def downgrade() -> None:
    op.drop_index("ix_transfer_item_record_file_id", table_name="transfer_item")
    op.drop_table("transfer_item")
    op.drop_index("ix_transfer_fonds_id", table_name="transfer")
    op.drop_table("transfer")
