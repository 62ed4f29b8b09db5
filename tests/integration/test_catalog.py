"""The catalog on both SQLite and PostgreSQL: migrations, constraints, audit log, registry."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError

from preservation.accounts import (
    check_password,
    create_user,
    ensure_first_admin,
    issue_token,
    user_for_token,
)
from preservation.catalog import audit, registry
from preservation.catalog.db import Catalog, head_revision
from preservation.catalog.models import AuditEntry, Base, Package, PremisEvent, Role, StoredCopy
from preservation.errors import Conflict, KhosoError, NotFound, ValidationFailed
from tests.support.search import owned_by_search_backend


@pytest.fixture
def catalog(db_url):
    c = Catalog(db_url)
    c.upgrade()
    yield c
    c.dispose()


def test_upgrade_from_empty_creates_every_table_and_downgrades(db_url):
    c = Catalog(db_url)
    c.upgrade()
    assert c.ping() == head_revision()
    names = set(sa.inspect(c.engine).get_table_names())
    assert set(Base.metadata.tables) <= names
    c.downgrade("base")
    assert set(sa.inspect(c.engine).get_table_names()) <= {"alembic_version"}
    c.upgrade()
    c.dispose()


def test_models_match_the_migration(catalog):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with catalog.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if not owned_by_search_backend(d)] == []


def test_roles_are_seeded(catalog):
    with catalog.session() as s:
        names = set(s.scalars(sa.select(Role.name)))
    assert names == {"admin", "archivist", "preservation_officer", "agency_submitter", "reader"}


def test_audit_log_is_append_only_and_chained(catalog):
    with catalog.session() as s:
        first = audit.record(s, "tester", "thing.create", "thing", 1, note="một")
        audit.record(s, "tester", "thing.update", "thing", 1, note="hai")
        assert audit.verify_chain(s) == []
        first_id = first.id
    for statement in (
        sa.update(AuditEntry).where(AuditEntry.id == first_id).values(actor="mallory"),
        sa.delete(AuditEntry).where(AuditEntry.id == first_id),
    ):
        with pytest.raises(DBAPIError):
            with catalog.session() as s:
                s.execute(statement)
    with catalog.session() as s:
        assert s.get(AuditEntry, first_id).actor == "tester"
        assert audit.verify_chain(s) == []


def test_audit_chain_detects_a_forged_row(catalog):
    with catalog.session() as s:
        audit.record(s, "tester", "a")
        last = audit.record(s, "tester", "b")
        # A forger who bypasses the API inserts a row that does not continue the chain.
        s.add(AuditEntry(at=last.at, actor="x", action="forged", detail={},
                         prev_hash="f" * 64, entry_hash="e" * 64))
        s.flush()
        assert len(audit.verify_chain(s)) == 1


def test_check_constraints_hold(catalog):
    with pytest.raises(IntegrityError):
        with catalog.session() as s:
            s.add(Package(objid="uuid-1", kind="XIP"))
    with catalog.session() as s:
        body = registry.ensure_archive_body(s, "KHOSO", "Kho", "lich_su")
        fonds = registry.add_fonds(s, body, registry.FondsInput("P1", "Phông 1"))
        pkg = Package(objid="urn:P1:uuid-1", kind="AIP", fonds_id=fonds.id)
        s.add(pkg)
        s.flush()
        pkg_id = pkg.id
    with pytest.raises(IntegrityError):
        with catalog.session() as s:
            s.add(StoredCopy(package_id=pkg_id, location="r1", key="k", sha256="0" * 64,
                             size=1, last_check_result="probably"))


def test_registry_agency_and_fonds(catalog):
    with catalog.session() as s:
        registry.add_agency(s, "000.00.00.H41", "UBND tỉnh Nghệ An")
        body = registry.ensure_archive_body(s, "KHOSO", "Kho lưu trữ số", "lich_su")
        f = registry.add_fonds(s, body, registry.FondsInput(
            "P623", "Phông UBND tỉnh Nghệ An", status="đóng", archives_time="1976-2020",
            total_doc="1200", languages=["01", "08"], organ_id="000.00.00.H41"))
        assert (f.status, f.year_from, f.year_to, f.total_doc) == ("dong", 1976, 2020, 1200)
    with catalog.session() as s:
        assert [a.organ_id for a in registry.list_agencies(s)] == ["000.00.00.H41"]
        (fonds,) = registry.list_fonds(s)
        assert fonds.languages == ["01", "08"] and fonds.agency.name == "UBND tỉnh Nghệ An"
        actions = list(s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))
        assert actions == ["agency.create", "archive_body.create", "fonds.create"]


def test_registry_refuses_bad_input_and_writes_nothing(catalog):
    with pytest.raises(ValidationFailed) as err:
        with catalog.session() as s:
            body = registry.ensure_archive_body(s, "KHOSO", "Kho", "lich_su")
            registry.add_fonds(s, body, registry.FondsInput(
                "P 1", " ", status="x", archives_time="2020-1990", total_doc="-3",
                languages=["12"]))
    assert err.value.report.codes() == {"CAT002", "CAT003", "CAT004", "CAT005", "CAT006",
                                        "CAT007"}
    with pytest.raises(ValidationFailed) as err:
        with catalog.session() as s:
            registry.add_agency(s, "../etc", "x" * 301)
    assert err.value.report.codes() == {"CAT001", "CAT008"}
    with catalog.session() as s:
        assert registry.list_fonds(s) == [] and registry.list_agencies(s) == []
        assert s.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_registry_conflicts_and_missing_agency(catalog):
    with catalog.session() as s:
        registry.add_agency(s, "H49.64.33", "UBND huyện")
    with pytest.raises(Conflict):
        with catalog.session() as s:
            registry.add_agency(s, "H49.64.33", "again")
    with pytest.raises(NotFound):
        with catalog.session() as s:
            body = registry.ensure_archive_body(s, "KHOSO", "Kho", "lich_su")
            registry.add_fonds(s, body, registry.FondsInput("P9", "Phông", organ_id="nope.x"))


def test_accounts_tokens_and_first_admin(catalog):
    with catalog.session() as s:
        username, password = ensure_first_admin(s)
        assert ensure_first_admin(s) is None
        admin = s.scalar(sa.select(Role).where(Role.name == "admin"))
        assert admin is not None
    with catalog.session() as s:
        from preservation.catalog.models import User

        user = s.scalar(sa.select(User).where(User.username == username))
        assert check_password(password, user.password_hash)
        assert not check_password(password + "x", user.password_hash)
        assert password not in user.password_hash
        issued = issue_token(s, user, "ci")
        assert issued.token not in issued.record.token_hash
        assert user_for_token(s, issued.token).username == "admin"
        assert user_for_token(s, issued.token + "x") is None
        with pytest.raises(Conflict):
            create_user(s, "admin", "pw", ["reader"])
        with pytest.raises(KhosoError) as err:
            create_user(s, "bob", "pw", ["emperor"])
        assert err.value.code == "AUTH002"


VOCABULARIES = [("archive_body", "kind", "ArchiveKind"), ("fonds", "status", "FondsStatus"),
                ("record_file", "state", "FileState"), ("document", "kind", "DocumentKind"),
                ("package", "kind", "PackageKind"), ("package", "content_type", "PackageContent"),
                ("package", "status", "PackageStatus"),
                ("stored_copy", "last_check_result", "CheckResult"), ("job", "status", "JobStatus")]


@pytest.mark.parametrize(("table", "column", "enum"), VOCABULARIES)
def test_each_vocabulary_is_what_the_migrated_catalog_accepts(catalog, table, column, enum):
    """An enum member the migrations' CHECK constraint does not list could never be stored."""
    import re

    from preservation.catalog import vocab

    checks = [c["sqltext"] for c in sa.inspect(catalog.engine).get_check_constraints(table)
              if column in c["sqltext"]]
    assert len(checks) == 1
    assert set(re.findall(r"'([^']*)'", checks[0])) == set(getattr(vocab, enum))


def test_event_outcomes_are_what_the_migrated_catalog_accepts(catalog):
    import re

    from preservation.events import Outcome

    (check,) = [c["sqltext"] for c in sa.inspect(catalog.engine).get_check_constraints("premis_event")
                if "outcome" in c["sqltext"]]
    assert set(re.findall(r"'([^']*)'", check)) == set(Outcome)


def test_overdue_is_one_definition_for_healthz_and_the_scheduler(catalog):
    import datetime as dt

    from preservation.catalog import queries

    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    ids = {}
    with catalog.session() as s:
        for name, status, checked, result in [
                ("never", "active", None, "not_checked"), ("fresh", "active", now, "ok"),
                ("old", "superseded", now - dt.timedelta(days=91), "ok"),
                ("failed-read", "active", now - dt.timedelta(days=2), "not_checked"),
                ("gone", "deleted", None, "not_checked")]:
            pkg = Package(objid=f"urn:{name}", kind="AIP", status=status)
            s.add(pkg)
            s.flush()
            s.add(StoredCopy(package_id=pkg.id, location="r1", key=name, sha256="0" * 64, size=1,
                             last_check_at=checked, last_check_result=result))
            ids[name] = pkg.id
    with catalog.session() as s:
        assert queries.count_overdue_copies(s, now=now, period_days=90) == 2
        due = queries.copies_in_audit_order(s, now=now, period_days=90, retry_hours=24 * 365)
        assert {s.get(StoredCopy, i).package_id for i in due} == {ids["never"], ids["old"]}
        # a failed read is not overdue, but the scheduler takes it again after retry_hours
        again = queries.copies_in_audit_order(s, now=now, period_days=90, retry_hours=24)
        assert [s.get(StoredCopy, i).package_id for i in again] == [
            ids["never"], ids["failed-read"], ids["old"]]
        assert queries.count_audited_copies(s) == 4  # a deleted package's copy is not audited


def test_package_with_copies_gives_every_version_with_its_own_copies(catalog):
    from preservation.catalog import queries

    with catalog.session() as s:
        for version, status in ((1, "superseded"), (2, "active")):
            pkg = Package(objid="urn:pkg", kind="AIP", version=version, status=status)
            s.add(pkg)
            s.flush()
            for location in ("r1", "r2"):
                s.add(StoredCopy(package_id=pkg.id, location=location, key=f"e/v{version}",
                                 sha256="0" * 64, size=1))
        s.add(Package(objid="urn:other", kind="AIP"))
    with catalog.session() as s:
        found = queries.package_with_copies(s, "urn:pkg")
        assert [(p.version, [(c.location, c.key) for c in copies]) for p, copies in found] == [
            (1, [("r1", "e/v1"), ("r2", "e/v1")]), (2, [("r1", "e/v2"), ("r2", "e/v2")])]
        assert queries.package_with_copies(s, "urn:none") == []
        assert [p.version for p in queries.package_versions(s, "urn:pkg", statuses=["active"])] == [2]


def test_migration_0005_gives_events_recorded_before_it_their_facts_as_data(db_url):
    """Registers read outcome_data; events recorded by earlier versions had their facts only in
    their text, and the migration reads it once."""
    import datetime as dt

    c = Catalog(db_url)
    c.upgrade("0004")
    when = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
    with c.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO package (id, objid, kind, content_type, version, status, "
                             "total_size, file_count, critical, created_at, updated_at) VALUES "
                             "(1, 'urn:x', 'AIP', 'hoso', 1, 'active', 0, 0, false, :t, :t)"),
                     {"t": when})
        old = [("fixity check", "SHA-256 re-read of every object; location=r1; key=H/P/A/v1; "
                "actor=cli", "objects=3; ok=1; mismatch=1; missing=1; unreadable=0; bytes=42; "
                "seconds=0.250\nmismatch: data/a.pdf\nmissing: data/b.pdf"),
               ("replication", "location=r2; key=H/P/A/v1; objects=3; bytes=42; seconds=0.010; "
                "every object verified by SHA-256", ""),
               ("replication", "from=r2; to=r1; key=H/P/A/v1/data/a.pdf; bytes=7; status=repaired; "
                "tried=-; actor=cli", "Đã khôi phục"),
               ("virus check", "clamd 1.4", "")]
        for i, (kind, detail, outcome_detail) in enumerate(old, 1):
            conn.execute(sa.text("INSERT INTO premis_event (id, event_uuid, event_type, "
                                 "event_datetime, detail, outcome, outcome_detail, package_id) VALUES "
                                 "(:i, :u, :k, :t, :d, 'success', :o, 1)"),
                         {"i": i, "u": f"00000000-0000-4000-8000-00000000000{i}", "k": kind,
                          "t": when, "d": detail, "o": outcome_detail})
    c.upgrade()
    with c.session() as s:
        data = [e.outcome_data for e in s.scalars(
            sa.select(PremisEvent).order_by(PremisEvent.id))]
    c.dispose()
    assert data == [
        {"objects": 3, "ok": 1, "mismatch": 1, "missing": 1, "unreadable": 0, "bytes": 42,
         "seconds": 0.25, "location": "r1", "key": "H/P/A/v1",
         "listed": [["mismatch", "data/a.pdf"], ["missing", "data/b.pdf"]]},
        {"location": "r2", "key": "H/P/A/v1", "objects": 3, "bytes": 42, "seconds": 0.01},
        {"from": "r2", "to": "r1", "key": "H/P/A/v1/data/a.pdf", "bytes": 7, "status": "repaired",
         "tried": [], "actor": "cli"},
        None]
