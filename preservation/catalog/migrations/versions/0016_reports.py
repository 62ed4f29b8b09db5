"""reports: reserved for #15 registers and reports (a no-op until its work lands)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 12:45:00
"""

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
