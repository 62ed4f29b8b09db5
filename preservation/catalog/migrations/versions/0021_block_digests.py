"""block_digests: reserved for #14 verified streaming delivery (a no-op until its work lands)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 15:50:00
"""

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
