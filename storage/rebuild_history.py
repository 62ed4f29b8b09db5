"""The part of a catalog rebuild that is the archive's history rather than its holdings: what it
destroyed and what it transferred, read back after the AIPs.

Destruction: each executed case's ``case.json`` (``storage.disposal_file``) brings back the case
(executed, its decisions, its council's opinions), a tombstone per hồ sơ, the hồ sơ itself in
state ``destroyed`` (so that its codes stay taken and the appraisal scan never lists it), its
tài liệu codes, its AIP versions as ``deleted`` packages and their PREMIS ``deletion`` events.
A file written before format 2 lacks the hồ sơ's other columns (its ``mode`` is left empty),
the documents' other columns, the packages' labels and registration times, the executing
program among the events' agents and who added each hồ sơ to the case. When the execution
finished is the instant of the restored audit log's ``disposal.case.execute`` entry (execution
sets it so), else its start. A file that cannot be believed (RBD050), or that names a hồ sơ
whose AIP is still in storage or in the catalog (RBD052), restores nothing of its case; a
case folder with a decision but no ``case.json`` (decided, never executed) is not a catalog
record storage keeps (RBD051) unless it has state files: see below.

Destruction cases under way (proposed, appraised, decided, execution started): each change wrote
the whole case to a state file in every location (``storage.disposal_state``); a case folder
without ``case.json`` brings back its newest intact state (RBD201 when none reads), with its
council's opinions and decisions, its items whose hồ sơ came back (the others: RBD202) and
their lines in the Danh mục. A folder whose case the restored audit log says was executed but
holds no ``case.json`` is RBD050, not a case under way.

Legal holds are in no storage file of their own, but every placing and lifting is in the audit
log, which the rebuild restores from storage with its chain verified: the holds are made again
from those entries (their times are the entries', within milliseconds of the originals; their
ids are new), so that a held hồ sơ is not listed or destroyed after a disaster. A hold naming a
hồ sơ the rebuild did not bring back is reported (RBD055). Entries written after the log's last
copy to storage are lost with the catalog, as every other audit entry.

Transfers: a hồ sơ whose AIP carries a successful PREMIS ``transfer`` event of a completion (not
a send attempt's: its ``outcome_data`` names the ``attempt``) is ``transferred``.
Completions since the event's ``outcome_data`` carries ``record`` and ``item`` also bring back
the transfer and its items (status completed); an older event brings back the state alone
(RBD053). Each case and each transfer is written in its own transaction; a rebuild run again
adds only what is missing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog.models import (
    Agency,
    ArchiveBody,
    AuditEntry,
    CouncilMember,
    DisposalCase,
    DisposalCaseItem,
    DisposalListing,
    Document,
    Fonds,
    LegalHold,
    Package,
    PremisEvent,
    RecordFile,
    Tombstone,
    Transfer,
    TransferItem,
)
from preservation.catalog.vocab import (
    DisposalCaseStatus,
    FileState,
    PackageKind,
    PackageStatus,
    TransferStatus,
)
from preservation.errors import KhosoError
from preservation.events import TRANSFER
from preservation.packaging.aip import layout
from storage import disposal_state
from storage.disposal_file import (
    CASE_FILE,
    MAX_BYTES,
    CaseFile,
    CaseFileError,
    Destroyed,
    parse_case_file,
)
from storage.errors import StorageError
from storage.sidecar import parse_when

if TYPE_CHECKING:
    from storage.protocol import Storage
    from storage.rebuild import _Rebuild

LIVE = (PackageStatus.ACTIVE.value, PackageStatus.SUPERSEDED.value)
# the audit action ``access_api.services.disposal.execution`` records when a case is done
CASE_EXECUTED, CASE_OBJECT = "disposal.case.execute", "disposal_case"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KhosoError | StorageError):
        return exc.message("en")
    return (str(exc).splitlines() or [type(exc).__name__])[0][:300]


class _Guarded:
    """Report counters and the rebuild's id caches, put back when a transaction rolls back
    (ids made in rolled-back work must not be reused)."""

    def __init__(self, rb: _Rebuild) -> None:
        self.rb = rb
        self.saved = (dict(rb.agents), dict(rb.agencies), rb.report.events,
                      rb.report.sidecar_events, rb.report.agents, rb.report.fonds)

    def restore(self) -> None:
        rb = self.rb
        (rb.agents, rb.agencies, rb.report.events, rb.report.sidecar_events, rb.report.agents,
         rb.report.fonds) = self.saved


# -- destruction -------------------------------------------------------------------------------

def restore_disposal(rb: _Rebuild) -> None:
    found: dict[str, list[tuple[Storage, str]]] = defaultdict(list)  # case -> case.json keys
    folders: dict[str, str] = {}  # case -> its folder, for a case without case.json
    for name, listing in rb.listings.items():
        for key in sorted(listing.disposal):
            case_id = layout.parse_disposal_key(key) or ""
            folders.setdefault(case_id, key.rsplit("/", 1)[0])
            if key.rsplit("/", 1)[1] == CASE_FILE:
                found[case_id].append((rb.by_name[name], key))
    states = {layout.parse_disposal_key(k) for lst in rb.listings.values()
              for k in lst.disposal if disposal_state.parse_state_key(k) is not None}
    for case_id in sorted(set(folders) - set(found) - states):
        rb.warn("RBD051", folders[case_id], folder=folders[case_id])
    if not found:
        return
    with rb.catalog.session() as s:
        known = set(s.scalars(sa.select(DisposalCase.id)))
    entities = {layout.split_package_prefix(p)[0] for lst in rb.listings.values()
                for p in lst.aips}
    for case_id in sorted(set(found) - known):
        restore_case(rb, case_id, found[case_id], entities)


def _read(storage: Storage, key: str) -> bytes:
    with storage.open(key) as f:
        data: bytes = f.read(MAX_BYTES + 1)
    return data


def restore_case(rb: _Rebuild, case_id: str, sources: list[tuple[Storage, str]],
                 entities: set[str]) -> None:
    """The first location's ``case.json`` that reads and checks, written in one transaction;
    ``entities`` are the AIP entities the locations hold."""
    parsed: CaseFile | None = None
    key, problem = sources[0][1], ""
    for storage, where in sources:
        try:
            parsed = parse_case_file(_read(storage, where), rb.archive_code, case_id)
            key = where
            break
        except (StorageError, CaseFileError) as exc:
            problem = problem or (f"{storage.name}: " + _reason(exc))
    if parsed is None:
        rb.report.add("RBD050", key, key=key, reason=problem)
        return
    conflict = _still_held(rb, parsed, entities)
    if conflict is not None:
        rb.report.add("RBD052", key, key=key, record=conflict[0], where=conflict[1])
        return
    guard = _Guarded(rb)
    try:
        with rb.catalog.session() as s:
            _write_case(rb, s, parsed)
    except Exception as exc:  # noqa: BLE001 - one bad case must not stop the rebuild
        guard.restore()
        rb.report.add("RBD050", key, key=key, reason=_reason(exc))
        return
    rb.report.disposal_cases += 1
    rb.report.tombstones += len(parsed.records)


def _still_held(rb: _Rebuild, cf: CaseFile, entities: set[str]) -> tuple[str, str] | None:
    """(code, where) of a hồ sơ the file says was destroyed but storage or the catalog (rebuilt
    from storage) still holds: the file and the holdings disagree, a person must look."""
    with rb.catalog.session() as s:
        for rec in cf.records:
            t = rec.tombstone
            entity = layout.PackageKey.of(rb.archive_code, t["fond_code"], rec.code).entity
            if entity in entities:
                return rec.code, entity
            live = s.scalar(sa.select(RecordFile.id).where(
                RecordFile.arc_file_code == rec.code if t["arc_file_code"] else
                RecordFile.file_code == rec.code,
                RecordFile.state != FileState.DESTROYED.value).limit(1))
            if live is not None:
                return rec.code, "catalog"
            objids = {t["objid"]} | {str(p["objid"]) for p in (rec.rows or {}).get("packages", [])}
            held = s.scalar(sa.select(Package.objid).where(
                Package.objid.in_([o for o in objids if o]), Package.status.in_(LIVE)).limit(1))
            if held is not None:
                return rec.code, held
    return None


def _values(model: Any, data: dict[str, Any], leave: Iterable[str]) -> dict[str, Any]:
    """Column values for ``model`` from a row written as JSON: unknown names and the columns
    this rebuild sets itself are left out, dates and times parsed."""
    out: dict[str, Any] = {}
    skip = set(leave)
    for col in model.__table__.columns:
        if col.name in skip or col.name not in data:
            continue
        value = data[col.name]
        if value is not None and isinstance(col.type, sa.DateTime):
            value = parse_when(str(value))
        elif value is not None and isinstance(col.type, sa.Date):
            value = dt.date.fromisoformat(str(value))
        out[col.name] = value
    return out


def _body(rb: _Rebuild, s: Session) -> int:
    body = s.scalar(sa.select(ArchiveBody).where(ArchiveBody.code == rb.archive_code))
    if body is None:
        body = ArchiveBody(code=rb.archive_code, name=rb.archive_code, kind="lich_su")
        s.add(body)
        s.flush()
    return body.id


def _record_file(rb: _Rebuild, s: Session, rec: Destroyed, fonds_id: int) -> RecordFile:
    t = rec.tombstone
    if t["arc_file_code"]:  # restored by a run that stopped after it: the same row
        row = s.scalar(sa.select(RecordFile).where(RecordFile.arc_file_code == t["arc_file_code"]))
        if row is not None:
            return row
    if rec.rows is not None:
        values = _values(RecordFile, rec.rows["record_file"],
                         ("id", "fonds_id", "state", "updated_at"))
    else:
        values = {k: t[k] for k in ("file_code", "arc_file_code", "title", "maintenance",
                                    "retention_years")}
        values.update(start_date=t["start_date"] or "", end_date=t["end_date"] or "", mode="",
                      total_doc=len(t["documents"]))
    row = RecordFile(fonds_id=fonds_id, state=FileState.DESTROYED.value, **values)
    s.add(row)
    s.flush()
    return row


def _packages(rb: _Rebuild, s: Session, cf: CaseFile, rec: Destroyed, rf: RecordFile
              ) -> dict[tuple[str, int], int]:
    """The destroyed AIP versions as ``deleted`` packages: (objid, version) -> id."""
    t = rec.tombstone
    if rec.rows is not None:
        facts = {(str(p["objid"]), int(p["version"])): p for p in rec.rows["packages"]}
    else:
        facts = {(str(e["objid"]), int(e["version"])): {} for e in cf.events
                 if e["objid"] == t["objid"]}
        for f in t["files"]:
            if t["objid"]:
                facts.setdefault((t["objid"], f["version"]), {})
    ids: dict[tuple[str, int], int] = {}
    for objid, version in sorted(facts):
        p = facts[(objid, version)]
        files = [f for f in t["files"] if f["version"] == version]
        values = _values(Package, p, ("id", "kind", "status", "record_file_id", "fonds_id",
                                      "agency_id", "previous_id", "updated_at", "objid",
                                      "version")) if p else {
            "total_size": sum(f["size"] for f in files), "file_count": len(files)}
        organ = p.get("organ_id")
        agency = s.scalar(sa.select(Agency.id).where(Agency.organ_id == organ)) if organ else None
        row = Package(objid=objid, version=version, kind=PackageKind.AIP.value,
                      status=PackageStatus.DELETED.value, record_file_id=rf.id,
                      fonds_id=rf.fonds_id, agency_id=agency,
                      previous_id=ids.get((objid, version - 1)), **values)
        s.add(row)
        s.flush()
        ids[(objid, version)] = row.id
    return ids


def _documents(s: Session, rec: Destroyed, rf: RecordFile,
               packages: dict[tuple[str, int], int]) -> None:
    have = s.scalar(sa.select(sa.func.count()).select_from(Document)
                    .where(Document.record_file_id == rf.id))
    if have:
        return
    objid = rec.tombstone["objid"]
    if rec.rows is not None:
        for d in rec.rows["documents"]:
            version = d.get("version")
            s.add(Document(record_file_id=rf.id,
                           package_id=packages.get((objid, version)) if version else None,
                           **_values(Document, d, ("id", "record_file_id", "package_id",
                                                   "updated_at"))))
    else:
        for n, d in enumerate(rec.tombstone["documents"], 1):
            s.add(Document(record_file_id=rf.id, doc_id=d["docId"], doc_code=d["docCode"],
                           arc_doc_code=d["arcDocCode"], doc_ordinal=n))
    s.flush()


def _event_records(cf: CaseFile) -> list[dict[str, Any]]:
    """Each deletion event as a sidecar record: format 2 wrote it so; the first format's
    summary gives all but the executing program (the implementer is the executor)."""
    out = []
    for e in cf.events:
        if "event_type" in e and "agents" in e:
            out.append(dict(e))
            continue
        actor = str(e.get("agent") or cf.executed_by)
        out.append({"event_uuid": e["event_uuid"], "event_type": e.get("type"),
                    "event_datetime": e.get("datetime"), "detail": e.get("detail"),
                    "outcome": e.get("outcome"),
                    "outcome_detail": "every copy deleted from " + ", ".join(cf.locations),
                    "object_identifier": e["objid"], "objid": e["objid"],
                    "version": e["version"],
                    "outcome_data": {"case": cf.id, "locations": list(cf.locations)},
                    "agents": [{"identifier_type": "local", "identifier_value": actor,
                                "name": actor, "agent_type": "person", "note": None,
                                "role": "implementer"}]})
    return out


def _events(rb: _Rebuild, s: Session, cf: CaseFile, packages: dict[tuple[str, int], int]) -> None:
    records = _event_records(cf)
    known = set(s.scalars(sa.select(PremisEvent.event_uuid).where(
        PremisEvent.event_uuid.in_([str(r["event_uuid"]) for r in records]))))
    by_package: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        package_id = packages.get((str(r["objid"]), int(r["version"])))
        if package_id is not None and r["event_uuid"] not in known:
            by_package[package_id].append(r)
    for package_id, events in sorted(by_package.items()):
        checked = rb.checked(f"{layout.disposal_prefix(rb.archive_code, cf.id)}{CASE_FILE}",
                             [("sidecar", events)])
        rb.insert_events(s, None, package_id, {}, {}, checked)


def _write_case(rb: _Rebuild, s: Session, cf: CaseFile) -> None:
    body_id = _body(rb, s)
    last = cf.decisions[-1]
    case = DisposalCase(
        id=cf.id, title=cf.title, explanation=cf.explanation, proposer=cf.proposer,
        status=DisposalCaseStatus.EXECUTED.value, created_at=cf.created_at,
        decisions=list(cf.decisions), decided_by=last["decided_by"],
        decided_at=parse_when(last["decided_at"]),
        deadline=parse_when(last["deadline"]) if last.get("deadline") else None,
        execution_started_at=cf.started_at, executed_by=cf.executed_by,
        executed_at=s.scalar(sa.select(AuditEntry.at).where(
            AuditEntry.action == CASE_EXECUTED, AuditEntry.object_type == CASE_OBJECT,
            AuditEntry.object_id == cf.id).order_by(AuditEntry.id).limit(1)) or cf.started_at,
        record_key=layout.disposal_prefix(rb.archive_code, cf.id))
    s.add(case)
    s.flush()
    packages: dict[tuple[str, int], int] = {}
    for rec in cf.records:
        t = rec.tombstone
        fonds_id = s.scalar(sa.select(Fonds.id).where(Fonds.archive_body_id == body_id,
                                                      Fonds.fond_code == t["fond_code"])) \
            or rb.fonds_id(s, body_id, t["fond_code"], None)
        rf = _record_file(rb, s, rec, fonds_id)
        mine = _packages(rb, s, cf, rec, rf)
        packages.update(mine)
        _documents(s, rec, rf, mine)
        s.add(DisposalCaseItem(case_id=cf.id, record_file_id=rf.id,
                               added_by=rec.added_by or cf.proposer,
                               added_at=rec.added_at or cf.created_at))
        s.add(Tombstone(case_id=cf.id, record_file_id=rf.id, **t))
    for m in cf.council:
        s.add(CouncilMember(case_id=cf.id, username=m.username, opinion=m.opinion,
                            comment=m.comment, opinion_at=m.opinion_at))
    s.flush()
    _events(rb, s, cf, packages)


# -- destruction cases under way ---------------------------------------------------------------

def restore_open_cases(rb: _Rebuild) -> None:
    """Each case that storage holds no ``case.json`` of (not executed) from its newest intact
    state file (``storage.disposal_state``), after the holds: a hồ sơ held since goes back
    into its case but not into the Danh mục. A run again adds only the cases not there."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)  # case -> (location, key)
    executed: set[str] = set()
    for name, listing in rb.listings.items():
        for key in listing.disposal:
            case_id = layout.parse_disposal_key(key) or ""
            if key.rsplit("/", 1)[1] == CASE_FILE:
                executed.add(case_id)
            elif disposal_state.parse_state_key(key) is not None:
                found[case_id].append((name, key))
    with rb.catalog.session() as s:
        known = set(s.scalars(sa.select(DisposalCase.id)))
    with rb.catalog.session() as s:
        done = set(s.scalars(sa.select(AuditEntry.object_id).where(
            AuditEntry.action == CASE_EXECUTED, AuditEntry.object_type == CASE_OBJECT)))
    for case_id in sorted(set(found) - executed - known):
        if case_id in done:  # its case.json is lost: a case under way it is not
            key = f"{layout.disposal_prefix(rb.archive_code, case_id)}{CASE_FILE}"
            rb.report.add("RBD050", key, key=key, reason="no location holds it, though the "
                          "audit log records the case's execution")
            continue
        state, key, problem = _newest_state(rb, case_id, found[case_id])
        if state is None:
            rb.report.add("RBD201", key, key=key, reason=problem)
            continue
        try:
            with rb.catalog.session() as s:
                missing = _write_open_case(s, state)
        except Exception as exc:  # noqa: BLE001 - one bad case must not stop the rebuild
            rb.report.add("RBD201", key, key=key, reason=_reason(exc))
            continue
        rb.report.open_cases += 1
        if missing:
            rb.warn("RBD202", key, case=case_id, count=len(missing), first=missing[0])


def _newest_state(rb: _Rebuild, case_id: str, sources: list[tuple[str, str]]
                  ) -> tuple[disposal_state.CaseState | None, str, str]:
    """(state, key, "") of the highest ``seq`` that reads, is sealed and checks in some
    location (same ``seq``: the later written); (None, key, why) when none does."""
    by_key: dict[str, list[str]] = defaultdict(list)
    for name, key in sources:
        by_key[key].append(name)
    keys = disposal_state.newest_first(by_key)
    best: disposal_state.CaseState | None = None
    best_key, problem = keys[0], ""
    for key in keys:
        if best is not None and disposal_state.parse_state_key(key) != best.seq:
            break
        for name in by_key[key]:
            try:
                data = _read(rb.by_name[name], key)
                if not disposal_state.sealed(key, data):
                    raise CaseFileError("state", "its bytes are not the ones its name seals")
                state = disposal_state.parse_state(data, rb.archive_code, case_id)
            except (StorageError, CaseFileError) as exc:
                problem = problem or f"{name}: {_reason(exc)}"
                continue
            if best is None or state.written_at > best.written_at:
                best, best_key = state, key
            break
    return best, best_key, problem


def _write_open_case(s: Session, cs: disposal_state.CaseState) -> list[str]:
    """The case, its council and the items whose hồ sơ the rebuild brought back (and, for one
    neither held nor otherwise used, its line in the Danh mục); the codes of the others."""
    s.add(DisposalCase(
        id=cs.id, title=cs.title, explanation=cs.explanation, proposer=cs.proposer,
        status=cs.status.value, created_at=cs.created_at, decisions=list(cs.decisions),
        decided_by=cs.decided_by, decided_at=cs.decided_at, deadline=cs.deadline,
        execution_started_at=cs.execution_started_at, executed_by=cs.executed_by))
    s.flush()
    held = set(s.scalars(sa.select(LegalHold.record_file_id).where(
        LegalHold.lifted_at.is_(None))))
    missing = []
    for item in cs.items:
        rf = s.scalar(sa.select(RecordFile).where(
            RecordFile.arc_file_code == item.arc_file_code if item.arc_file_code
            else RecordFile.file_code == item.file_code,
            RecordFile.state != FileState.DESTROYED.value).order_by(RecordFile.id).limit(1))
        if rf is None:
            missing.append(item.code)
            continue
        s.add(DisposalCaseItem(case_id=cs.id, record_file_id=rf.id, added_by=item.added_by,
                               added_at=item.added_at))
        listed = s.scalar(sa.select(DisposalListing.id).where(
            DisposalListing.record_file_id == rf.id))
        if item.listing is not None and listed is None and rf.id not in held \
                and rf.state in (FileState.ACTIVE, FileState.REVIEW_DISPOSAL):
            s.add(DisposalListing(record_file_id=rf.id, reason=item.listing.reason,
                                  detail=dict(item.listing.detail),
                                  listed_at=item.listing.listed_at,
                                  listed_by=item.listing.listed_by))
            rf.state = FileState.REVIEW_DISPOSAL.value
    for m in cs.council:
        s.add(CouncilMember(case_id=cs.id, username=m.username, opinion=m.opinion,
                            comment=m.comment, opinion_at=m.opinion_at))
    s.flush()
    return missing


# -- legal holds -------------------------------------------------------------------------------

# the audit actions and object type ``access_api.services.disposal.holds`` records
HOLD_PLACED, HOLD_LIFTED, HOLD_OBJECT = "disposal.hold.place", "disposal.hold.lift", "legal_hold"


def _naive(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(tzinfo=None) if at.tzinfo else at


def restore_holds(rb: _Rebuild) -> None:
    """Every hold placed and lifted, from the restored audit log, in one transaction; a hold
    already there (same hồ sơ, who and when) is left as it is, so a run again adds only what
    is missing."""
    with rb.catalog.session() as s:
        have = {(r, by, _naive(at)) for r, by, at in s.execute(sa.select(
            LegalHold.record_file_id, LegalHold.placed_by, LegalHold.placed_at))}
        entries = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action.in_((HOLD_PLACED, HOLD_LIFTED)),
            AuditEntry.object_type == HOLD_OBJECT).order_by(AuditEntry.id)).all()
        holds: dict[str | None, LegalHold] = {}
        missing: list[str] = []
        for entry in entries:
            detail = entry.detail if isinstance(entry.detail, dict) else {}
            code, reason = str(detail.get("record") or ""), detail.get("reason")
            if entry.action == HOLD_LIFTED:
                hold = holds.get(entry.object_id)
                if hold is not None and hold.lifted_at is None:
                    hold.lifted_at, hold.lifted_by = entry.at, entry.actor
                    hold.lift_reason = str(reason or "")[:2000]
                continue
            rf_id = s.scalar(sa.select(RecordFile.id).where(sa.or_(
                RecordFile.arc_file_code == code, RecordFile.file_code == code))
                .order_by(RecordFile.id).limit(1)) if code else None
            if rf_id is None:
                missing.append(code or f"#{entry.object_id}")
                continue
            if (rf_id, entry.actor, _naive(entry.at)) in have:
                continue
            holds[entry.object_id] = LegalHold(record_file_id=rf_id, reason=str(reason or "")[:2000],
                                               placed_by=entry.actor, placed_at=entry.at)
        s.add_all(holds.values())
    rb.report.holds += len(holds)
    if missing:
        rb.warn("RBD055", rb.archive_code, count=len(missing), first=missing[0])


# -- transfers ---------------------------------------------------------------------------------

def restore_transfers(rb: _Rebuild) -> None:
    """Hồ sơ marked transferred from their AIPs' ``transfer`` events, and the transfers those
    events carry."""
    with rb.catalog.session() as s:
        rows = s.execute(sa.select(PremisEvent.outcome_data, PremisEvent.event_datetime,
                                   Package.record_file_id, Package.fonds_id)
                         .join(Package, Package.id == PremisEvent.package_id)
                         .where(PremisEvent.event_type == TRANSFER,
                                PremisEvent.outcome == "success",
                                Package.kind == PackageKind.AIP.value,
                                Package.record_file_id.is_not(None))
                         .order_by(PremisEvent.event_datetime, PremisEvent.id)).all()
        # a send attempt's event (``access_api.services.transfer_events``) is not a completion
        rows = [r for r in rows if not (isinstance(r[0], dict) and "attempt" in r[0])]
        marked = 0
        for _data, _when, rf_id, _fonds in rows:
            rf = s.get_one(RecordFile, rf_id)
            if rf.state not in (FileState.TRANSFERRED, FileState.DESTROYED):
                rf.state = FileState.TRANSFERRED.value
                marked += 1
        known = set(s.scalars(sa.select(Transfer.id)))
    rb.report.transferred += marked
    found: dict[str, list[tuple[dict[str, Any], int, int]]] = defaultdict(list)
    for data, _when, rf_id, fonds_id in rows:
        data = data if isinstance(data, dict) else {}
        transfer_id = data.get("transfer")
        if isinstance(transfer_id, str) and transfer_id not in known:
            found[transfer_id].append((data, rf_id, fonds_id))
    for transfer_id, items in sorted(found.items()):
        if not all(isinstance(d.get("record"), dict) and isinstance(d.get("item"), dict)
                   for d, _rf, _f in items):
            rb.warn("RBD053", transfer_id, transfer=transfer_id, count=len(items))
            continue
        try:
            with rb.catalog.session() as s:
                _write_transfer(s, transfer_id, items)
        except Exception as exc:  # noqa: BLE001 - one bad transfer must not stop the rebuild
            rb.report.add("RBD054", transfer_id, transfer=transfer_id, reason=_reason(exc))
            continue
        rb.report.transfers += 1


def _write_transfer(s: Session, transfer_id: str,
                    items: list[tuple[dict[str, Any], int, int]]) -> None:
    head = items[0][0]["record"]
    fonds_id = s.scalar(sa.select(Fonds.id).where(Fonds.fond_code == head.get("fonds"))) \
        or items[0][2]
    leave = ("id", "fonds_id", "status")
    transfer = Transfer(id=transfer_id, fonds_id=fonds_id,
                        status=TransferStatus.COMPLETED.value,
                        **_values(Transfer, head, leave))
    s.add(transfer)
    s.flush()
    seen = set()
    for data, rf_id, _fonds in items:
        if rf_id in seen:
            continue
        seen.add(rf_id)
        s.add(TransferItem(transfer_id=transfer_id, record_file_id=rf_id,
                           status=TransferStatus.COMPLETED.value,
                           **_values(TransferItem, data["item"],
                                     ("id", "transfer_id", "record_file_id", "status"))))
    s.flush()
