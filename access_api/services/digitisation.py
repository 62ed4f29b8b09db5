"""Digitise a paper hồ sơ into an AIP_hoso (#16): from a folder (``khoso digitise import``) or a
ZIP of it (``POST /api/v1/digitisations``), as an ingest job whose first step makes the signed
PDF/A (``ingest.digitise.importer``); the job is polled like any other (``GET /api/v1/jobs/{id}``).

What can be refused before a page is read is refused here, synchronously: a malformed hồ sơ
or paper file code (422), an unregistered fonds (422), a hồ sơ already held (409). The job checks
the folder itself and refuses it with its codes; the archive's own faults (clamd, a location,
the OCR tools) leave the job queued for a retry, as any ingest.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext
from access_api.services.body_limits import BodyKind, body_limit
from access_api.services.ingest import IngestRun
from access_api.services.submissions import (
    PayloadTooLarge,
    Readable,
    UnsupportedType,
    check_queue,
    media_type,
    read_chunk,
    staging_dir,
    staging_failed,
)
from access_api.services.wiring import build_services
from ingest import local_clamd
from ingest.digitise.importer import Options, already_held, check_codes
from ingest.jobs import DEFAULT_LEASE, catalog_unavailable, retry_later, run_job, send
from preservation.catalog import audit
from preservation.catalog.models import ArchiveBody, Fonds, Job, utcnow
from preservation.catalog.vocab import JobStatus
from preservation.errors import Conflict, KhosoError, Unavailable, ValidationFailed
from preservation.issues import Report, Text
from preservation.jobs import make_celery

log = logging.getLogger(__name__)

ZIP = "application/zip"


def check(ctx: ServiceContext, options: Options) -> None:
    """What is refused before anything is read: codes (422), fonds (422), a held hồ sơ (409)."""
    report = Report()
    check_codes(options, report)
    if not report.ok:
        raise ValidationFailed(report, report.errors[0].code)
    try:
        with ctx.catalog.session() as s:
            known = s.scalar(sa.select(Fonds.id).join(ArchiveBody).where(
                ArchiveBody.code == ctx.settings.archive_code,
                Fonds.fond_code == options.fond_code))
            held = already_held(s, ctx.settings.archive_code, options.file_code)
    except sa.exc.OperationalError as exc:
        raise catalog_unavailable(exc) from exc
    if known is None:
        report.add("DIG113", fond_code=options.fond_code, archive=ctx.settings.archive_code)
        raise ValidationFailed(report, "DIG113")
    if held is not None:
        raise Conflict("DIG112", file_code=options.file_code, objid=held)


def _create(ctx: ServiceContext, identity: Identity, source: Path, options: Options, *,
            staged: bool, lease: float) -> str:
    """The job row and its audit entry, in one transaction."""
    payload: dict[str, Any] = {"source": str(source.resolve()), "digitise": options.to_payload()}
    if staged:
        payload["staged"] = True
    with ctx.catalog.session() as s:
        job = Job(id=str(uuid.uuid4()), kind="ingest", status=JobStatus.QUEUED, payload=payload,
                  created_by=identity.actor, lease_until=time.time() + lease)
        s.add(job)
        s.flush()
        audit.record(s, identity.actor, "digitisation.start", "job", job.id,
                     file_code=options.file_code, fond_code=options.fond_code,
                     paper_file_code=options.paper_file_code, operator=options.operator,
                     scanner=options.scanner, source=source.name)
        return job.id


def start(ctx: ServiceContext, identity: Identity, source: Path, options: Options, *,
          staged: bool = False) -> str:
    """Queue the digitisation of ``source`` (a folder, or a staged ZIP) for a worker."""
    check(ctx, options)
    app = make_celery(ctx.settings)
    lease = float(app.conf.get("khoso_job_visibility_timeout") or DEFAULT_LEASE)
    try:
        job_id = _create(ctx, identity, source, options, staged=staged, lease=lease)
    except sa.exc.SQLAlchemyError as exc:
        if staged:
            source.unlink(missing_ok=True)
        raise catalog_unavailable(exc) from exc
    try:
        send(ctx.catalog, app, job_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: the digitisation is not taken
        log.warning("digitisation job %s could not be queued: %s", job_id, exc)
        if staged:
            source.unlink(missing_ok=True)
        with ctx.catalog.session() as s:
            job = s.get_one(Job, job_id)
            job.status, job.finished_at, job.lease_until = JobStatus.CANCELLED, utcnow(), None
            job.error = f"not queued: the broker did not take it ({type(exc).__name__})"
        raise Unavailable("SUB007", retry_after=60, reason=type(exc).__name__) from exc
    return job_id


def run_now(ctx: ServiceContext, identity: Identity, folder: Path, options: Options, *,
            progress: Callable[[str, int, int], None] | None = None) -> IngestRun:
    """Digitise ``folder`` in this process and wait (``khoso digitise import --wait``)."""
    check(ctx, options)
    s = ctx.settings
    started = None
    if s.clamd_managed:  # no `khoso serve` runs the local clamd: run it for this job
        local = local_clamd.configure(s.clamd_dir, tmpdir=Path(s.clamd_tmpdir))
        if not local_clamd.running_pid(local):
            local_clamd.start(local)
            started = local
    job_id = _create(ctx, identity, folder, options, staged=False,
                     lease=float(s.job_visibility_timeout))
    try:
        outcome = run_job(s, ctx.catalog, job_id, services=build_services(s), progress=progress)
    except KhosoError as exc:
        if exc.transient:  # the archive's fault: queued for a worker
            retry_later(ctx.catalog, make_celery(s), job_id)
        return IngestRun(job_id, error=exc, requeued=exc.transient)
    finally:
        if started is not None:
            local_clamd.stop(started)
    if outcome is None:
        raise KhosoError("GEN005", detail=Text(
            f"công việc {job_id} đã do một tiến trình xử lý khác nhận",
            f"job {job_id} was taken by another worker"))
    return IngestRun(job_id, outcome)


def submit_zip(ctx: ServiceContext, identity: Identity, stream: Readable,
               content_type: str | None, length: int | None, options: Options) -> str:
    """Stage a ZIP of the folder sent as the request body and queue its digitisation."""
    if media_type(content_type) != ZIP:
        raise UnsupportedType("API005", content_type=content_type or "-", accepted=ZIP)
    limit = ctx.settings.max_upload_bytes
    if length is not None and length > limit:
        raise PayloadTooLarge("API004", **body_limit(limit, BodyKind.UPLOAD))
    if length == 0:
        raise KhosoError("SUB004")
    check(ctx, options)  # before reading a byte: a refused request keeps nothing
    check_queue(ctx)
    folder = staging_dir(ctx)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise staging_failed(exc) from exc
    target = folder / f"{uuid.uuid4().hex}.digitise.zip"
    received = 0
    try:
        with open(target, "xb") as out:
            while chunk := read_chunk(stream, received):
                received += len(chunk)
                if received > limit:
                    raise PayloadTooLarge("API004", **body_limit(limit, BodyKind.UPLOAD))
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise staging_failed(exc) from exc
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if received == 0 or (length is not None and received < length):
        target.unlink(missing_ok=True)
        raise KhosoError("SUB004") if received == 0 else KhosoError("SUB005", received=received)
    return start(ctx, identity, target, options, staged=True)
