"""search_speed: reserved for #14 search speed (a no-op until its work lands)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 12:45:00
"""

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
