"""send_guards: a transfer's send claim (one send or refresh at a time) and each hồ sơ's send
start (a send killed between the receiver's answer and our commit leaves it, so a resumed send
does not post that hồ sơ a second time unasked)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 15:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transfer") as t:
        t.add_column(sa.Column("send_claim", sa.String(120), nullable=True))
        t.add_column(sa.Column("send_claimed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("transfer_item") as t:
        t.add_column(sa.Column("send_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("transfer_item") as t:
        t.drop_column("send_started_at")
    with op.batch_alter_table("transfer") as t:
        t.drop_column("send_claimed_at")
        t.drop_column("send_claim")
