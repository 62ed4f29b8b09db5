"""search_index: reserved for issue #14 (a no-op until its work lands)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 10:00:00
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
