"""digitisation: reserved for #16 digitisation (a no-op until its work lands)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 12:45:00
"""

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
