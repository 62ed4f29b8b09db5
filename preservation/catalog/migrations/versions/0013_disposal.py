"""disposal: reserved for #15 retention, holds and destruction (a no-op until its work lands)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:45:00
"""

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
