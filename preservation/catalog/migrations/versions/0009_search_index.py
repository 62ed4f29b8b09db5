"""search_index: full-text search over hồ sơ and tài liệu (issue #14)

``search_entry`` holds each entry's facets, original text and folded words on both dialects.
SQLite: an FTS5 table reading its text from ``search_entry`` (external content), written by
``preservation.search.backend``. PostgreSQL: a generated ``tsvector`` (title weighted A, the rest B, the ``simple``
configuration: the words are already folded in Python) with a GIN index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

SQLITE = [
    "CREATE VIRTUAL TABLE search_fts USING fts5(title_f, body_f, content='search_entry', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 0', detail='full')",
]
POSTGRESQL = [
    "ALTER TABLE search_entry ADD COLUMN tsv tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', title_f), 'A') || "
    "setweight(to_tsvector('simple', body_f), 'B')) STORED",
    "CREATE INDEX ix_search_entry_tsv ON search_entry USING gin (tsv)",
]


def upgrade() -> None:
    op.create_table(
        "search_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("objid", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("record_file_id", sa.Integer(), nullable=True),
        sa.Column("document_id", sa.Integer(), nullable=True),
        sa.Column("file_code", sa.String(length=100), nullable=True),
        sa.Column("doc_code", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("mode", sa.String(length=2), nullable=False),
        sa.Column("fonds", sa.String(length=20), nullable=True),
        sa.Column("type", sa.String(length=2), nullable=True),
        sa.Column("date", sa.String(length=10), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("organ_id", sa.String(length=25), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("ocr_text", sa.Text(), nullable=True),
        sa.Column("title_f", sa.Text(), nullable=False),
        sa.Column("body_f", sa.Text(), nullable=False),
        sa.CheckConstraint("kind IN ('record', 'document')", name=op.f("ck_search_entry_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entry")),
    )
    op.create_index("ix_search_entry_objid", "search_entry", ["objid"])
    op.create_index("ix_search_entry_mode_fonds", "search_entry", ["mode", "fonds"])
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL if dialect == "postgresql" \
            else []:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS search_fts")
    op.drop_table("search_entry")
