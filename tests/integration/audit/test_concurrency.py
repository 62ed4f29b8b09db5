"""An audit with repairs while another thread keeps registering packages, as ingest does."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from preservation.catalog import audit as audit_log
from preservation.catalog.models import Package, PremisEvent
from preservation.events import REPLICATION, Event, Outcome
from storage.audit import run_audit, save_events, storage_agent
from tests.support.audit import make_aip

from .test_audit import PDF, flip_byte


def test_audit_and_ingest_run_at_the_same_time(catalog, fs_storages):
    first = [make_aip(catalog, fs_storages, f"KHOSO.H49.2002.{i:03d}", payload=50_000) for i in range(12)]
    for aip in first[::3]:
        flip_byte(fs_storages["fs1"].root / aip.key(PDF))
    stop, errors, ingested = threading.Event(), [], []

    def ingest() -> None:
        try:
            while not stop.is_set() or len(ingested) < 3:
                aip = make_aip(catalog, fs_storages, f"KHOSO.H49.2003.{len(ingested):03d}", payload=50_000)
                with catalog.session() as s:  # what register_aip adds in the same transaction
                    save_events(s, [Event(REPLICATION, Outcome.SUCCESS, "location=fs1; key=k",
                                          agents=((storage_agent(), "executing program"),))],
                                package_id=aip.package_id)
                    audit_log.record(s, "ingest", "package.ingest", "package", aip.objid)
                ingested.append(aip)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=ingest)
    worker.start()
    try:
        report = run_audit(catalog, fs_storages, due_only=False, repair=True, batch_size=4, actor="tester")
    finally:
        stop.set()
        worker.join(timeout=120)
    assert errors == []
    assert report.copies_checked >= 24 and report.repaired == 4 and report.critical == []
    with catalog.session() as s:
        assert audit_log.verify_chain(s) == []
        assert s.scalar(sa.select(sa.func.count(Package.id))) == 12 + len(ingested)
        assert s.scalar(sa.select(sa.func.count(PremisEvent.id)).where(
            PremisEvent.event_type == "fixity check")) == report.copies_checked
