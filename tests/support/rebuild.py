"""The catalog sidecars ingest and the audit write next to the AIPs (fonds and agency snapshots,
replication and fixity events), written for AIPs the tests ingested, as the call sites do."""

from __future__ import annotations

import re

import sqlalchemy as sa

from preservation.catalog.models import Agency, Fonds, Package, PremisEvent, StoredCopy
from preservation.events import FIXITY_CHECK, REPLICATION, Agent, Event, Outcome
from storage import sidecar
from storage.locations import open_storage
from tests.support.khoso import Khoso

ARCHIVE = "TTLTNA"


def as_event(row: PremisEvent) -> Event:
    return Event(row.event_type, Outcome(row.outcome), row.detail or "", row.outcome_detail or "",
                 row.object_identifier,
                 tuple((Agent(a.identifier_value, a.name, a.agent_type, a.identifier_type, a.note),
                        "executing program") for a in row.agents),
                 row.event_datetime, row.event_uuid)


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
