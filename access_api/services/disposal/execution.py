"""Executing an approved destruction case within its window: every copy of every AIP version
in every storage location, derived DIPs, the delivery cache and the search entries go; a
tombstone per hồ sơ, a PREMIS ``deletion`` event per AIP version, the biên bản hủy and the
destruction file (in every location, write-once) stay.

Order, so that nothing is destroyed half-way: every check first (approval, window, holds,
permanent), then every copy's lock is asked, in a versioned bucket every version's (one
locked copy anywhere: nothing is deleted), then the start is committed (its instant and executor fix the file's contents), then the
deletions, the destruction file, and one catalog transaction. A location failing midway is
the archive's fault (503): executing again lists what is left and carries on."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext
from access_api.services.delivery import cache_for
from access_api.services.dips import zip_path
from access_api.services.disposal.cases import tombstone_dict, view
from access_api.services.disposal.common import (
    MANAGERS,
    OBJECT_CASE,
    aip_versions,
    iso,
    load_case,
    record_code,
    refuse_if_held,
    refuse_if_permanent,
    require,
    utc,
)
from access_api.services.disposal.minutes import render
from access_api.services.disposal.record import storage_failed, write_file, write_state
from access_api.services.uow import MirrorAuditLog, run_operations
from preservation.catalog import audit
from preservation.catalog.events import EventRow, insert_events
from preservation.catalog.models import (
    Agency,
    AuditEntry,
    Bitstream,
    Dip,
    DisposalCase,
    DisposalListing,
    Document,
    Package,
    RecordFile,
    StoredCopy,
    Tombstone,
    utcnow,
)
from preservation.catalog.vocab import DipState, DisposalCaseStatus, FileState, PackageStatus
from preservation.errors import Conflict
from preservation.events import DELETION, Agent, Event, Outcome, khoso_agent
from preservation.issues import Text
from preservation.packaging.aip.layout import disposal_prefix, split_package_prefix
from preservation.search.index import index_aip
from storage.disposal_file import FORMAT
from storage.errors import ObjectLocked, ObjectMissing, StorageError
from storage.retention import keys_under, retentions_under
from storage.sidecar import event_record

EVENT_NAMESPACE = uuid.UUID("6f1d2a7e-8c1b-4f43-9a53-2c1e5d0b7a15")
LISTING = Text("liệt kê bản sao", "listing copies")
LOCKS = Text("kiểm tra khóa lưu giữ", "checking retention locks")
DELETING = Text("xóa bản sao", "deleting copies")


@dataclass(frozen=True)
class Target:
    """One hồ sơ to destroy: its AIP versions' entity prefixes and the keys found for them."""

    record_file_id: int
    code: str
    objid: str | None
    entities: tuple[str, ...]
    keys: dict[str, list[str]]  # location → keys


def _window(case: DisposalCase, now: dt.datetime) -> None:
    if case.status == DisposalCaseStatus.EXECUTED:
        raise Conflict("DES028", id=case.id, at=iso(case.executed_at), by=case.executed_by)
    if case.status != DisposalCaseStatus.APPROVED:
        raise Conflict("DES017", id=case.id, status=case.status)
    deadline = utc(case.deadline)
    if case.execution_started_at is None and deadline is not None and now > deadline:
        raise Conflict("DES018", id=case.id, at=iso(case.decided_at), deadline=iso(deadline))


def _entities(s: Session, rf: RecordFile) -> tuple[str | None, tuple[str, ...]]:
    packages = aip_versions(s, rf.id)
    ids = [p.id for p in packages]
    keys: list[str] = list(s.scalars(sa.select(StoredCopy.key).where(
        StoredCopy.package_id.in_(ids)))) if ids else []
    entities = sorted({split_package_prefix(k)[0] for k in keys})
    return (packages[-1].objid if packages else None), tuple(entities)


def _list_keys(ctx: ServiceContext, entities: Iterable[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, storage in ctx.storages.items():
        try:
            found[name] = [k for e in entities for k in keys_under(storage, e + "/")]
        except StorageError as exc:
            raise storage_failed(name, LISTING, exc) from exc
    return found


def _check_locks(ctx: ServiceContext, targets: list[Target], now: dt.datetime) -> None:
    """DES019 naming the location, how many copies and the latest lock end, before anything
    is deleted; every version of each key is asked (``retentions_under``), not only the
    current one, so a locked older version cannot stop the deletion part-way."""
    for name, storage in ctx.storages.items():
        locked: list[tuple[str, str]] = []
        for target in targets:
            for entity in target.entities:
                try:
                    locks = retentions_under(storage, entity + "/")
                except StorageError as exc:
                    raise storage_failed(name, LOCKS, exc) from exc
                for key, lock in locks.items():
                    if lock.locked(now):
                        until = lock.until.isoformat() if lock.until and lock.until > now \
                            else "khi gỡ lệnh giữ pháp lý (legal hold)"
                        locked.append((until, key))
        if locked:
            until, key = max(locked)
            raise Conflict("DES019", count=len(locked), location=name, until=until, key=key)


def _delete(ctx: ServiceContext, targets: list[Target], now: dt.datetime) -> None:
    for name, storage in ctx.storages.items():
        for target in targets:
            for key in target.keys.get(name, []):
                try:
                    storage.delete(key)
                except ObjectMissing:
                    continue
                except ObjectLocked as exc:  # locked since the check: nothing more goes
                    raise Conflict("DES019", count=1, location=name, until=exc.until or "?",
                                   key=key) from exc
                except StorageError as exc:
                    raise storage_failed(name, DELETING, exc) from exc


def _prepare(ctx: ServiceContext, s: Session, case: DisposalCase) -> list[Target]:
    targets = []
    for item in case.items:
        rf = item.record_file
        if rf.state == FileState.DESTROYED:
            continue
        refuse_if_permanent(rf)
        refuse_if_held(s, rf)
        objid, entities = _entities(s, rf)
        targets.append(Target(rf.id, record_code(rf), objid, entities, {}))
    return targets


def _files(s: Session, rf_id: int) -> list[dict[str, Any]]:
    rows = s.execute(sa.select(Package.version, Bitstream.path, Bitstream.sha256, Bitstream.size)
                     .join(Bitstream, Bitstream.package_id == Package.id)
                     .where(Package.record_file_id == rf_id, Package.kind == "AIP")
                     .order_by(Package.version, Bitstream.path))
    return [{"version": v, "path": p, "sha256": h, "size": n} for v, p, h, n in rows]


def _documents(s: Session, rf_id: int) -> list[dict[str, Any]]:
    rows = s.execute(sa.select(Document.doc_id, Document.doc_code, Document.arc_doc_code)
                     .where(Document.record_file_id == rf_id).order_by(Document.id))
    return [{"docId": a, "docCode": b, "arcDocCode": c} for a, b, c in rows]


def _event(case: DisposalCase, package: Package, actor: str, when: dt.datetime,
           decision: dict[str, Any], locations: list[str]) -> Event:
    return Event(
        DELETION, Outcome.SUCCESS,
        detail=f"Hủy tài liệu hết giá trị theo quyết định số {decision['number']} ngày "
               f"{decision['date']} (hồ sơ hủy {case.id})",
        outcome_detail="every copy deleted from " + ", ".join(locations),
        object_identifier=package.objid,
        agents=((Agent(actor, actor, agent_type="person"), "implementer"),
                (khoso_agent(), "executing program")),
        when=when,
        event_uuid=str(uuid.uuid5(EVENT_NAMESPACE, f"{case.id}/{package.objid}/{package.version}")),
        outcome_data={"case": case.id, "locations": locations})


def _columns(row: Any, leave: tuple[str, ...]) -> dict[str, Any]:
    """A catalog row's columns as JSON values (dates and times in ISO 8601)."""
    out = {}
    for col in row.__table__.columns:
        if col.name in leave:
            continue
        value = getattr(row, col.name)
        if isinstance(value, dt.datetime):
            value = iso(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[col.name] = value
    return out


def _rows(s: Session, rf: RecordFile) -> dict[str, Any]:
    """The destroyed hồ sơ's catalog rows, for a catalog rebuilt from storage: the hồ sơ, its
    tài liệu (with the version that made each) and its AIP versions."""
    packages = aip_versions(s, rf.id)
    versions = {p.id: p.version for p in packages}
    docs = s.scalars(sa.select(Document).where(Document.record_file_id == rf.id)
                     .order_by(Document.id))
    return {"record_file": _columns(rf, ("id", "fonds_id", "state", "updated_at")),
            "documents": [{**_columns(d, ("id", "record_file_id", "package_id", "updated_at")),
                           "version": versions.get(d.package_id or 0)} for d in docs],
            "packages": [{**_columns(p, ("id", "kind", "status", "record_file_id", "fonds_id",
                                         "agency_id", "previous_id", "updated_at")),
                          "organ_id": s.scalar(sa.select(Agency.organ_id).where(
                              Agency.id == p.agency_id)) if p.agency_id else None}
                         for p in packages]}


def _document(ctx: ServiceContext, s: Session, case: DisposalCase, stones: list[dict[str, Any]],
              events: list[dict[str, Any]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """``case.json`` (``storage.disposal_file`` reads it back; format 2 adds ``rows``, the
    items' who and when and each event's sidecar record). Nothing in it may change between
    a failed execution and its retry (the file is written once): no "now"."""
    listed = {r.record_file_id: r for r in s.scalars(sa.select(DisposalListing).where(
        DisposalListing.record_file_id.in_([i.record_file_id for i in case.items])))}
    return {
        "format": FORMAT, "rows": rows,
        "archive": ctx.settings.archive_code, "archive_name": ctx.settings.archive_name,
        "case": {"id": case.id, "title": case.title, "explanation": case.explanation,
                 "proposer": case.proposer, "created_at": iso(case.created_at)},
        "list": [{"code": record_code(i.record_file), "title": i.record_file.title,
                  "maintenance": i.record_file.maintenance,
                  "reason": listed[i.record_file_id].reason if i.record_file_id in listed
                  else None,
                  "detail": dict(listed[i.record_file_id].detail or {})
                  if i.record_file_id in listed else {},
                  "added_by": i.added_by, "added_at": iso(i.added_at)} for i in case.items],
        "council": [{"username": m.username, "opinion": m.opinion, "comment": m.comment,
                     "opinion_at": iso(m.opinion_at)} for m in case.council],
        "decisions": list(case.decisions), "decision": case.decisions[-1],
        "tombstones": stones, "events": events,
        "locations": sorted(ctx.storages), "executed_by": case.executed_by,
        "executed_at": iso(case.execution_started_at),
    }


START = "disposal.case.execute.start"


def _start(ctx: ServiceContext, case_id: str, actor: str, now: dt.datetime,
           targets: list[Target]) -> None:
    """Commit the start: its instant, executor and the keys found in each location (what the
    tombstones say was wiped) are the execution's, also on a retry, which finds fewer keys."""
    with ctx.catalog.session() as s:
        case = load_case(s, case_id, for_update=True)
        _window(case, now)
        if case.execution_started_at is None:
            case.execution_started_at, case.executed_by = now, actor
            audit.record(s, actor, START, OBJECT_CASE, case.id,
                         records=[record_code(i.record_file) for i in case.items],
                         keys={str(t.record_file_id): {n: len(k) for n, k in t.keys.items()}
                               for t in targets})
            write_state(ctx, s, case)


def _keys_at_start(s: Session, case: DisposalCase) -> dict[str, dict[str, int]]:
    """Per hồ sơ id, the keys each location held when the execution started (empty for one
    started before this was recorded: its retry counts what it finds)."""
    detail = s.scalar(sa.select(AuditEntry.detail).where(
        AuditEntry.action == START, AuditEntry.object_type == OBJECT_CASE,
        AuditEntry.object_id == case.id).order_by(AuditEntry.id).limit(1))
    keys = (detail or {}).get("keys") if isinstance(detail, dict) else None
    return keys if isinstance(keys, dict) else {}


def execute(ctx: ServiceContext, identity: Identity, case_id: str, *,
            now: dt.datetime | None = None) -> dict[str, Any]:
    require(identity, *MANAGERS)
    now = now or utcnow()
    with ctx.catalog.session() as s:
        case = load_case(s, case_id)
        _window(case, now)
        targets = _prepare(ctx, s, case)
    targets = [Target(t.record_file_id, t.code, t.objid, t.entities, _list_keys(ctx, t.entities))
               for t in targets]
    _check_locks(ctx, targets, now)
    _start(ctx, case_id, identity.actor, now, targets)
    _delete(ctx, targets, now)
    with ctx.catalog.session() as s:
        case = load_case(s, case_id, for_update=True)
        _window(case, now)
        when = utc(case.execution_started_at) or now
        actor = case.executed_by or identity.actor
        decision = dict(case.decisions[-1])
        locations = sorted(ctx.storages)
        started = _keys_at_start(s, case)
        stones: list[Tombstone] = []
        snapshots: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        rows: list[EventRow] = []
        digests: set[str] = set()
        for item in case.items:
            rf = item.record_file
            if rf.state == FileState.DESTROYED:
                continue
            packages = aip_versions(s, rf.id)
            files = _files(s, rf.id)
            digests.update(f["sha256"] for f in files)
            target = next((t for t in targets if t.record_file_id == rf.id), None)
            stone = Tombstone(
                case_id=case.id, record_file_id=rf.id, arc_file_code=rf.arc_file_code,
                file_code=rf.file_code, fond_code=rf.fonds.fond_code,
                objid=packages[-1].objid if packages else None, title=rf.title,
                maintenance=rf.maintenance, retention_years=rf.retention_years,
                start_date=rf.start_date, end_date=rf.end_date,
                documents=_documents(s, rf.id), files=files,
                locations={n: started.get(str(rf.id), {}).get(
                    n, len(target.keys.get(n, [])) if target else 0) for n in locations},
                decision={k: decision[k] for k in ("number", "date", "sha256", "signer",
                                                   "decided_by", "decided_at")},
                executed_by=actor, executed_at=when)
            stones.append(stone)
            snapshots.append(_rows(s, rf))
            for package in packages:
                event = _event(case, package, actor, when, decision, locations)
                rows.append(EventRow(event, package.id))
                events.append({**event_record(event, objid=package.objid),
                               "event_uuid": event.event_uuid, "type": event.event_type,
                               "datetime": event.when.isoformat(), "objid": package.objid,
                               "version": package.version, "detail": event.detail,
                               "outcome": event.outcome.value, "agent": actor})
        document = _document(ctx, s, case, [tombstone_dict(t) for t in stones], events,
                             snapshots)
        written = write_file(ctx, case.id, document, render(document))
        s.add_all(stones)
        insert_events(s, rows)
        removed_dips = _destroy_catalog(ctx, s, case, stones, digests)
        case.status = DisposalCaseStatus.EXECUTED.value
        case.executed_at = utcnow()
        case.executed_by = actor
        case.record_key = disposal_prefix(ctx.settings.archive_code, case.id)
        s.flush()
        entry = audit.record(s, actor, "disposal.case.execute", OBJECT_CASE, case.id,
                             records=[t.arc_file_code or t.file_code for t in stones],
                             locations=locations, destruction_file=written,
                             dips_removed=removed_dips)
        # the end is the audit entry's instant: the log, restored from storage, gives it back
        # to a rebuilt catalog (case.json cannot hold it: a retry writes the same bytes)
        case.executed_at = utc(entry.at)
        s.flush()
        result = view(s, case)
    run_operations(ctx, [MirrorAuditLog()])
    return result


def _destroy_catalog(ctx: ServiceContext, s: Session, case: DisposalCase,
                     stones: list[Tombstone], digests: set[str]) -> list[str]:
    """Packages deleted, hồ sơ destroyed and out of the Danh mục and the search index, DIPs
    holding their documents removed, the delivery cache emptied of their files."""
    codes: set[str] = set()
    for stone in stones:
        rf = s.get_one(RecordFile, stone.record_file_id)
        codes.update(c for d in stone.documents for c in (d["docCode"], d["arcDocCode"]) if c)
        objids = set()
        for package in aip_versions(s, rf.id):
            package.status = PackageStatus.DELETED.value
            objids.add(package.objid)
        rf.state = FileState.DESTROYED.value
        s.execute(sa.delete(DisposalListing).where(DisposalListing.record_file_id == rf.id))
        s.flush()
        for objid in objids:
            index_aip(s, objid)
    removed = []
    for dip in s.scalars(sa.select(Dip).where(Dip.state != DipState.REMOVED.value)):
        if codes.intersection(dip.documents or []):
            zip_path(ctx, dip.id).unlink(missing_ok=True)
            dip.state = DipState.REMOVED.value
            removed.append(dip.id)
    cache = cache_for(ctx)
    for digest in digests:
        cache.discard(digest)
    return removed
