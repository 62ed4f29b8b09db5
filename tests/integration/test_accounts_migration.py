"""Migration 0007 on both catalogs: an account made with the old ``submitter`` role keeps it as
``agency_submitter``, with its agency and its token; downgrading gives the old name back."""

from __future__ import annotations

import sqlalchemy as sa

from access_api.services.base import UserRole
from preservation.catalog.db import Catalog


def test_the_submitter_role_becomes_agency_submitter_and_back(db_url):
    catalog = Catalog(db_url)
    catalog.upgrade("0006")
    with catalog.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO agency (organ_id, name, created_at, updated_at) "
                             "VALUES ('H41.01', 'UBND', :t, :t)"), {"t": "2026-01-01 00:00:00"})
        agency_id = conn.execute(sa.text("SELECT id FROM agency")).scalar()
        conn.execute(sa.text(
            "INSERT INTO user_account (username, password_hash, is_active, agency_id, "
            "created_at, updated_at) VALUES ('he-thong', 'scrypt$x', :a, :g, :t, :t)"),
            {"a": True, "g": agency_id, "t": "2026-01-01 00:00:00"})
        conn.execute(sa.text(
            "INSERT INTO user_role (user_id, role_id) SELECT u.id, r.id FROM user_account u, "
            "role r WHERE r.name = 'submitter'"))
    catalog.upgrade()

    def roles_of_he_thong() -> set[str]:
        with catalog.engine.connect() as conn:
            return set(conn.execute(sa.text(
                "SELECT r.name FROM role r JOIN user_role ur ON ur.role_id = r.id "
                "JOIN user_account u ON u.id = ur.user_id WHERE u.username = 'he-thong'"
            )).scalars())

    assert roles_of_he_thong() == {UserRole.AGENCY_SUBMITTER.value} == {"agency_submitter"}
    with catalog.engine.connect() as conn:
        labels = conn.execute(sa.text(
            "SELECT label_vi, label_en FROM role WHERE name = 'agency_submitter'")).one()
        tables = set(sa.inspect(conn).get_table_names())
    assert labels == ("Hệ thống của cơ quan nộp lưu", "Agency submitter")
    assert {"login_session", "login_failure"} <= tables
    catalog.downgrade("0006")
    assert roles_of_he_thong() == {"submitter"}
    with catalog.engine.connect() as conn:
        assert not {"login_session", "login_failure"} & set(sa.inspect(conn).get_table_names())
    catalog.dispose()
