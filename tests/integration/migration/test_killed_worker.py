"""A migration worker killed at each step of making v2: after the reservation, half-way
through writing the objects, after writing them all, after registering. A kill runs no
clean-up (no ``except``, no ``finally``, its lease thread dies with it), so the fault hook
raises a ``BaseException`` the job runner does not catch, with the release of the reservation
disabled and the lease thread stopped. Then the job's next run (its lease run out) must
finish: v2 registered whole and audited clean, v1 byte for byte as it was, no reserved row and
no stray object left; and a job given up by the sweep takes its half-made version back."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from access_api.services import migration
from access_api.services import migration_recovery as recovery
from ingest.jobs import LOST_LIMIT, Lease
from preservation.catalog.models import Job, Package
from preservation.packaging.aip import migrated_version as mv
from tests.support.khoso import Khoso
from tests.support.migration import PDFA, context, ingest
from tests.support.versions import REPLICAS, audit_all, tree

pytestmark = pytest.mark.integration
STEPS = ("reserved", "half-written", "written", "registered")


class Killed(BaseException):
    """The worker's death: not an ``Exception``, so no handler of the code under test runs."""


def kill_at(step: str, monkeypatch: pytest.MonkeyPatch) -> list[Lease]:
    """Arm the fault at ``step``; the leases started, for the test to stop as a kill would."""
    leases: list[Lease] = []

    class Recorded(Lease):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            leases.append(self)

    monkeypatch.setattr(migration, "Lease", Recorded)
    monkeypatch.setattr(mv, "_release", lambda *a, **k: None)  # a kill releases nothing
    if step == "reserved":
        real_note = recovery.note

        def note(*args: Any) -> None:
            real_note(*args)
            raise Killed

        monkeypatch.setattr(recovery, "note", note)
    elif step in ("half-written", "written"):
        real = migration.replicate

        def replicate(objects, storages, **kwargs):
            upto = len(objects) // 2 if step == "half-written" else len(objects)
            real(objects[:upto], storages, **kwargs)
            raise Killed

        monkeypatch.setattr(migration, "replicate", replicate)
    else:
        real_register: Callable[..., Any] = mv._register

        def register(*args: Any, **kwargs: Any) -> Any:
            real_register(*args, **kwargs)
            raise Killed

        monkeypatch.setattr(mv, "_register", register)
    return leases


def died(khoso: Khoso, job_id: str, leases: list[Lease]) -> None:
    """The dead worker's lease stops being renewed and runs out."""
    for lease in leases:
        lease.stop()
    with khoso.catalog.session() as s:
        s.get_one(Job, job_id).lease_until = time.time() - 1


def versions(khoso: Khoso) -> list[tuple[int, str]]:
    with khoso.catalog.session() as s:
        return [(p.version, p.status) for p in s.scalars(
            sa.select(Package).where(Package.kind == "AIP").order_by(Package.version))]


def start(khoso: Khoso, step: str) -> tuple[str, Any, dict[str, dict]]:
    objid, entity = ingest(khoso)
    before = {name: tree(khoso.replica(name) / entity / "v1") for name in REPLICAS}
    job_id = migration.queue_aip(context(khoso), "officer-1", objid, ["fmt/276"],
                                 send=lambda jid: f"task-{jid}")
    with pytest.MonkeyPatch.context() as patched, pytest.raises(Killed):
        leases = kill_at(step, patched)
        migration.run_job(context(khoso), job_id)
    died(khoso, job_id, leases)
    return job_id, entity, before


@pytest.mark.parametrize("step", STEPS)
def test_the_next_run_finishes_a_version_a_killed_worker_left(khoso: Khoso, step: str) -> None:
    job_id, entity, before = start(khoso, step)
    left = versions(khoso)
    if step == "registered":
        assert left == [(1, "superseded"), (2, "active")]
    else:
        assert left == [(1, "active"), (2, "received")], "reserved, never current"
        written = [p for name in REPLICAS for p in (khoso.replica(name) / entity / "v2").rglob("*")
                   if p.is_file()]
        assert bool(written) == (step != "reserved")

    result = migration.run_job(context(khoso), job_id)

    assert result is not None, "the job ran again"
    with khoso.catalog.session() as s:
        job = s.get_one(Job, job_id)
        assert job.status == "succeeded", job.error
        assert recovery.RESERVED not in job.payload
    assert versions(khoso) == [(1, "superseded"), (2, "active")]
    for name in REPLICAS:
        root = khoso.replica(name) / entity
        assert tree(root / "v1") == before[name], "the original untouched"
        assert PDFA in tree(root / "v2")
    audit_all(khoso, copies=4)  # both versions whole in both replicas, no stray object


def test_a_job_given_up_takes_its_half_made_version_back(khoso: Khoso) -> None:
    job_id, entity, before = start(khoso, "half-written")
    # a put killed mid-write leaves its temporary file, which no listing shows
    partial = khoso.replica("replica1") / entity / "v2" / "data" / ".khoso-tmp-killed-1"
    partial.parent.mkdir(parents=True, exist_ok=True)
    partial.write_bytes(b"half a file")
    with khoso.catalog.session() as s:
        s.get_one(Job, job_id).attempts = LOST_LIMIT
    sent: list[str] = []
    later = time.time() + khoso.settings.job_visibility_timeout + 1
    assert migration.recover_jobs(context(khoso), lambda j: sent.append(j) or "t",
                                  now=later) == []
    with khoso.catalog.session() as s:
        assert s.get_one(Job, job_id).status == "failed"
    assert versions(khoso) == [(1, "active")], "the reserved row is gone"
    for name in REPLICAS:
        root = khoso.replica(name) / entity
        assert tree(root / "v1") == before[name]
        assert not (root / "v2").exists(), "no half-made object, no empty folder left"
    # a new job migrates the AIP
    objid = migration.holders(context(khoso), "fmt/276")[0]
    again = migration.queue_aip(context(khoso), "officer-1", objid, ["fmt/276"],
                                send=lambda jid: f"task-{jid}")
    assert again != job_id
    result = migration.run_job(context(khoso), again)
    assert result is not None and result.version == 2
    audit_all(khoso, copies=4)


def test_a_reservation_replaced_under_the_same_id_is_not_the_jobs(khoso: Khoso) -> None:
    """The dead run's row taken back by another change, which reserved v2 again: SQLite may
    give the new row the same id. The job's take-back sees another holder and touches
    nothing of the new run's."""
    job_id, entity, _ = start(khoso, "half-written")
    with khoso.catalog.session() as s:
        reserved = s.get_one(Job, job_id).payload[recovery.RESERVED]
        old = s.get_one(Package, reserved["package_id"])
        columns = {c: getattr(old, c) for c in ("objid", "kind", "content_type", "version",
                                                 "previous_id", "label")}
        s.delete(old)
        s.flush()
        s.add(Package(id=reserved["package_id"], status="received",
                      reserved_by="may-khac:77:ab-1", reserved_at=old.reserved_at, **columns))
    left = {name: tree(khoso.replica(name) / entity / "v2") for name in REPLICAS}

    assert recovery.take_back(context(khoso), job_id, reserved) == 0

    assert versions(khoso) == [(1, "active"), (2, "received")]
    assert {name: tree(khoso.replica(name) / entity / "v2") for name in REPLICAS} == left
