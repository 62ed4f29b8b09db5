"""Disaster recovery of metadata versions: v2 and v3 hold only the files they changed and fetch
the others from the version that holds them (``preservation.packaging.aip.new_version``); the catalog rebuilt from one
location equals the original row by row, and a version that cannot be trusted is skipped without
leaving the package with no active version (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from preservation.catalog.models import (
    Bitstream,
    Document,
    Package,
    PremisEvent,
    RecordFile,
    StoredCopy,
)
from storage import rebuild as rebuild_module
from storage.audit import run_audit
from storage.filesystem import FilesystemStorage
from storage.locations import open_storage
from storage.rebuild import rebuild_catalog
from tests.support.khoso import Khoso
from tests.support.rebuild import (
    ARCHIVE,
    LOCATION,
    assert_same,
    catalog_rows,
    write_audit_sidecars,
    write_ingest_sidecars,
)
from tests.support.versions import (
    DOC_EAD,
    EAD,
    METS,
    PIC_EAD,
    TAGS,
    ingest,
    retitle,
    update,
)

TITLE = "Hồ sơ về việc thành lập Sở Nội vụ tỉnh Nghệ An (đã sửa)"
SUBJECT = "Quyết định số 1 về thành lập Sở Nội vụ"
HELD = {2: TAGS | METS | {EAD, "data/metadata/preservation/PREMIS_v2.xml"},
        3: TAGS | METS | {DOC_EAD, "data/metadata/preservation/PREMIS_v3.xml"}}


@pytest.fixture
def versioned(khoso: Khoso) -> tuple[Khoso, str, Path]:
    """One hồ sơ (a PDF and a PNG document) at v3: v2 retitled it, v3 corrected the PDF's
    document EAD; then sidecars written, every copy audited, the audit's sidecars written."""
    objid, entity = ingest(khoso)
    root = khoso.replica(LOCATION) / entity
    assert update(khoso, objid, package_ead=retitle((root / "v1" / EAD).read_bytes(),
                                                     TITLE)).version == 2
    doc = (root / "v1" / DOC_EAD).read_bytes().replace(
        "Quyết định số 1<".encode(), f"{SUBJECT}<".encode())
    outcome = update(khoso, objid, document_eads={"EAD_doc_tai-lieu-1.xml": doc},
                     reason="Bổ sung trích yếu")
    assert outcome.version == 3, outcome.report
    write_ingest_sidecars(khoso)
    storages = {loc.name: open_storage(loc) for loc in khoso.settings.storage_locations}
    report = run_audit(khoso.catalog, storages, due_only=False)
    assert (report.copies_checked, report.ok) == (6, 6), report.problems
    write_audit_sidecars(khoso)
    return khoso, objid, root


def rebuild(khoso: Khoso, target):
    return rebuild_catalog(target, FilesystemStorage(khoso.replica(LOCATION), name=LOCATION),
                           archive_code=ARCHIVE)


def packages(catalog, objid: str) -> dict[int, Package]:
    with catalog.session() as s:
        return {p.version: p for p in s.scalars(sa.select(Package).where(Package.objid == objid))}


def rewrite_tag(version_dir: Path, name: str, text: str) -> None:
    """Replace a tag file and its line in the tag manifest, so only the change is checked."""
    (version_dir / name).chmod(0o644)
    old = hashlib.sha256((version_dir / name).read_bytes()).hexdigest()
    (version_dir / name).write_text(text)
    tagmanifest = version_dir / "tagmanifest-sha256.txt"
    tagmanifest.chmod(0o644)
    tagmanifest.write_text(tagmanifest.read_text().replace(
        old, hashlib.sha256(text.encode()).hexdigest()))


def test_versions_rebuild_equal_to_original_row_by_row(versioned, target) -> None:
    khoso, objid, _ = versioned

    report = rebuild(khoso, target)

    assert report.problems == []
    assert (report.aips_found, report.aips_rebuilt, report.aips_skipped) == (3, 3, 0)
    assert (report.record_files, report.documents) == (1, 2)  # made once, updated by v2, v3
    assert report.sidecar_events == 3 * 2 + 3 * 2  # replication + fixity, both locations
    original, rebuilt = catalog_rows(khoso.catalog, LOCATION), catalog_rows(target, LOCATION)
    assert {t: len(r) for t, r in rebuilt.items()} == {t: len(r) for t, r in original.items()}
    assert_same(original, rebuilt)

    pkgs = packages(target, objid)
    assert {v: p.status for v, p in pkgs.items()} == {1: "superseded", 2: "superseded",
                                                      3: "active"}
    assert pkgs[2].previous_id == pkgs[1].id and pkgs[3].previous_id == pkgs[2].id
    assert {p.record_file_id for p in pkgs.values()} == {pkgs[1].record_file_id}
    assert pkgs[2].label == pkgs[3].label == TITLE
    with target.session() as s:
        assert s.scalars(sa.select(RecordFile.title)).all() == [TITLE]  # from v2
        docs = {d.kind: d for d in s.scalars(sa.select(Document))}
        assert set(docs) == {"van_ban", "pic"}
        assert docs["van_ban"].subject == SUBJECT  # from v3
        assert {d.package_id for d in docs.values()} == {pkgs[1].id}
        assert docs["pic"].image_title == "Ảnh buổi lễ 2"
        paths = {v: set(s.scalars(sa.select(Bitstream.path).where(
            Bitstream.package_id == p.id))) for v, p in pkgs.items()}
        assert paths[2] == HELD[2] and paths[3] == HELD[3]  # what each version holds
        assert {p for p in paths[1] if p.endswith((".pdf", ".png"))} == {
            "data/representations/rep1/data/tai-lieu-1.pdf",
            "data/representations/rep1/data/tai-lieu-2.png"}
        assert s.scalar(sa.select(sa.func.count()).select_from(Bitstream).where(
            Bitstream.document_id.is_not(None))) == 2  # the content files, in v1 only
        for v, p in pkgs.items():
            assert p.file_count == len(paths[v])
        copies = {c.package_id: c for c in s.scalars(sa.select(StoredCopy))}
        assert {v: copies[p.id].key.rsplit("/", 1)[1] for v, p in pkgs.items()} == {
            1: "v1", 2: "v2", 3: "v3"}
        events = {v: sorted(s.scalars(sa.select(PremisEvent.event_type).where(
            PremisEvent.package_id == p.id))) for v, p in pkgs.items()}
    for v in (2, 3):
        assert events[v] == ["fixity check", "fixity check", "metadata modification",
                             "replication", "replication"], events[v]
    assert "metadata modification" not in events[1]


def test_a_damaged_latest_version_leaves_the_one_before_active(versioned, target) -> None:
    khoso, objid, root = versioned
    tagmanifest = root / "v3" / "tagmanifest-sha256.txt"
    tagmanifest.chmod(0o644)
    text = tagmanifest.read_text()
    tagmanifest.write_text(("0" if text[0] != "0" else "1") + text[1:])

    report = rebuild(khoso, target)

    assert (report.aips_rebuilt, report.aips_skipped) == (2, 1)
    assert [(p["code"], p["path"]) for p in report.problems] == [
        ("RBD003", f"{root.relative_to(khoso.replica(LOCATION)).as_posix()}/v3"),
        ("RBD038", ARCHIVE)]
    pkgs = packages(target, objid)
    assert {v: p.status for v, p in pkgs.items()} == {1: "superseded", 2: "active"}
    with target.session() as s:
        assert s.scalars(sa.select(RecordFile.title)).all() == [TITLE]
        assert set(s.scalars(sa.select(Document.subject))) == {"Quyết định số 1", None}


@pytest.mark.parametrize(("change", "code"), [
    (lambda url: url.replace("../v1/", "../../../P999/TTLTNA.X/v1/"), "RBD017"),  # other entity
    (lambda url: url.replace("../v1/", "../v2/"), "RBD017"),  # not an earlier version
    (lambda url: url.replace("../v1/", "../v1/../../v1/"), "RBD017"),  # climbs out
    (lambda url: url.replace("../v1/", "/v1/"), "RBD017"),  # not relative
    (lambda url: None, "RBD005"),  # neither held nor fetched
], ids=["other-entity", "same-version", "climbs-out", "absolute", "not-fetched"])
def test_a_bad_fetch_line_skips_that_version_only(versioned, target, change, code) -> None:
    khoso, objid, root = versioned
    v2 = root / "v2"
    lines = []
    for line in (v2 / "fetch.txt").read_text().splitlines():
        url, size, path = line.split(" ", 2)
        if path == "data/representations/rep1/data/tai-lieu-1.pdf":
            url = change(url)
            if url is None:
                continue
        lines.append(f"{url} {size} {path}")
    rewrite_tag(v2, "fetch.txt", "".join(f"{line}\n" for line in lines))

    report = rebuild(khoso, target)

    assert [p["code"] for p in report.problems] == [code, "RBD038"], report.problems
    assert report.problems[0]["path"].endswith("/v2")
    assert (report.aips_rebuilt, report.aips_skipped) == (2, 1)
    assert {v: p.status for v, p in packages(target, objid).items()} == {
        1: "superseded", 3: "active"}
    with target.session() as s:  # v3 still finds and updates the rows v1 made
        assert (report.record_files, report.documents) == (1, 2)
        assert SUBJECT in set(s.scalars(sa.select(Document.subject)))
        assert s.scalars(sa.select(RecordFile.title)).all() == [TITLE]  # v3's EAD, from v2


def test_fetched_metadata_is_checked_against_this_versions_manifest(versioned, target) -> None:
    """v3's rep1 METS reads the picture EAD from v1: believed only if it has the digest v3's
    own manifest gives it, even though every tag file of v3 is intact."""
    khoso, objid, root = versioned
    v3 = root / "v3"
    text = (v3 / "manifest-sha256.txt").read_text()
    digest = next(line.split()[0] for line in text.splitlines() if line.endswith(PIC_EAD))
    rewrite_tag(v3, "manifest-sha256.txt", text.replace(digest, "0" * 64))

    report = rebuild(khoso, target)

    assert [(p["code"], p["params"].get("file")) for p in report.problems] == [
        ("RBD006", PIC_EAD), ("RBD038", None)]
    assert report.problems[0]["path"].endswith("/v3")
    assert {v: p.status for v, p in packages(target, objid).items()} == {
        1: "superseded", 2: "active"}


def test_verify_rehashes_what_each_version_holds(versioned, target) -> None:
    khoso, objid, root = versioned
    report = rebuild_catalog(target, FilesystemStorage(khoso.replica(LOCATION), name=LOCATION),
                             archive_code=ARCHIVE, verify=True)
    assert (report.problems, report.aips_rebuilt) == ([], 3)
    with target.session() as s:
        assert set(s.scalars(sa.select(StoredCopy.last_check_detail))) == {
            "verified by catalog rebuild"}


def test_a_latest_version_that_cannot_be_written_leaves_the_one_before_active(
        versioned, target, monkeypatch) -> None:
    khoso, objid, _ = versioned
    insert_events = rebuild_module._Rebuild.insert_events

    def failing(self, s, aip, *args):
        if aip.version == 3:
            raise RuntimeError("disk full")
        return insert_events(self, s, aip, *args)

    monkeypatch.setattr(rebuild_module._Rebuild, "insert_events", failing)
    report = rebuild(khoso, target)

    assert [(p["code"], p["params"].get("reason")) for p in report.problems] == [
        ("RBD008", "disk full"), ("RBD038", None)]
    assert {v: p.status for v, p in packages(target, objid).items()} == {
        1: "superseded", 2: "active"}
    with target.session() as s:  # v3's update of the document was rolled back with it
        assert "Quyết định số 1" in set(s.scalars(sa.select(Document.subject)))


def test_a_version_damaged_in_one_location_comes_from_the_other(versioned, target) -> None:
    """Every location is read: v3's copy in replica1 fails its tag manifest, replica2's is
    good, so v3 is rebuilt from there, stays the active version, and both copies of every
    version are registered (replica1's v3 as a mismatch, for the repair)."""
    khoso, objid, root = versioned
    tagmanifest = root / "v3" / "tagmanifest-sha256.txt"
    tagmanifest.chmod(0o644)
    text = tagmanifest.read_text()
    tagmanifest.write_text(("0" if text[0] != "0" else "1") + text[1:])
    storages = [FilesystemStorage(khoso.replica(name), name=name)
                for name in (LOCATION, "replica2")]

    report = rebuild_catalog(target, storages, archive_code=ARCHIVE)

    assert (report.aips_rebuilt, report.aips_skipped, report.complete) == (3, 0, True)
    assert [(p["code"], p["params"]["location"], p["params"]["failed"])
            for p in report.problems] == [("RBD039", LOCATION, "RBD003")]
    assert {v: p.status for v, p in packages(target, objid).items()} == {
        1: "superseded", 2: "superseded", 3: "active"}
    with target.session() as s:
        copies = {(key.rsplit("/", 1)[1], loc): result for key, loc, result in s.execute(
            sa.select(StoredCopy.key, StoredCopy.location, StoredCopy.last_check_result))}
        assert s.scalars(sa.select(RecordFile.title)).all() == [TITLE]
        assert SUBJECT in set(s.scalars(sa.select(Document.subject)))
    assert copies == {(f"v{v}", loc): "mismatch" if (v, loc) == (3, LOCATION) else "ok"
                      for v in (1, 2, 3) for loc in (LOCATION, "replica2")}
