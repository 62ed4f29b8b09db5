"""format_migration: reserved for #16 format migration and the format register (a no-op until its work lands)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 12:45:00
"""

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
