"""The catalog sidecars ingest and the audit write next to the AIPs (fonds and agency snapshots,
replication and fixity events), written for AIPs the tests ingested, as the call sites do; and a
catalog as rows, to compare a rebuilt catalog with the original one row by row."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa

from preservation.catalog.db import Catalog
from preservation.catalog.models import (
    Agency,
    ArchiveBody,
    Bitstream,
    Document,
    Fonds,
    Package,
    PremisAgent,
    PremisEvent,
    RecordFile,
    StoredCopy,
    event_agent,
)
from preservation.events import FIXITY_CHECK, REPLICATION, Agent, Event, Outcome
from storage import sidecar
from storage.locations import open_storage
from tests.support.khoso import Khoso

ARCHIVE = "TTLTNA"
LOCATION = "replica1"
VOLATILE = {"id", "created_at", "updated_at", "stored_at", "last_check_at"}
TABLES = (ArchiveBody, Agency, Fonds, RecordFile, Document, Package, Bitstream, StoredCopy,
          PremisAgent, PremisEvent)


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):  # SQLite gives naive UTC, PostgreSQL aware
        value = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def catalog_rows(catalog: Catalog, location: str) -> dict[str, list[tuple]]:
    """Every row of every catalog table, foreign keys replaced by the natural key they point to."""
    with catalog.session() as s:
        def keys(model: Any, *cols: Any) -> dict[int, tuple]:
            return {r[0]: tuple(r[1:]) for r in s.execute(sa.select(model.id, *cols))}

        pkg = keys(Package, Package.objid, Package.version)
        rf = keys(RecordFile, RecordFile.arc_file_code)
        doc = keys(Document, Document.arc_doc_code, Document.doc_code, Document.doc_ordinal)
        refs = {"archive_body_id": keys(ArchiveBody, ArchiveBody.code),
                "agency_id": keys(Agency, Agency.organ_id), "fonds_id": keys(Fonds, Fonds.fond_code),
                "record_file_id": rf, "package_id": pkg, "previous_id": pkg, "document_id": doc,
                "bitstream_id": {i: (pkg[p], path) for i, p, path in
                                 s.execute(sa.select(Bitstream.id, Bitstream.package_id,
                                                     Bitstream.path))},
                # only this location's copies are rebuilt: a link to another one is lost
                "stored_copy_id": {i: (loc, key) for i, loc, key in s.execute(sa.select(
                    StoredCopy.id, StoredCopy.location, StoredCopy.key)) if loc == location}}
        out: dict[str, list[tuple]] = {}
        for model in TABLES:
            cols = [c.name for c in model.__table__.columns if c.name not in VOLATILE]
            rows = []
            for row in s.scalars(sa.select(model)):
                if model is StoredCopy and row.location != location:
                    continue
                rows.append(tuple(
                    (c, refs[c].get(getattr(row, c)) if c in refs else _value(getattr(row, c)))
                    for c in cols))
            out[model.__tablename__] = sorted(rows, key=repr)
        agents = keys(PremisAgent, PremisAgent.identifier_type, PremisAgent.identifier_value)
        uuids = keys(PremisEvent, PremisEvent.event_uuid)
        out["premis_event_agent"] = sorted(
            (uuids[e], agents[a], role) for e, a, role in s.execute(sa.select(event_agent)))
    return out


def assert_same(original: dict[str, list[tuple]], rebuilt: dict[str, list[tuple]]) -> None:
    for table, rows in original.items():
        missing = [r for r in rows if r not in rebuilt[table]]
        extra = [r for r in rebuilt[table] if r not in rows]
        assert not missing and not extra, f"{table}: missing {missing[:2]} extra {extra[:2]}"


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
