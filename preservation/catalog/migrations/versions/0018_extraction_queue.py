"""extraction_queue: reserved for #16 metadata extraction and the digitisation queue (a no-op until its work lands)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 12:45:00
"""

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
