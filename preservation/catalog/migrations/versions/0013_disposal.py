"""disposal: #15 retention, holds and destruction (Danh mục tài liệu hết giá trị, legal holds,
destruction cases with their council and decision, tombstones)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "disposal_listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_file_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("listed_at", TZ, nullable=False),
        sa.Column("listed_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("reason IN ('expired', 'duplicate_sha256', 'duplicate_metadata')",
                           name=op.f("ck_disposal_listing_reason")),
        sa.ForeignKeyConstraint(["record_file_id"], ["record_file.id"],
                                name=op.f("fk_disposal_listing_record_file_id_record_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_listing")),
        sa.UniqueConstraint("record_file_id", name=op.f("uq_disposal_listing_record_file_id")),
    )
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_file_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("placed_by", sa.String(length=80), nullable=False),
        sa.Column("placed_at", TZ, nullable=False),
        sa.Column("lifted_by", sa.String(length=80), nullable=True),
        sa.Column("lifted_at", TZ, nullable=True),
        sa.Column("lift_reason", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["record_file_id"], ["record_file.id"],
                                name=op.f("fk_legal_hold_record_file_id_record_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_hold")),
    )
    op.create_index("ix_legal_hold_record_file_id", "legal_hold", ["record_file_id"])
    op.create_table(
        "disposal_case",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("proposer", sa.String(length=80), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("deadline", TZ, nullable=True),
        sa.Column("execution_started_at", TZ, nullable=True),
        sa.Column("executed_by", sa.String(length=80), nullable=True),
        sa.Column("executed_at", TZ, nullable=True),
        sa.Column("record_key", sa.String(length=1024), nullable=True),
        sa.CheckConstraint("status IN ('review', 'approved', 'executed')",
                           name=op.f("ck_disposal_case_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_case")),
    )
    op.create_table(
        "disposal_case_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("record_file_id", sa.Integer(), nullable=False),
        sa.Column("added_by", sa.String(length=80), nullable=False),
        sa.Column("added_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["disposal_case.id"],
                                name=op.f("fk_disposal_case_item_case_id_disposal_case")),
        sa.ForeignKeyConstraint(["record_file_id"], ["record_file.id"],
                                name=op.f("fk_disposal_case_item_record_file_id_record_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_case_item")),
        sa.UniqueConstraint("case_id", "record_file_id", name="case_record"),
    )
    op.create_index("ix_disposal_case_item_record_file_id", "disposal_case_item",
                    ["record_file_id"])
    op.create_table(
        "disposal_council_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("opinion", sa.String(length=10), nullable=True),
        sa.Column("comment", sa.String(length=2000), nullable=True),
        sa.Column("opinion_at", TZ, nullable=True),
        sa.CheckConstraint("opinion IN ('agree', 'disagree')",
                           name=op.f("ck_disposal_council_member_opinion")),
        sa.ForeignKeyConstraint(["case_id"], ["disposal_case.id"],
                                name=op.f("fk_disposal_council_member_case_id_disposal_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disposal_council_member")),
        sa.UniqueConstraint("case_id", "username", name="case_username"),
    )
    op.create_table(
        "tombstone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=36), nullable=False),
        sa.Column("record_file_id", sa.Integer(), nullable=True),
        sa.Column("arc_file_code", sa.String(length=100), nullable=True),
        sa.Column("file_code", sa.String(length=100), nullable=False),
        sa.Column("fond_code", sa.String(length=20), nullable=True),
        sa.Column("objid", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("maintenance", sa.String(length=2), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.String(length=10), nullable=True),
        sa.Column("end_date", sa.String(length=10), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("locations", sa.JSON(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("executed_by", sa.String(length=80), nullable=False),
        sa.Column("executed_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["disposal_case.id"],
                                name=op.f("fk_tombstone_case_id_disposal_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tombstone")),
    )
    op.create_index("ix_tombstone_arc_file_code", "tombstone", ["arc_file_code"])


def downgrade() -> None:
    op.drop_index("ix_tombstone_arc_file_code", table_name="tombstone")
    op.drop_table("tombstone")
    op.drop_table("disposal_council_member")
    op.drop_index("ix_disposal_case_item_record_file_id", table_name="disposal_case_item")
    op.drop_table("disposal_case_item")
    op.drop_table("disposal_case")
    op.drop_index("ix_legal_hold_record_file_id", table_name="legal_hold")
    op.drop_table("legal_hold")
    op.drop_table("disposal_listing")
