"""submissions: reserved for issue #14 (a no-op until its work lands)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
