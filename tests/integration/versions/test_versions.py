"""A metadata change makes AIP v(N+1) with only the changed files and a full inventory; content
files are never rewritten and older versions stay byte for byte as they were (SQLite and
PostgreSQL, two filesystem replicas)."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from preservation.catalog.models import (
    AuditEntry,
    Bitstream,
    Document,
    Package,
    PremisEvent,
    RecordFile,
    StoredCopy,
)
from preservation.packaging.read import read_mets
from storage.errors import ObjectMissing, StorageError
from storage.memory import MemoryStorage
from storage.replication import replicate
from tests.support.khoso import Khoso
from tests.support.versions import (
    DOC_EAD,
    EAD,
    METS,
    PIC_EAD,
    REPLICAS,
    TAGS,
    audit_all,
    ingest,
    logical,
    retitle,
    tree,
    update,
)


def test_title_change_makes_v2_with_only_what_changed(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    r1 = khoso.replica("replica1")
    before = {name: tree(khoso.replica(name) / entity / "v1") for name in REPLICAS}
    title = "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An (đã sửa)"

    outcome = update(khoso, objid, package_ead=retitle((r1 / entity / "v1" / EAD).read_bytes(),
                                                        title))

    assert outcome.accepted, outcome.report
    assert outcome.version == 2 and outcome.key_prefix == f"{entity.as_posix()}/v2"
    held = TAGS | METS | {EAD, "data/metadata/preservation/PREMIS_v2.xml"}
    for name in REPLICAS:
        root = khoso.replica(name) / entity
        assert set(tree(root / "v2")) == held
        assert tree(root / "v1") == before[name]  # v1 untouched, byte for byte
    v2 = r1 / entity / "v2"
    files = logical(v2)
    assert set(files) == {p for p in before["replica1"] if p.startswith("data/")} | {
        "data/metadata/preservation/PREMIS_v2.xml"}
    assert all(f.parent.parent.name == "v1" or "/v1/" in f.as_posix()
               for p, f in files.items() if "/rep1/data/" in p)
    fetch = (v2 / "fetch.txt").read_text()
    assert "../v1/data/representations/rep1/data/tai-lieu-1.pdf " in fetch
    assert "/v2/" not in fetch and EAD not in fetch.replace(f"../v1/{EAD}", "")
    oxum = sum(f.stat().st_size for f in files.values())
    assert f"Payload-Oxum: {oxum}.{len(files)}" in (v2 / "bag-info.txt").read_text()
    root_mets, _ = read_mets((v2 / "data/METS.xml").read_bytes())
    assert root_mets.label == title and root_mets.objid == objid
    assert root_mets.ead.checksum == hashlib.sha256((v2 / EAD).read_bytes()).hexdigest()
    assert root_mets.premis.path == "metadata/preservation/PREMIS_v2.xml"
    assert b"metadata modification" in (v2 / "data/metadata/preservation/PREMIS_v2.xml").read_bytes()

    with khoso.catalog.session() as s:
        pkgs = {p.version: p for p in s.scalars(sa.select(Package).where(Package.objid == objid))}
        assert {v: p.status for v, p in pkgs.items()} == {1: "superseded", 2: "active"}
        assert pkgs[2].previous_id == pkgs[1].id and pkgs[2].label == title
        assert pkgs[2].record_file_id == pkgs[1].record_file_id
        assert s.get(RecordFile, pkgs[2].record_file_id).title == title
        assert set(s.scalars(sa.select(Bitstream.path).where(
            Bitstream.package_id == pkgs[2].id))) == held
        copies = s.scalars(sa.select(StoredCopy).where(StoredCopy.package_id == pkgs[2].id)).all()
        assert {(c.location, c.key) for c in copies} == {
            (n, f"{entity.as_posix()}/v2") for n in REPLICAS}
        assert {c.sha256 for c in copies} == {
            hashlib.sha256((v2 / "tagmanifest-sha256.txt").read_bytes()).hexdigest()}
        events = s.scalars(sa.select(PremisEvent.event_type).where(
            PremisEvent.package_id == pkgs[2].id)).all()
        assert sorted(events) == ["metadata modification", "replication", "replication"]
        entry = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "package.new_version")).one()
        assert entry.object_id == objid and entry.detail["version"] == 2
    audit_all(khoso, copies=4)


def test_invalid_or_code_changing_ead_is_refused_and_nothing_written(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    v1 = khoso.replica("replica1") / entity / "v1"
    ead, doc = (v1 / EAD).read_bytes(), (v1 / DOC_EAD).read_bytes()
    cases = [
        ({"package_ead": ead.replace(b"<maintenance>01<", b"<maintenance>99<")}, "EAD004"),
        ({"package_ead": ead.replace(b".2001.160<", b".2001.161<")}, "VER002"),
        ({"document_eads": {"EAD_doc_tai-lieu-1.xml": doc.replace(b".0000001<", b".0000009<")}},
         "VER004"),
        ({"document_eads": {"EAD_doc_khong-co.xml": doc}}, "VER003"),
        ({"package_ead": ead}, "VER006"),
        ({}, "VER005"),
        ({"package_ead": retitle(ead, "Tiêu đề mới"), "reason": " "}, "VER007"),
        ({"package_ead": b"<simpledc><title>"}, "XML001"),
    ]
    for kwargs, code in cases:
        outcome = update(khoso, objid, **kwargs)
        assert not outcome.accepted and code in outcome.report.codes(), (code, outcome.report)
    outcome = update(khoso, "urn:P623:uuid-KHONG-CO", package_ead=ead)
    assert outcome.report.codes() == {"VER001"}
    for name in REPLICAS:
        assert [p.name for p in (khoso.replica(name) / entity).iterdir()
                if p.name.startswith("v")] == ["v1"]
    with khoso.catalog.session() as s:
        assert [(p.version, p.status) for p in s.scalars(
            sa.select(Package).where(Package.objid == objid))] == [(1, "active")]
        assert not s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "package.new_version")).all()


def test_second_change_makes_v3_fetching_from_the_version_that_holds_each_file(
        khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    root = khoso.replica("replica1") / entity
    assert update(khoso, objid, package_ead=retitle((root / "v1" / EAD).read_bytes(),
                                                     "Tiêu đề v2")).accepted
    doc = (root / "v1" / DOC_EAD).read_bytes().replace(
        "Quyết định số 1<".encode(), "Quyết định số 1 về thành lập Sở Nội vụ<".encode())
    outcome = update(khoso, objid, document_eads={"EAD_doc_tai-lieu-1.xml": doc},
                     reason="Bổ sung trích yếu")
    assert outcome.accepted and outcome.version == 3, outcome.report

    held = TAGS | METS | {DOC_EAD, "data/metadata/preservation/PREMIS_v3.xml"}
    for name in REPLICAS:
        assert set(tree(khoso.replica(name) / entity / "v3")) == held
    fetch = {path: "/".join(url.split("/")[:2]) for url, _, path in (
        line.split(" ", 2) for line in (root / "v3" / "fetch.txt").read_text().splitlines())}
    assert fetch[EAD] == "../v2"
    assert fetch["data/metadata/preservation/PREMIS_v2.xml"] == "../v2"
    assert fetch[PIC_EAD] == "../v1"
    assert fetch["data/representations/rep1/data/tai-lieu-1.pdf"] == "../v1"
    assert fetch["data/metadata/preservation/PREMIS.xml"] == "../v1"
    assert not set(fetch) & held
    files = logical(root / "v3")
    assert len(files) == len(logical(root / "v2")) + 1
    rep, _ = read_mets((root / "v3/data/representations/rep1/METS.xml").read_bytes(), rep=True)
    eads = {d.ead.path: d.ead.checksum for d in rep.documents}
    assert eads[DOC_EAD.removeprefix("data/")] == hashlib.sha256(doc_bytes := (
        root / "v3" / DOC_EAD).read_bytes()).hexdigest()
    assert "về thành lập Sở Nội vụ".encode() in doc_bytes

    with khoso.catalog.session() as s:
        assert [(p.version, p.status) for p in s.scalars(sa.select(Package).where(
            Package.objid == objid).order_by(Package.version))] == [
            (1, "superseded"), (2, "superseded"), (3, "active")]
        subjects = set(s.scalars(sa.select(Document.subject)))
        assert "Quyết định số 1 về thành lập Sở Nội vụ" in subjects
        assert s.scalar(sa.select(RecordFile.title)) == "Tiêu đề v2"
    audit_all(khoso, copies=6)


def test_a_failed_write_leaves_no_version_and_frees_the_number(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    ead = retitle((khoso.replica("replica1") / entity / "v1" / EAD).read_bytes(), "Tiêu đề mới")

    def second_location_down(objects, storages, progress=None):
        return replicate(objects, [storages[0], _Down()], attempts=1, sleep=lambda _: None)

    with pytest.raises(StorageError):
        update(khoso, objid, package_ead=ead, replicate_with=second_location_down)
    for name in REPLICAS:  # replicate removed what it wrote: all or nothing
        assert not (khoso.replica(name) / entity / "v2").exists() or not any(
            p.is_file() for p in (khoso.replica(name) / entity / "v2").rglob("*"))
    with khoso.catalog.session() as s:
        assert [(p.version, p.status) for p in s.scalars(
            sa.select(Package).where(Package.objid == objid))] == [(1, "active")]
    assert update(khoso, objid, package_ead=ead).version == 2  # the reservation was released


class _Down(MemoryStorage):
    def __init__(self) -> None:
        super().__init__("down")

    def put(self, key, stream, **_):
        raise StorageError("STO007", key, key=key, location="down", operation="put",
                           reason="test")

    def delete(self, key):
        raise ObjectMissing(key, "down")
