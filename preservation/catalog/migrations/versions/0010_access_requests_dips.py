"""access_requests_dips: reserved for issue #14 (a no-op until its work lands)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
