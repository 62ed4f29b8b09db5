"""Ingested AIPs with their catalog sidecars written as the future call sites will, and an empty
second catalog (another SQLite file, or another PostgreSQL schema) to rebuild into."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from ingest.sip_build import build_sip
from preservation.catalog.db import Catalog
from preservation.catalog.models import Agency, Fonds, Package, PremisEvent, StoredCopy
from preservation.events import FIXITY_CHECK, REPLICATION, Agent, Event, Outcome
from storage import sidecar
from storage.locations import open_storage
from tests.integration.conftest import FOND, ORGAN, Khoso, document_rows, png
from tests.unit.adapters.pki import minimal_pdf
from tests.unit.sip.sheets import FILE_CODE, HOSO, write_csv

ARCHIVE = "TTLTNA"


def make_sip(folder, *, count: int, file_code: str):
    """``tests.integration.conftest.make_sip`` with a hồ sơ code of its own (codes are unique)."""
    src = folder / "src"
    src.mkdir(parents=True)
    rows = [{k: v.replace(FILE_CODE, file_code) for k, v in row.items()}
            for row in document_rows(count)]
    for row in rows:
        name = row["file"]
        (src / name).write_bytes(minimal_pdf(row.get("subject", name)) if name.endswith(".pdf")
                                 else png())
    sheet = write_csv(folder / "sheet.csv",
                      [dict(HOSO, fileCode=file_code, totalDoc=str(count)), *rows])
    return build_sip(src, sheet, folder / "bag", organ_id=ORGAN,
                     agency_name="UBND huyện Nghi Lộc", fond_code=FOND)


@pytest.fixture
def target(request: pytest.FixtureRequest, db_url: str, tmp_path) -> Iterator[Catalog]:
    """An empty, migrated catalog on the same kind of database as ``khoso``'s."""
    if db_url.startswith("sqlite"):
        catalog = Catalog(f"sqlite:///{tmp_path / 'rebuilt.sqlite'}")
        catalog.upgrade()
        yield catalog
        catalog.dispose()
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"r_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    catalog = Catalog(f"{base}?options=-csearch_path%3D{schema}")
    try:
        catalog.upgrade()
        yield catalog
    finally:
        catalog.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def as_event(row: PremisEvent) -> Event:
    return Event(row.event_type, Outcome(row.outcome), row.detail or "", row.outcome_detail or "",
                 row.object_identifier,
                 tuple((Agent(a.identifier_value, a.name, a.agent_type, a.identifier_type, a.note),
                        "executing program") for a in row.agents),
                 row.event_datetime, row.event_uuid, row.outcome_data)


def write_ingest_sidecars(k: Khoso) -> None:
    """What the lead's call site after ``register_aip`` does, for every package and location:
    fonds and agency snapshots, and the replication events (not in the AIP) as one batch."""
    storages = [open_storage(loc) for loc in k.settings.storage_locations]
    with k.catalog.session() as s:
        for pkg in s.scalars(sa.select(Package).where(Package.kind == "AIP")):
            fonds = s.get(Fonds, pkg.fonds_id)
            agency = s.get(Agency, pkg.agency_id) if pkg.agency_id else None
            key = s.scalar(sa.select(StoredCopy.key).where(StoredCopy.package_id == pkg.id).limit(1))
            rows = s.scalars(sa.select(PremisEvent).where(PremisEvent.package_id == pkg.id,
                                                          PremisEvent.event_type == REPLICATION))
            # the call site zips the events with ctx.stored; here the location is in the detail
            records = [sidecar.event_record(
                as_event(e), objid=pkg.objid,
                copy={"location": re.search(r"location=([^;]+)", e.detail)[1], "key": key},
                link_copy=False)
                for e in rows]
            for storage in storages:
                sidecar.write_fonds_snapshot(storage, ARCHIVE, fonds, fonds.agency,
                                             fonds.archive_body)
                if agency is not None:
                    sidecar.write_agency_snapshot(storage, ARCHIVE, agency)
                sidecar.append_events(storage, key, records)


def write_audit_sidecars(k: Khoso) -> None:
    """What the lead's call site after ``record_checks`` commits does: each fixity event, with
    the copy's state after the check, appended in every location."""
    storages = [open_storage(loc) for loc in k.settings.storage_locations]
    with k.catalog.session() as s:
        rows = s.execute(sa.select(PremisEvent, StoredCopy, Package.objid)
                         .join(StoredCopy, StoredCopy.id == PremisEvent.stored_copy_id)
                         .join(Package, Package.id == StoredCopy.package_id)
                         .where(PremisEvent.event_type == FIXITY_CHECK)).all()
        for event, copy, objid in rows:
            record = sidecar.event_record(as_event(event), objid=objid, copy={
                "location": copy.location, "key": copy.key, "result": copy.last_check_result,
                "detail": copy.last_check_detail, "checked_at": copy.last_check_at})
            sidecar.append_events_everywhere(storages, copy.key, [record])


@pytest.fixture
def ingested(khoso: Khoso) -> Khoso:
    """Three hồ sơ ingested (1, 2 and 3 documents), then audited, with every sidecar written."""
    from storage.audit import run_audit

    for n in (1, 2, 3):
        outcome = khoso.ingest(make_sip(khoso.tmp / f"sip{n}", count=n, file_code=f"{FILE_CODE}{n}"))
        assert outcome.accepted, outcome.report.to_dict()
    write_ingest_sidecars(khoso)
    storages = {loc.name: open_storage(loc) for loc in khoso.settings.storage_locations}
    report = run_audit(khoso.catalog, storages, due_only=False)
    assert report.copies_checked == 6 and report.ok == 6
    write_audit_sidecars(khoso)
    return khoso
