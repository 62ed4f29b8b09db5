"""digitisation: the OCR text of digitised documents, which full-text search indexes (#16)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 12:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_ocr_text",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"],
                                name=op.f("fk_document_ocr_text_document_id_document")),
        sa.ForeignKeyConstraint(["package_id"], ["package.id"],
                                name=op.f("fk_document_ocr_text_package_id_package")),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_ocr_text")),
    )
    op.create_index("ix_document_ocr_text_package_id", "document_ocr_text", ["package_id"])


def downgrade() -> None:
    op.drop_index("ix_document_ocr_text_package_id", table_name="document_ocr_text")
    op.drop_table("document_ocr_text")
