"""submissions: the job's step, progress and agency; resumable uploads

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job", sa.Column("step", sa.String(length=40), nullable=True))
    op.add_column("job", sa.Column("progress", sa.Float(), nullable=True))
    op.add_column("job", sa.Column("agency", sa.String(length=25), nullable=True))
    op.create_index("ix_job_agency", "job", ["agency"])
    op.create_table(
        "upload",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("agency", sa.String(length=25), nullable=True),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload")),
    )
    op.create_index("ix_upload_expires_at", "upload", ["expires_at"])


def downgrade() -> None:
    op.drop_table("upload")
    op.drop_index("ix_job_agency", table_name="job")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("agency")
        batch.drop_column("progress")
        batch.drop_column("step")
