"""accounts: the agency_submitter role name, login sessions and failed logins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _rename_role(old: str, new: str, label_vi: str, label_en: str) -> None:
    role = sa.table("role", sa.column("name", sa.String), sa.column("label_vi", sa.String),
                    sa.column("label_en", sa.String))
    op.execute(role.update().where(role.c.name == old)
               .values(name=new, label_vi=label_vi, label_en=label_en))


def upgrade() -> None:
    _rename_role("submitter", "agency_submitter", "Hệ thống của cơ quan nộp lưu",
                 "Agency submitter")
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"],
                                name=op.f("fk_login_session_user_id_user_account")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_login_session_secret_hash")),
    )
    op.create_index("ix_login_session_user_id", "login_session", ["user_id"])
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=80), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index("ix_login_failure_username", "login_failure", ["username", "at"])
    op.create_index("ix_login_failure_client", "login_failure", ["client", "at"])


def downgrade() -> None:
    op.drop_table("login_failure")
    op.drop_table("login_session")
    _rename_role("agency_submitter", "submitter", "Cơ quan nộp lưu", "Submitting agency")
