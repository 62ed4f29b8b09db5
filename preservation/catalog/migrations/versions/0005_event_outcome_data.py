"""premis_event.outcome_data: the facts registers read, as data (counts, locations, bad objects)

Events recorded before it get theirs from their text, once, here.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 07:30:00
"""

import sqlalchemy as sa
from alembic import op

from preservation.catalog.event_data import FIXITY_CHECK, REPLICATION, legacy_event_data

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    op.add_column("premis_event", sa.Column("outcome_data", sa.JSON(), nullable=True))
    events = sa.table("premis_event", sa.column("id", sa.Integer), sa.column("event_type", sa.String),
                      sa.column("detail", sa.Text), sa.column("outcome_detail", sa.Text),
                      sa.column("outcome_data", sa.JSON))
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.select(events.c.id, events.c.event_type, events.c.detail, events.c.outcome_detail)
            .where(events.c.event_type.in_((FIXITY_CHECK, REPLICATION)), events.c.id > last)
            .order_by(events.c.id).limit(BATCH)).all()
        if not rows:
            break
        conn.execute(events.update().where(events.c.id == sa.bindparam("event_id"))
                     .values(outcome_data=sa.bindparam("data")),
                     [{"event_id": r.id, "data": legacy_event_data(r.event_type, r.detail,
                                                                   r.outcome_detail)}
                      for r in rows])
        last = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("premis_event") as batch:
        batch.drop_column("outcome_data")
