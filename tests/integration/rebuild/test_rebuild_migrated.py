"""Disaster recovery of a migrated version: the catalog rebuilt from one location alone has
v2 with the PDF/A (its PRONOM format from PREMIS_v2, its document), the original in v1, the
failed migration of another AIP, and equals the original catalog row by row (SQLite and
PostgreSQL)."""

from __future__ import annotations

import sqlalchemy as sa

from access_api.services import migration
from preservation.catalog.models import Bitstream, Package, PremisEvent
from storage.audit import run_audit
from storage.filesystem import FilesystemStorage
from storage.locations import open_storage
from storage.rebuild import rebuild_catalog
from tests.support.khoso import Khoso
from tests.support.migration import OFFICER, PDF, PDFA, context, encrypted_pdf, ingest
from tests.support.rebuild import (
    ARCHIVE,
    LOCATION,
    assert_same,
    catalog_rows,
    write_audit_sidecars,
    write_ingest_sidecars,
)


def test_a_migrated_version_rebuilds_equal_to_the_original(khoso: Khoso, target) -> None:
    objid, _ = ingest(khoso)
    locked, _ = ingest(khoso, "sip2", file_code="H49.64.33.2001.161",
                       **{"tai-lieu-1.pdf": encrypted_pdf(khoso.tmp)})
    write_ingest_sidecars(khoso)
    assert migration.migrate_aip(context(khoso), OFFICER, objid).version == 2
    assert migration.migrate_aip(context(khoso), OFFICER, locked).outcome == "failed"
    storages = {loc.name: open_storage(loc) for loc in khoso.settings.storage_locations}
    assert run_audit(khoso.catalog, storages, due_only=False).ok == 6
    write_audit_sidecars(khoso)

    report = rebuild_catalog(target, FilesystemStorage(khoso.replica(LOCATION), name=LOCATION),
                             archive_code=ARCHIVE)

    assert report.problems == [] and (report.aips_found, report.aips_rebuilt) == (3, 3)
    original, rebuilt = catalog_rows(khoso.catalog, LOCATION), catalog_rows(target, LOCATION)
    assert_same(original, rebuilt)
    with target.session() as s:
        pkgs = {p.version: p for p in s.scalars(sa.select(Package).where(
            Package.objid == objid))}
        assert {v: p.status for v, p in pkgs.items()} == {1: "superseded", 2: "active"}
        pdfa = s.scalars(sa.select(Bitstream).where(Bitstream.package_id == pkgs[2].id,
                                                    Bitstream.path == PDFA)).one()
        original_pdf = s.scalars(sa.select(Bitstream).where(
            Bitstream.package_id == pkgs[1].id, Bitstream.path == PDF)).one()
        assert pdfa.puid == "fmt/477"
        failed = s.scalars(sa.select(PremisEvent).where(PremisEvent.event_type == "migration",
                                                        PremisEvent.outcome == "failure")).one()
        assert "MIG002" in failed.outcome_detail  # the failure, on the locked AIP's v1
        assert pdfa.document_id == original_pdf.document_id is not None
