"""The part of a catalog rebuild that is not AIPs: the audit log and the rejected submissions,
read back from their sidecars (``storage.sidecar_log``) in every location.

The audit log is restored only into an empty log, entry for entry with its original times and
hashes, after its chain was verified from the genesis: ``verify_chain`` holds over the rebuilt
catalog and the rebuild's own entry chains on from the last restored one. A rejection comes
back as it was registered (the SIP package row, its PREMIS events with their UUIDs and times,
its job) and its report is written again in the quarantine folder when that is gone; the
submitted files themselves were never in storage and cannot come back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from preservation.catalog import audit as audit_log
from preservation.catalog.models import AuditEntry, Job, Package
from preservation.catalog.vocab import JobStatus, PackageKind, PackageStatus
from preservation.packaging.aip import layout
from storage import sidecar_log
from storage.errors import StorageError
from storage.sidecar import parse_when

if TYPE_CHECKING:
    from storage.rebuild import _Rebuild


def restore_audit_log(rb: _Rebuild) -> None:
    sources = [(rb.by_name[name], key) for name, lst in rb.listings.items()
               for key in sorted(lst.audit)]
    if not sources:
        return
    with rb.catalog.session() as s:
        held = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
    if held:
        if not rb.resuming:  # e.g. 'khoso init' ran first: its entries would fork the chain
            rb.report.add("RBD041", rb.archive_code, count=held)
        return
    chain, problems = sidecar_log.read_audit_chain(sources)
    for where, reason in problems[:20]:
        rb.report.add("RBD040", where, where=where, reason=reason, restored=len(chain))
    try:
        with rb.catalog.session() as s:
            rb.report.audit_entries = audit_log.restore(s, chain)
    except (ValueError, sa.exc.SQLAlchemyError) as exc:  # checked above; never half restored
        rb.report.add("RBD040", rb.archive_code, where="-", restored=0,
                      reason=str(exc).splitlines()[0][:300])


def restore_rejections(rb: _Rebuild) -> None:
    found: dict[str, list[tuple[Any, str]]] = {}  # job id -> (storage, key), preferred first
    for name, lst in rb.listings.items():
        for job, key in lst.rejections.items():
            found.setdefault(job, []).append((rb.by_name[name], key))
    if not found:
        return
    with rb.catalog.session() as s:
        known = set(s.scalars(sa.select(Package.objid).where(Package.kind == PackageKind.SIP)))
    for job_id in sorted(found):
        if f"job:{job_id}" in known:
            continue  # a rebuild run again: restored the first time
        record, problem, key = None, "", found[job_id][0][1]
        for storage, key in found[job_id]:
            try:
                record = sidecar_log.read_rejection(storage, key)
                break
            except (StorageError, ValueError, UnicodeDecodeError) as exc:
                problem = exc.message("en") if isinstance(exc, StorageError) else str(exc)
        if record is None:  # what the archive refused must stay provable: an error
            rb.report.add("RBD042", key, key=key, reason=problem)
            continue
        try:
            with rb.catalog.session() as s:
                _write_rejection(rb, s, record)
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the rebuild
            rb.report.add("RBD042", key, key=key, reason=str(exc).splitlines()[0][:300])
            continue
        rb.report.rejections += 1
        if rb.quarantine_dir is not None and isinstance(record.get("report"), dict):
            _write_report(rb.quarantine_dir, record["job"]["id"], record["report"])


def _when(value: Any) -> Any:
    return parse_when(value) if isinstance(value, str) and value else None


def _write_rejection(rb: _Rebuild, s: Any, record: dict[str, Any]) -> None:
    facts, job = record["package"], record["job"]
    objid = f"job:{job['id']}"
    pkg = Package(objid=objid, kind=PackageKind.SIP, status=PackageStatus.REJECTED,
                  label=facts.get("label"),
                  file_count=int(facts.get("file_count") or 0),
                  total_size=int(facts.get("total_size") or 0))
    if created := _when(facts.get("created_at")):
        pkg.created_at = created
    s.add(pkg)
    s.flush()
    events = rb.checked(objid, [("sidecar", list(record.get("events") or []))])
    rb.insert_events(s, None, pkg.id, {}, {}, events)
    if s.get(Job, job["id"]) is None:
        result = dict(job.get("result") or {})
        if "package_id" in result:
            result["package_id"] = pkg.id  # this catalog's id for the same record
        s.add(Job(id=job["id"], kind=job.get("kind") or "ingest",
                  status=job.get("status") or JobStatus.FAILED, payload=job.get("payload") or {},
                  result=result, error=job.get("error"), attempts=int(job.get("attempts") or 0),
                  created_by=job.get("created_by"),
                  created_at=_when(job.get("created_at")) or pkg.created_at,
                  started_at=_when(job.get("started_at")),
                  finished_at=_when(job.get("finished_at"))))
    s.flush()


def _write_report(folder: Path, job_id: str, report: dict[str, Any]) -> None:
    """The rejection report where ingest keeps it, unless a report is already there."""
    layout.rejection_key("-", job_id)  # refuses anything but a plain job id
    target = folder / job_id / "report.json"
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
