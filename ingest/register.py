"""Register an ingest in the catalog: one transaction for records, bitstreams, copies, events.

Idempotent per job: a job already registered (a retried task after a worker was killed between
commit and acknowledgement) returns the package it registered instead of registering twice.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest.context import IngestContext
from ingest.steps.store_aip import finish_storing
from preservation import search
from preservation.catalog import audit
from preservation.catalog.db import Catalog
from preservation.catalog.events import persist_events
from preservation.catalog.models import (
    Agency,
    ArchiveBody,
    Bitstream,
    Fonds,
    Job,
    Package,
    StoredCopy,
    utcnow,
)
from preservation.catalog.records import insert_documents, save_record_file
from preservation.catalog.vocab import CheckResult, JobStatus, PackageKind, PackageStatus

if TYPE_CHECKING:
    from ingest.aip import BuiltAip

T = TypeVar("T")


def _finish_job(session: Session, job_id: str, status: str, result: dict[str, Any]) -> None:
    job = session.get(Job, job_id)
    if job is not None:
        job.status = status
        job.result = result
        job.finished_at = utcnow()


MAX_JOB_ISSUES = 500  # issues kept on the job row (the quarantine report.json keeps them all)


def job_issues(ctx: IngestContext) -> dict[str, Any]:
    """The report's issues for ``khoso job show``: code, severity, path and both messages."""
    issues = [i.to_dict() for i in ctx.report.issues[:MAX_JOB_ISSUES]]
    return {"issues": issues, "issues_total": len(ctx.report.issues)}


def already_registered(session: Session, job_id: str) -> int | None:
    job = session.get(Job, job_id)
    if job is not None and job.status == JobStatus.SUCCEEDED and job.result:
        return job.result.get("package_id")
    return None


CHUNK = 5000  # rows per INSERT, all in the one registering transaction


def _chunks(items: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _insert_documents(s: Session, aip: BuiltAip, record_file_id: int | None,
                      package_id: int) -> dict[str, int]:
    """Documents a chunk at a time (``aip.documents`` may be spooled); data file path -> id."""
    doc_ids: dict[str, int] = {}
    for chunk in _chunks(aip.documents):
        ids = insert_documents(s, [d.record for d in chunk], record_file_id=record_file_id,
                               package_id=package_id)
        for d, i in zip(chunk, ids, strict=True):
            doc_ids.update(dict.fromkeys(d.files, i))
    return doc_ids


def _insert_bitstreams(s: Session, aip: BuiltAip, doc_ids: dict[str, int],
                       package_id: int) -> dict[str, int]:
    """Bitstreams with one Core executemany per chunk; bag-relative path -> id."""
    table = cast(sa.Table, Bitstream.__table__)
    insert = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    created = utcnow()
    bitstreams: dict[str, int] = {}
    for chunk in _chunks(aip.files):
        rows = [{"package_id": package_id, "document_id": doc_ids.get(f.path), "path": f.path,
                 "size": f.size, "sha256": f.sha256, "puid": f.puid, "mime": f.mime,
                 "format_name": f.format_name, "created_at": created} for f in chunk]
        ids = s.execute(insert, rows).scalars()
        bitstreams.update(zip((f.path for f in chunk), ids, strict=True))
    return bitstreams


def register_aip(ctx: IngestContext, catalog: Catalog) -> int:
    aip = ctx.aip
    assert aip is not None
    with catalog.session() as s:
        done = already_registered(s, ctx.job_id)
        if done is not None:
            finish_storing(ctx)  # the same keys and bytes: let it end rather than remove them
            return done
        body = s.scalar(sa.select(ArchiveBody).where(ArchiveBody.code == ctx.settings.archive_code))
        assert body is not None  # made by ``khoso init``
        fonds = s.scalar(sa.select(Fonds).where(Fonds.archive_body_id == body.id,
                                                Fonds.fond_code == aip.fond_code))
        assert fonds is not None  # validate_sip refused a SIP of an unknown fonds
        agency = s.scalar(sa.select(Agency).where(Agency.organ_id == aip.organ_id))
        rf = None
        if aip.hoso is not None:
            rf = save_record_file(s, fonds, aip.hoso, actor=ctx.actor, audit_entry=False)
        pkg = Package(objid=aip.objid, kind=PackageKind.AIP, content_type=aip.content, version=1,
                      status=PackageStatus.ACTIVE, record_file_id=rf.id if rf else None,
                      fonds_id=fonds.id,
                      agency_id=agency.id if agency else None, label=aip.label,
                      total_size=aip.total_size, file_count=len(aip.files))
        s.add(pkg)
        s.flush()
        doc_ids = _insert_documents(s, aip, rf.id if rf else None, pkg.id)
        bitstreams = _insert_bitstreams(s, aip, doc_ids, pkg.id)
        if ctx.services.on_register is not None:
            ctx.services.on_register(s, ctx, pkg.id, doc_ids)
        del doc_ids
        search.index_aip(s, aip.objid)  # searchable exactly when the AIP is registered
        # Events name files by their path inside the TT 05 package (the bag's data/ folder).
        persist_events(s, ctx.events, package_id=pkg.id, bitstreams=bitstreams,
                       bitstream_prefix="data/")
        # Everything above ran while the replicas were being written; nothing commits before
        # they are all there and verified (a failure raises here and rolls it all back).
        replicated = finish_storing(ctx)
        ctx.events.extend(replicated)
        persist_events(s, replicated, package_id=pkg.id)
        now = utcnow()
        for replica in ctx.stored:
            s.add(StoredCopy(package_id=pkg.id, location=replica.location, key=aip.key_prefix,
                             sha256=aip.tagmanifest_sha256, size=aip.total_size, stored_at=now,
                             last_check_at=now, last_check_result=CheckResult.OK,
                             last_check_detail="verified when written"))
        result = {"package_id": pkg.id, "objid": aip.objid, "accepted": True,
                  **job_issues(ctx)}
        _finish_job(s, ctx.job_id, JobStatus.SUCCEEDED, result)
        audit.record(s, ctx.actor, "package.ingest", "package", aip.objid, job=ctx.job_id,
                     arc_file_code=aip.arc_file_code, files=len(aip.files),
                     bytes=aip.total_size, copies=[r.location for r in ctx.stored])
        return pkg.id


def register_rejection(ctx: IngestContext, catalog: Catalog, step: str, where: Path) -> int:
    """One rejected-SIP record with its events and report location; nothing else."""
    with catalog.session() as s:
        pkg = Package(objid=f"job:{ctx.job_id}", kind=PackageKind.SIP,
                      status=PackageStatus.REJECTED,
                      label=ctx.source.name, file_count=len(ctx.files),
                      total_size=sum(f.size for f in ctx.files.values()))
        s.add(pkg)
        s.flush()
        persist_events(s, ctx.events, package_id=pkg.id)
        codes = sorted(i.code for i in ctx.report.errors)
        _finish_job(s, ctx.job_id, JobStatus.FAILED, {"package_id": pkg.id, "accepted": False,
                                              "failed_step": step, "codes": codes,
                                              "quarantine": str(where),
                                              **job_issues(ctx)})
        audit.record(s, ctx.actor, "package.reject", "package", pkg.objid, job=ctx.job_id,
                     step=step, codes=codes, at=dt.datetime.now(dt.UTC).isoformat())
        return pkg.id
