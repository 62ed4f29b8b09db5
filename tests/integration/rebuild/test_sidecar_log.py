"""The audit log kept next to the AIPs: appended in batches, read back along its hash chain,
restored entry for entry (ids, times, hashes) so that ``verify_chain`` holds after a rebuild."""

from __future__ import annotations

import json

import sqlalchemy as sa

from preservation.catalog import audit as audit_log
from preservation.catalog.db import Catalog
from preservation.catalog.models import AuditEntry
from preservation.packaging.aip.layout import AUDIT_DIR
from storage.filesystem import FilesystemStorage
from storage.sidecar_log import mirror_audit_log, read_audit_chain

ARCHIVE = "TTLTNA"


def catalog_at(path) -> Catalog:
    catalog = Catalog(f"sqlite:///{path}")
    catalog.upgrade()
    return catalog


def test_the_audit_log_round_trips_and_a_tampered_copy_is_outvoted(tmp_path):
    catalog = catalog_at(tmp_path / "a.sqlite")
    (tmp_path / "r1").mkdir()
    (tmp_path / "r2").mkdir()
    r1, r2 = FilesystemStorage(tmp_path / "r1", name="r1"), FilesystemStorage(tmp_path / "r2", name="r2")
    for n in range(5):
        with catalog.session() as s:
            audit_log.record(s, "tester", "test.step", "thing", n, note="Việt")
    assert mirror_audit_log(catalog, [r1, r2], ARCHIVE) == {}
    for n in range(5, 7):
        with catalog.session() as s:
            audit_log.record(s, "tester", "test.step", "thing", n)
    assert mirror_audit_log(catalog, [r1, r2], ARCHIVE) == {}
    assert mirror_audit_log(catalog, [r1, r2], ARCHIVE) == {}  # nothing new: nothing written
    batches = sorted((tmp_path / "r1" / ARCHIVE / AUDIT_DIR).iterdir())
    assert [b.name[:25] for b in batches] == ["000000000001-000000000005",
                                              "000000000006-000000000007"]

    def keys(storage, root):
        return [(storage, p.relative_to(root).as_posix())
                for p in sorted((root / ARCHIVE / AUDIT_DIR).iterdir())]

    chain, problems = read_audit_chain(keys(r1, tmp_path / "r1"))
    assert (len(chain), problems) == (7, [])

    # one location's copy of entry 6 altered: it alone stops the chain there, and the
    # other location's intact copy outvotes it
    batches[1].chmod(0o644)
    lines = batches[1].read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[0])
    lines[0] = json.dumps({**entry, "actor": "someone else"})
    batches[1].write_text("\n".join(lines) + "\n", encoding="utf-8")
    chain, problems = read_audit_chain(keys(r1, tmp_path / "r1"))
    assert len(chain) == 5 and [p[0] for p in problems] == ["audit entry 6", "audit entry 7"]
    chain, problems = read_audit_chain(keys(r1, tmp_path / "r1") + keys(r2, tmp_path / "r2"))
    assert (len(chain), problems) == (7, [])

    rebuilt = catalog_at(tmp_path / "b.sqlite")
    with rebuilt.session() as s:
        assert audit_log.restore(s, chain) == 7
    with rebuilt.session() as s:
        audit_log.record(s, "system", "catalog.rebuild")
    with rebuilt.session() as s, catalog.session() as o:
        assert audit_log.verify_chain(s) == []
        rows = [(a.id, a.entry_hash) for a in s.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
        assert rows[:7] == [(a.id, a.entry_hash)
                            for a in o.scalars(sa.select(AuditEntry).order_by(AuditEntry.id))]
        assert rows[7][0] == 8
    catalog.dispose()
    rebuilt.dispose()
