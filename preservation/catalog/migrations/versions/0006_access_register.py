"""access_log: the access register (sổ khai thác sử dụng); access_request(+_item): readers' requests

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.String(length=300), nullable=False),
        sa.Column("purpose", sa.String(length=1000), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.CheckConstraint("action IN ('view', 'download', 'copy', 'dip', 'request')",
                           name=op.f("ck_access_log_action")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index("ix_access_log_at", "access_log", ["at"])
    op.create_index("ix_access_log_actor", "access_log", ["actor"])
    op.create_table(
        "access_request",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("requester", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("purpose", sa.String(length=2), nullable=False),
        sa.Column("purpose_content", sa.String(length=500), nullable=True),
        sa.Column("fee_object_type", sa.String(length=2), nullable=True),
        sa.Column("research_topic", sa.String(length=250), nullable=True),
        sa.Column("description", sa.String(length=2000), nullable=True),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'approved', 'refused', 'withdrawn')",
                           name=op.f("ck_access_request_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_request")),
    )
    op.create_index("ix_access_request_requester", "access_request", ["requester"])
    op.create_table(
        "access_request_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("doc_code", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["access_request.id"],
                                name=op.f("fk_access_request_item_request_id_access_request")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_request_item")),
        sa.UniqueConstraint("request_id", "doc_code", name="request_doc"),
    )
    op.create_index("ix_access_request_item_doc", "access_request_item", ["doc_code"])


def downgrade() -> None:
    op.drop_table("access_request_item")
    op.drop_table("access_request")
    op.drop_table("access_log")
