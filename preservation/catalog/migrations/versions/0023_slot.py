"""slot reserved for a change in progress (no-op)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 18:50:00
"""

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
