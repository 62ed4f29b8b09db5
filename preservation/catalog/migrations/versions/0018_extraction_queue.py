"""extraction_queue: #16 metadata-extraction proposals (bóc tách thông tin); the digitisation
queue of #16 has its own migration

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "extraction_proposal",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("doc_code", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=4), nullable=False),
        sa.Column("text_sha256", sa.String(length=64), nullable=False),
        sa.Column("text_chars", sa.Integer(), nullable=False),
        sa.Column("extractor", sa.String(length=40), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=80), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final", sa.JSON(), nullable=True),
        sa.Column("corrected", sa.JSON(), nullable=True),
        sa.Column("objid", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('proposed', 'confirmed', 'corrected', 'superseded')",
                           name=op.f("ck_extraction_proposal_status")),
        sa.CheckConstraint("source IN ('ocr', 'text')", name=op.f("ck_extraction_proposal_source")),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"],
                                name=op.f("fk_extraction_proposal_document_id_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_extraction_proposal")),
    )
    op.create_index("ix_extraction_proposal_document", "extraction_proposal",
                    ["document_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_extraction_proposal_document", table_name="extraction_proposal")
    op.drop_table("extraction_proposal")
