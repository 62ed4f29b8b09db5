"""format_migration: the format register and format migration find files by PRONOM identifier
(``ix_bitstream_puid``). Migrations are recorded as AIP versions, PREMIS events and jobs, which
need no table of their own.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:45:00
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_bitstream_puid", "bitstream", ["puid", "package_id"])


def downgrade() -> None:
    op.drop_index("ix_bitstream_puid", table_name="bitstream")
