"""A destruction that stops midway (the second location fails after some of its deletions):
503 DES020, nothing recorded as destroyed; the fixity audit run meanwhile neither copies the
destroyed bytes back nor calls them lost; executing again finishes and the tombstone counts
the keys every location held when the execution started."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from access_api.services import audit
from access_api.services.base import Identity, ServiceContext
from preservation.catalog.models import AuditEntry, DisposalCase, Package, RecordFile, Tombstone
from storage.errors import os_error
from storage.filesystem import FilesystemStorage
from tests.integration.disposal.conftest import EXPIRED, World
from tests.integration.disposal.test_disposal_api import (
    code,
    decide,
    endorse,
    entity_keys,
    open_case,
    post,
)

pytestmark = pytest.mark.integration


def test_a_destruction_failing_midway_is_not_undone_by_the_audit(world: World, monkeypatch):
    post(world, "luu-tru", "/scan")
    case_id = open_case(world, [EXPIRED])
    endorse(world, case_id)
    assert decide(world, case_id).status_code == 200
    before = entity_keys(world, EXPIRED)
    assert all(before.values())
    delete = FilesystemStorage.delete
    done: list[str] = []

    def failing_midway(self, key):
        if self.name == "replica2" and len(done) >= 2:  # its disk goes read-only
            raise os_error(key, self.name, "delete", OSError(30, "Read-only file system"))
        if self.name == "replica2":
            done.append(key)
        return delete(self, key)

    monkeypatch.setattr(FilesystemStorage, "delete", failing_midway)
    resp = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert resp.status_code == 503 and resp.get_json()["code"] == "DES020", resp.get_json()
    half = entity_keys(world, EXPIRED)
    assert half["replica1"] == [] and 0 < len(half["replica2"]) < len(before["replica2"])
    assert half["offsite"] == before["offsite"]
    with world.khoso.catalog.session() as s:
        assert s.get_one(DisposalCase, case_id).status == "approved"
        rf = s.scalars(sa.select(RecordFile).where(sa.or_(
            RecordFile.file_code == EXPIRED, RecordFile.arc_file_code == code(EXPIRED)))).one()
        assert rf.state != "destroyed" and not s.scalars(sa.select(Tombstone)).all()

    # the scheduled audit with repair runs before anyone retries
    ctx = ServiceContext(world.khoso.settings, world.khoso.catalog)
    report = audit.audit(ctx, Identity.system("scheduler"), due_only=False, repair=True)
    assert report.repaired == 0 and report.critical == []
    assert entity_keys(world, EXPIRED) == half, "destroyed bytes copied back"
    with world.khoso.catalog.session() as s:
        assert not any(p.critical for p in s.scalars(sa.select(Package)))
        assert "package.critical" not in set(s.scalars(sa.select(AuditEntry.action)))

    monkeypatch.setattr(FilesystemStorage, "delete", delete)  # the disk is back
    resp = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert resp.status_code == 200, resp.get_json()
    assert entity_keys(world, EXPIRED) == {n: [] for n in before}
    with world.khoso.catalog.session() as s:
        (stone,) = s.scalars(sa.select(Tombstone))
        assert stone.locations == {n: len(k) for n, k in before.items()}
