"""A plain PDF (and a GIF 87a) in a stored AIP migrated to PDF/A-2b (TIFF) in a new version,
the original untouched; a file that cannot be converted leaves the AIP as it was
(SQLite and PostgreSQL, two filesystem replicas, the real Ghostscript, Pillow and siegfried)."""

from __future__ import annotations

import pygfried
import pytest
import sqlalchemy as sa
from lxml import etree

from access_api.services import aips as aips_service
from access_api.services import migration
from access_api.services.base import Identity
from preservation.catalog.models import AuditEntry, Bitstream, Package, PremisEvent
from preservation.catalog.vocab import MigrationOutcome
from preservation.errors import Forbidden, KhosoError, NotFound
from preservation.packaging.read import read_mets
from preservation.packaging.validate import validate_mets, validate_premis
from tests.support.khoso import Khoso
from tests.support.migration import (
    OFFICER,
    PDF,
    PDFA,
    PIC,
    TIFF,
    context,
    encrypted_pdf,
    gif87a,
    ingest,
    sha256,
)
from tests.support.versions import REPLICAS, audit_all, logical, tree

PREMIS_NS = {"p": "http://www.loc.gov/premis/v3"}


def test_plain_pdf_gets_a_pdfa_copy_in_v2_and_the_original_stays_byte_identical(
        khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    before = {name: tree(khoso.replica(name) / entity / "v1") for name in REPLICAS}
    original = sha256(khoso.replica("replica1") / entity / "v1" / PDF)
    ctx = context(khoso)

    result = migration.migrate_aip(ctx, OFFICER, objid)

    assert result.outcome == MigrationOutcome.MIGRATED and result.version == 2, result
    assert result.migrated == {PDF: PDFA} and result.failed == []
    for name in REPLICAS:
        root = khoso.replica(name) / entity
        assert tree(root / "v1") == before[name]  # v1 untouched, byte for byte
        assert PDFA in tree(root / "v2") and PDF not in tree(root / "v2")
    v2 = khoso.replica("replica1") / entity / "v2"
    files = logical(v2)  # every manifest line resolved and its SHA-256 checked
    assert sha256(files[PDF]) == original and files[PDF] == (
        khoso.replica("replica1") / entity / "v1" / PDF).resolve()
    assert "../v1/data/representations/rep1/data/tai-lieu-1.pdf " in (v2 / "fetch.txt").read_text()
    assert pygfried.identify(str(v2 / PDFA)) == "fmt/477"  # PDF/A-2b

    for mets in ("data/METS.xml", "data/representations/rep1/METS.xml"):
        assert validate_mets((v2 / mets).read_bytes()).ok, mets
    premis = (v2 / "data/metadata/preservation/PREMIS_v2.xml").read_bytes()
    assert validate_premis(premis).ok
    rep, _ = read_mets((v2 / "data/representations/rep1/METS.xml").read_bytes(), rep=True)
    doc = next(d for d in rep.documents if any(f.path == PDF[5:] for f in d.files))
    assert [f.path for f in doc.files] == [PDF[5:], PDFA[5:]]  # same document, after it
    assert {f.path: f.checksum for f in doc.files}[PDFA[5:]] == sha256(v2 / PDFA)

    doc_xml = etree.fromstring(premis)
    new = doc_xml.xpath("//p:object[p:objectIdentifier/p:objectIdentifierValue=$v]",
                        namespaces=PREMIS_NS, v=PDFA[5:])[0]
    assert new.xpath("string(.//p:messageDigest)", namespaces=PREMIS_NS) == sha256(v2 / PDFA)
    assert new.xpath("string(.//p:formatRegistryKey)", namespaces=PREMIS_NS) == "fmt/477"
    rel = new.xpath("p:relationship", namespaces=PREMIS_NS)[0]
    assert rel.xpath("string(p:relationshipType)", namespaces=PREMIS_NS) == "derivation"
    assert rel.xpath("string(p:relationshipSubType)", namespaces=PREMIS_NS) == "has source"
    assert rel.xpath("string(.//p:relatedObjectIdentifierValue)",
                     namespaces=PREMIS_NS) == PDF[5:]
    event = doc_xml.xpath("//p:event[p:eventType='migration']", namespaces=PREMIS_NS)[0]
    assert event.xpath("string(.//p:eventOutcome)", namespaces=PREMIS_NS) == "success"
    assert rel.xpath("string(.//p:relatedEventIdentifierValue)", namespaces=PREMIS_NS) == \
        event.xpath("string(.//p:eventIdentifierValue)", namespaces=PREMIS_NS)
    assert b"Ghostscript 10" in premis

    with khoso.catalog.session() as s:
        pkgs = {p.version: p for p in s.scalars(sa.select(Package).where(Package.objid == objid))}
        assert {v: p.status for v, p in pkgs.items()} == {1: "superseded", 2: "active"}
        row = s.scalars(sa.select(Bitstream).where(Bitstream.package_id == pkgs[2].id,
                                                   Bitstream.path == PDFA)).one()
        src = s.scalars(sa.select(Bitstream).where(Bitstream.package_id == pkgs[1].id,
                                                   Bitstream.path == PDF)).one()
        assert (row.puid, row.sha256) == ("fmt/477", sha256(v2 / PDFA))
        assert row.document_id == src.document_id is not None
        assert src.sha256 == original
        types = {(e.event_type, e.outcome) for e in s.scalars(sa.select(PremisEvent).where(
            PremisEvent.package_id == pkgs[2].id))}
        assert {("migration", "success"), ("format identification", "success"),
                ("replication", "success")} <= types
        entry = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "package.migration")
                          ).one()
        assert entry.actor == "officer-1" and entry.object_id == objid
    shown = aips_service.show_aip(ctx, OFFICER, objid)
    assert [v.version for v in shown.versions] == [1, 2]
    audit_all(khoso, copies=4)  # two versions × two replicas, all intact

    again = migration.migrate_aip(ctx, OFFICER, objid)  # idempotent
    assert again.outcome == MigrationOutcome.NOTHING_TO_DO and again.already == [PDF]
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Package).where(
            Package.objid == objid)) == 2


def test_gif87a_gets_a_lossless_tiff_copy(khoso: Khoso) -> None:
    gif = gif87a(khoso.tmp)
    objid, entity = ingest(khoso, **{"tai-lieu-2.png": gif})
    result = migration.migrate_aip(context(khoso), OFFICER, objid, ["fmt/3"])
    assert result.outcome == MigrationOutcome.MIGRATED and result.migrated == {PIC: TIFF}
    v2 = khoso.replica("replica2") / entity / "v2"
    assert set(tree(v2)) >= {TIFF} and PDF not in tree(v2)  # the PDF was not asked for
    assert pygfried.identify(str(v2 / TIFF)) == "fmt/353"
    from PIL import Image, ImageChops

    with Image.open(v2 / TIFF) as t, Image.open(logical(v2)[PIC]) as g:
        assert ImageChops.difference(t.convert("RGB"), g.convert("RGB")).getbbox() is None
    assert sha256(logical(v2)[PIC]) == sha256(khoso.replica("replica2") / entity / "v1" / PIC)
    assert validate_premis((v2 / "data/metadata/preservation/PREMIS_v2.xml").read_bytes()).ok


def test_encrypted_pdf_is_not_migrated_and_the_aip_stays_as_it_was(khoso: Khoso) -> None:
    objid, entity = ingest(khoso, **{"tai-lieu-1.pdf": encrypted_pdf(khoso.tmp)})
    before = {name: tree(khoso.replica(name) / entity / "v1") for name in REPLICAS}

    result = migration.migrate_aip(context(khoso), OFFICER, objid)

    assert result.outcome == MigrationOutcome.FAILED and result.version is None
    (issue,) = result.failed
    assert issue["code"] == "MIG002" and "mật khẩu" in issue["message"]
    assert "password" in issue["message_en"]
    for name in REPLICAS:
        assert tree(khoso.replica(name) / entity / "v1") == before[name]
        assert not (khoso.replica(name) / entity / "v2").exists()
    with khoso.catalog.session() as s:
        (pkg,) = s.scalars(sa.select(Package).where(Package.objid == objid))
        assert pkg.status == "active" and pkg.version == 1
        failed = s.scalars(sa.select(PremisEvent).where(
            PremisEvent.package_id == pkg.id, PremisEvent.event_type == "migration")).one()
        assert failed.outcome == "failure" and "MIG002" in failed.outcome_detail
        assert s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "package.migration_failed")).one().object_id == objid
    events = b"".join(p.read_bytes() for p in
                      (khoso.replica("replica1") / entity / "_events").rglob("*") if p.is_file())
    assert failed.event_uuid.encode() in events  # mirrored beside the AIP


def test_only_officers_migrate_and_an_unknown_aip_is_404(khoso: Khoso) -> None:
    ctx = context(khoso)
    with pytest.raises(Forbidden):
        migration.migrate_aip(ctx, Identity("reader-1"), "urn:P623:uuid-x")
    with pytest.raises(NotFound) as err:
        migration.migrate_aip(ctx, OFFICER,
                              "urn:P623:uuid-00000000-0000-0000-0000-000000000000")
    assert err.value.code == "GEN002"


def test_a_name_the_agency_already_used_is_never_overwritten(khoso: Khoso) -> None:
    """The agency sent ``tai-lieu-1.pdfa-2b.pdf`` beside ``tai-lieu-1.pdf`` (as the catalog
    records v1): that name is not a migration, so the PDF is refused (MIG007), not skipped."""
    objid, entity = ingest(khoso)
    with khoso.catalog.session() as s:
        v1 = s.scalars(sa.select(Package).where(Package.objid == objid)).one()
        s.add(Bitstream(package_id=v1.id, path=PDFA, size=1, sha256="0" * 64, puid="fmt/477",
                        mime="application/pdf"))

    result = migration.migrate_aip(context(khoso), OFFICER, objid, ["fmt/276"])

    assert result.outcome == MigrationOutcome.FAILED and result.already == []
    assert [i["code"] for i in result.failed] == ["MIG007"]
    assert "tai-lieu-1.pdfa-2b.pdf" in result.failed[0]["message"]
    assert not (khoso.replica("replica1") / entity / "v2").exists()


def test_a_damaged_copy_is_passed_over_and_no_good_copy_refuses(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    damaged = khoso.replica("replica1") / entity / "v1" / PDF
    good = damaged.read_bytes()
    damaged.chmod(0o644)
    damaged.write_bytes(good.replace(b"Quy", b"Qxy", 1))
    assert damaged.read_bytes() != good and len(damaged.read_bytes()) == len(good)

    result = migration.migrate_aip(context(khoso), OFFICER, objid)  # from replica2

    assert result.outcome == MigrationOutcome.MIGRATED
    other, entity2 = ingest(khoso, "sip2", file_code="H49.64.33.2001.161")
    for name in REPLICAS:
        copy = khoso.replica(name) / entity2 / "v1" / PDF
        copy.chmod(0o644)
        copy.write_bytes(b"%PDF-1.7 not what was stored")
    with pytest.raises(KhosoError) as err:
        migration.migrate_aip(context(khoso), OFFICER, other)
    assert err.value.code == "VER009" and not err.value.transient
    assert "SHA-256" in err.value.message("en")
    assert not (khoso.replica("replica1") / entity2 / "v2").exists()
