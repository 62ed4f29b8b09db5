"""transfers: reserved for #15 transfers to the historical archive (a no-op until its work lands)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:45:00
"""

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
