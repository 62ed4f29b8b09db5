"""catalog_files: reserved for issue #14 (a no-op until its work lands)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
