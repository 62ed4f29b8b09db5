"""version_reservations, send_keys: who reserved an AIP version being made (host:pid:start
token) and since when, so a later change can tell a live reservation from one a killed
process left; the idempotency key a transfer's hồ sơ is sent with, and the one a submission
job was created under on the receiving side (one job per submitter and key)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 18:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("package") as t:
        t.add_column(sa.Column("reserved_by", sa.String(200), nullable=True))
        t.add_column(sa.Column("reserved_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("transfer_item") as t:
        t.add_column(sa.Column("send_key", sa.String(100), nullable=True))
    with op.batch_alter_table("job") as t:
        t.add_column(sa.Column("idempotency_key", sa.String(100), nullable=True))
        t.create_unique_constraint("job_submitter_key", ["created_by", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("job") as t:
        t.drop_constraint("job_submitter_key", type_="unique")
        t.drop_column("idempotency_key")
    with op.batch_alter_table("transfer_item") as t:
        t.drop_column("send_key")
    with op.batch_alter_table("package") as t:
        t.drop_column("reserved_at")
        t.drop_column("reserved_by")
