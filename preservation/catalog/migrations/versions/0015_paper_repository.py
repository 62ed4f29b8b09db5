"""paper_repository: repositories, shelves, boxes, equipment, archive staff, paper hồ sơ and
their loans (sổ xuất / sổ nhập), the agencies' file plans and the digitisation queue (#15, #16)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 12:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

CONDITIONS = "('good', 'worn', 'faded', 'damaged')"
OPEN = sa.text("returned_at IS NULL")


def _stamps() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False)]


def upgrade() -> None:
    op.create_table(
        "paper_repository",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=True),
        *_stamps(),
        sa.CheckConstraint("area_m2 > 0", name=op.f("ck_paper_repository_area_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_repository")),
        sa.UniqueConstraint("code", name=op.f("uq_paper_repository_code")),
    )
    op.create_table(
        "archive_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("position", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"],
                                name=op.f("fk_archive_staff_agency_id_agency")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_staff")),
    )
    op.create_index("ix_archive_staff_agency_id", "archive_staff", ["agency_id"])
    op.create_table(
        "file_plan_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("file_code", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("maintenance", sa.String(length=2), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"],
                                name=op.f("fk_file_plan_entry_agency_id_agency")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_file_plan_entry")),
        sa.UniqueConstraint("agency_id", "year", "file_code", name="agency_year_code"),
    )
    op.create_table(
        "paper_shelf",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["repository_id"], ["paper_repository.id"],
                                name=op.f("fk_paper_shelf_repository_id_paper_repository")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_shelf")),
        sa.UniqueConstraint("repository_id", "code", name="repository_code"),
    )
    op.create_table(
        "repository_equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repository_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=15), nullable=False),
        sa.Column("last_service_on", sa.Date(), nullable=True),
        sa.Column("next_service_on", sa.Date(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        *_stamps(),
        sa.CheckConstraint("condition IN ('good', 'needs_service', 'broken', 'retired')",
                           name=op.f("ck_repository_equipment_condition")),
        sa.CheckConstraint("kind IN ('dehumidifier', 'air_conditioner', 'fire_extinguisher', "
                           "'fire_alarm', 'shelving', 'thermohygrometer', 'camera', "
                           "'ventilation', 'other')",
                           name=op.f("ck_repository_equipment_kind")),
        sa.CheckConstraint("quantity > 0",
                           name=op.f("ck_repository_equipment_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["repository_id"], ["paper_repository.id"],
            name=op.f("fk_repository_equipment_repository_id_paper_repository")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repository_equipment")),
    )
    op.create_index("ix_repository_equipment_next", "repository_equipment", ["next_service_on"])
    op.create_table(
        "paper_box",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shelf_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_paper_box_capacity_positive")),
        sa.ForeignKeyConstraint(["shelf_id"], ["paper_shelf.id"],
                                name=op.f("fk_paper_box_shelf_id_paper_shelf")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_box")),
        sa.UniqueConstraint("shelf_id", "code", name="shelf_code"),
    )
    op.create_table(
        "paper_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=100), nullable=False),
        sa.Column("box_id", sa.Integer(), nullable=False),
        sa.Column("fonds_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=1000), nullable=False),
        sa.Column("maintenance", sa.String(length=2), nullable=False),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("page_count", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=10), nullable=False),
        sa.Column("registered_by", sa.String(length=80), nullable=False),
        sa.Column("priority_override", sa.Integer(), nullable=False),
        sa.Column("override_reason", sa.String(length=1000), nullable=True),
        *_stamps(),
        sa.CheckConstraint(f"condition IN {CONDITIONS}", name=op.f("ck_paper_file_condition")),
        sa.CheckConstraint("page_count >= 0", name=op.f("ck_paper_file_pages_not_negative")),
        sa.CheckConstraint("priority_override BETWEEN -100 AND 100",
                           name=op.f("ck_paper_file_override_range")),
        sa.ForeignKeyConstraint(["box_id"], ["paper_box.id"],
                                name=op.f("fk_paper_file_box_id_paper_box")),
        sa.ForeignKeyConstraint(["fonds_id"], ["fonds.id"],
                                name=op.f("fk_paper_file_fonds_id_fonds")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_file")),
        sa.UniqueConstraint("code", name=op.f("uq_paper_file_code")),
    )
    op.create_index("ix_paper_file_box_id", "paper_file", ["box_id"])
    op.create_index("ix_paper_file_fonds_id", "paper_file", ["fonds_id"])
    op.create_table(
        "digitisation_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_file_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("objid", sa.String(length=200), nullable=True),
        sa.Column("planned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.CheckConstraint("state IN ('planned', 'in_progress', 'done', 'verified')",
                           name=op.f("ck_digitisation_item_state")),
        sa.CheckConstraint("pages IS NULL OR pages >= 0",
                           name=op.f("ck_digitisation_item_pages_not_negative")),
        sa.ForeignKeyConstraint(["paper_file_id"], ["paper_file.id"],
                                name=op.f("fk_digitisation_item_paper_file_id_paper_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digitisation_item")),
        sa.UniqueConstraint("paper_file_id", name=op.f("uq_digitisation_item_paper_file_id")),
    )
    op.create_table(
        "paper_loan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paper_file_id", sa.Integer(), nullable=False),
        sa.Column("borrower", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=1000), nullable=False),
        sa.Column("out_by", sa.String(length=80), nullable=False),
        sa.Column("out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_by", sa.String(length=80), nullable=True),
        sa.Column("return_condition", sa.String(length=10), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.CheckConstraint(f"return_condition IN {CONDITIONS}",
                           name=op.f("ck_paper_loan_return_condition")),
        sa.ForeignKeyConstraint(["paper_file_id"], ["paper_file.id"],
                                name=op.f("fk_paper_loan_paper_file_id_paper_file")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_loan")),
    )
    op.create_index("ix_paper_loan_open", "paper_loan", ["paper_file_id"], unique=True,
                    sqlite_where=OPEN, postgresql_where=OPEN)
    op.create_index("ix_paper_loan_out_at", "paper_loan", ["out_at"])
    op.create_index("ix_paper_loan_returned_at", "paper_loan", ["returned_at"])


def downgrade() -> None:
    for name, table in (("ix_paper_loan_returned_at", "paper_loan"),
                        ("ix_paper_loan_out_at", "paper_loan"),
                        ("ix_paper_loan_open", "paper_loan")):
        op.drop_index(name, table_name=table)
    op.drop_table("paper_loan")
    op.drop_table("digitisation_item")
    op.drop_index("ix_paper_file_fonds_id", table_name="paper_file")
    op.drop_index("ix_paper_file_box_id", table_name="paper_file")
    op.drop_table("paper_file")
    op.drop_table("paper_box")
    op.drop_index("ix_repository_equipment_next", table_name="repository_equipment")
    op.drop_table("repository_equipment")
    op.drop_table("paper_shelf")
    op.drop_table("file_plan_entry")
    op.drop_index("ix_archive_staff_agency_id", table_name="archive_staff")
    op.drop_table("archive_staff")
    op.drop_table("paper_repository")
