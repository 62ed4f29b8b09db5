"""send_guards: reserved for transfer and migration crash safety (a no-op until its work lands)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 15:50:00
"""

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
