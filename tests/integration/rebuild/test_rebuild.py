"""Disaster recovery: the catalog rebuilt from one location alone equals the original, row by row.

Rows are compared on natural keys (objid + version, arc_file_code, arc_doc_code, (package,
path), event_uuid…), never on surrogate ids or on the times a row was written. The two
documented losses are applied to the original before comparing: PREMIS XML keeps event times
to the millisecond, and only this location's stored copies come back.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from preservation.catalog.models import (
    PremisEvent,
    StoredCopy,
)
from preservation.errors import KhosoError
from storage.filesystem import FilesystemStorage
from storage.rebuild import rebuild_catalog
from tests.support.rebuild import (
    ARCHIVE,
    LOCATION,
    assert_same,
    catalog_rows,
)


def test_rebuild_equals_original_row_by_row(ingested, target):
    storage = FilesystemStorage(ingested.replica(LOCATION), name=LOCATION)
    seen: list[tuple[int, int]] = []
    report = rebuild_catalog(target, storage, archive_code=ARCHIVE,
                             progress=lambda _stage, done, total: seen.append((done, total)))

    assert report.problems == []
    assert (report.aips_found, report.aips_rebuilt, report.aips_skipped) == (3, 3, 0)
    assert (report.record_files, report.documents) == (3, 6)
    assert report.sidecar_events == 3 * 2 + 3 * 2  # replication + fixity, both locations
    assert seen[-1] == (3, 3)
    original, rebuilt = catalog_rows(ingested.catalog, LOCATION), catalog_rows(target, LOCATION)
    assert {t: len(r) for t, r in rebuilt.items()} == {t: len(r) for t, r in original.items()}
    assert len(rebuilt["stored_copy"]) == 3 and len(rebuilt["premis_event"]) > 60  # 28 per AIP
    assert_same(original, rebuilt)
    with target.session() as s:  # what the registers read comes back as data
        data = list(s.scalars(sa.select(PremisEvent.outcome_data).where(
            PremisEvent.event_type.in_(("fixity check", "replication")))))
    assert len(data) == 12 and all(d and d["key"] for d in data)
    assert report.complete
    with pytest.raises(KhosoError) as refused:  # a complete catalog is never rebuilt into
        rebuild_catalog(target, storage, archive_code=ARCHIVE)
    assert refused.value.code == "RBD012"


def test_damaged_tagmanifest_skips_that_aip_only(ingested, target):
    root = ingested.replica(LOCATION)
    tagmanifest = sorted(root.glob(f"{ARCHIVE}/*/*/v1/tagmanifest-sha256.txt"))[1]
    text = tagmanifest.read_text()
    tagmanifest.chmod(0o644)
    tagmanifest.write_text(("0" if text[0] != "0" else "1") + text[1:])
    damaged = str(tagmanifest.parent.relative_to(root))

    report = rebuild_catalog(target, FilesystemStorage(root, name=LOCATION), archive_code=ARCHIVE)

    assert (report.aips_found, report.aips_rebuilt, report.aips_skipped) == (3, 2, 1)
    assert [(p["code"], p["path"]) for p in report.problems] == [
        ("RBD003", damaged), ("RBD038", ARCHIVE)]  # and the catalog is marked incomplete
    assert report.complete is False
    with target.session() as s:
        keys = set(s.scalars(sa.select(StoredCopy.key)))
        events = s.scalar(sa.select(sa.func.count()).select_from(PremisEvent)
                          .where(PremisEvent.package_id.is_(None)))
    assert len(keys) == 2 and damaged not in keys and events == 0


def test_verify_rehashes_payload(ingested, target):
    root = ingested.replica(LOCATION)
    pdf = sorted(root.glob(f"{ARCHIVE}/*/*/v1/data/representations/rep1/data/*.pdf"))[0]
    pdf.chmod(0o644)
    pdf.write_bytes(pdf.read_bytes() + b"%")
    storage = FilesystemStorage(root, name=LOCATION)

    report = rebuild_catalog(target, storage, archive_code=ARCHIVE, verify=True)

    assert (report.aips_rebuilt, report.aips_skipped) == (2, 1)
    assert [p["code"] for p in report.problems] == ["RBD006", "RBD038"]
    with target.session() as s:
        assert set(s.scalars(sa.select(StoredCopy.last_check_detail))) == {
            "verified by catalog rebuild"}
    again = rebuild_catalog(target, storage, archive_code=ARCHIVE, verify=True)  # runs again
    assert (again.aips_rebuilt, again.aips_skipped, again.complete) == (0, 1, False)


def test_empty_location_gives_empty_catalog(target, tmp_path: Path):
    (tmp_path / "empty").mkdir()
    report = rebuild_catalog(target, FilesystemStorage(tmp_path / "empty", name="empty"),
                             archive_code=ARCHIVE)
    assert (report.aips_found, report.aips_rebuilt, report.problems) == (0, 0, [])
    rows = catalog_rows(target, "empty")
    assert all(not r for r in rows.values()), {t: len(r) for t, r in rows.items()}
