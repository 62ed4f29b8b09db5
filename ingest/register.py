"""Register an ingest in the catalog: one transaction for records, bitstreams, copies, events.

Idempotent per job: a job already registered (a retried task after a worker was killed between
commit and acknowledgement) returns the package it registered instead of registering twice.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ingest.context import IngestContext
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


def _finish_job(session: Session, job_id: str, status: str, result: dict) -> None:
    job = session.get(Job, job_id)
    if job is not None:
        job.status = status
        job.result = result
        job.finished_at = utcnow()


def already_registered(session: Session, job_id: str) -> int | None:
    job = session.get(Job, job_id)
    if job is not None and job.status == "succeeded" and job.result:
        return job.result.get("package_id")
    return None


def register_aip(ctx: IngestContext, catalog: Catalog) -> int:
    aip = ctx.aip
    with catalog.session() as s:
        done = already_registered(s, ctx.job_id)
        if done is not None:
            return done
        body = s.scalar(sa.select(ArchiveBody).where(ArchiveBody.code == ctx.settings.archive_code))
        fonds = s.scalar(sa.select(Fonds).where(Fonds.archive_body_id == body.id,
                                                Fonds.fond_code == aip.fond_code))
        agency = s.scalar(sa.select(Agency).where(Agency.organ_id == aip.organ_id))
        rf = None
        if aip.hoso is not None:
            rf = save_record_file(s, fonds, aip.hoso, actor=ctx.actor, audit_entry=False)
        pkg = Package(objid=aip.objid, kind="AIP", content_type=aip.content, version=1,
                      status="active", record_file_id=rf.id if rf else None, fonds_id=fonds.id,
                      agency_id=agency.id if agency else None, label=aip.label,
                      total_size=aip.total_size, file_count=len(aip.files))
        s.add(pkg)
        s.flush()
        ids = insert_documents(s, [d.record for d in aip.documents],
                               record_file_id=rf.id if rf else None, package_id=pkg.id)
        doc_ids = {path: i for d, i in zip(aip.documents, ids, strict=True) for path in d.files}
        rows = [{"package_id": pkg.id, "document_id": doc_ids.get(f.path), "path": f.path,
                 "size": f.size, "sha256": f.sha256, "puid": f.puid, "mime": f.mime,
                 "format_name": f.format_name} for f in aip.files]
        ids = list(s.scalars(sa.insert(Bitstream).returning(Bitstream.id,
                                                            sort_by_parameter_order=True), rows))
        bitstreams = {f.path: i for f, i in zip(aip.files, ids, strict=True)}
        now = utcnow()
        for replica in ctx.stored:
            s.add(StoredCopy(package_id=pkg.id, location=replica.location, key=aip.key_prefix,
                             sha256=aip.tagmanifest_sha256, size=aip.total_size, stored_at=now,
                             last_check_at=now, last_check_result="ok",
                             last_check_detail="verified when written"))
        # Events name files by their path inside the TT 05 package (the bag's data/ folder).
        persist_events(s, ctx.events, package_id=pkg.id,
                       bitstreams={k.removeprefix("data/"): v for k, v in bitstreams.items()})
        result = {"package_id": pkg.id, "objid": aip.objid, "accepted": True}
        _finish_job(s, ctx.job_id, "succeeded", result)
        audit.record(s, ctx.actor, "package.ingest", "package", aip.objid, job=ctx.job_id,
                     arc_file_code=aip.arc_file_code, files=len(aip.files),
                     bytes=aip.total_size, copies=[r.location for r in ctx.stored])
        return pkg.id


def register_rejection(ctx: IngestContext, catalog: Catalog, step: str, where: Path) -> int:
    """One rejected-SIP record with its events and report location; nothing else."""
    with catalog.session() as s:
        pkg = Package(objid=f"job:{ctx.job_id}", kind="SIP", status="rejected",
                      label=ctx.source.name, file_count=len(ctx.files),
                      total_size=sum(f.size for f in ctx.files.values()))
        s.add(pkg)
        s.flush()
        persist_events(s, ctx.events, package_id=pkg.id)
        codes = sorted(i.code for i in ctx.report.errors)
        _finish_job(s, ctx.job_id, "failed", {"package_id": pkg.id, "accepted": False,
                                              "failed_step": step, "codes": codes,
                                              "quarantine": str(where)})
        audit.record(s, ctx.actor, "package.reject", "package", pkg.objid, job=ctx.job_id,
                     step=step, codes=codes, at=dt.datetime.now(dt.UTC).isoformat())
        return pkg.id
