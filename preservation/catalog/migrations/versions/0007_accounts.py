"""accounts: reserved for issue #14 (a no-op until its work lands)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 10:00:00
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
