"""paper_repository: reserved for #15 the paper repository (a no-op until its work lands)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:45:00
"""

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
