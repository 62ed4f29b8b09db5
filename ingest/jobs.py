"""Ingest jobs: a catalog row users can poll, and the Celery task that does the work.

The job id is also the AIP's UUID, so a retried job (its worker was killed) rebuilds the same
OBJID and the same storage keys, and registration is idempotent: one job, at most one AIP.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from celery import Celery

from ingest.context import IngestContext, Services
from ingest.pipeline import IngestOutcome, run_ingest
from preservation.catalog.db import Catalog
from preservation.catalog.models import Job, utcnow
from preservation.errors import KhosoError, NotFound
from preservation.settings import Settings

TASK = "khoso.ingest"


def create_job(catalog: Catalog, source: Path, actor: str) -> str:
    with catalog.session() as s:
        job = Job(id=str(uuid.uuid4()), kind="ingest", status="queued",
                  payload={"source": str(source.resolve())}, created_by=actor)
        s.add(job)
    return job.id


def submit(catalog: Catalog, app: Celery, source: Path, actor: str) -> str:
    job_id = create_job(catalog, source, actor)
    result = app.send_task(TASK, args=[job_id])
    with catalog.session() as s:
        s.get(Job, job_id).celery_task_id = result.id
    return job_id


def run_job(settings: Settings, catalog: Catalog, job_id: str, *, services: Services,
            progress: Callable[[str, int, int], None] | None = None) -> IngestOutcome | None:
    """Run (or re-run after a crash) one ingest job; None when it had already finished."""
    with catalog.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise NotFound("GEN002", what="Job", key=job_id)
        if job.status in ("succeeded", "failed"):
            return None
        job.status, job.started_at, job.attempts = "running", utcnow(), job.attempts + 1
        source, actor = Path(job.payload["source"]), job.created_by or "system"
    ctx = IngestContext(settings, services, source, settings.data_dir / "staging" / job_id,
                        job_id, catalog=catalog, actor=actor, progress=progress)
    try:
        return run_ingest(ctx, catalog)
    except KhosoError as exc:
        # A transient failure (a storage location down) leaves the job queued for a retry;
        # nothing was registered and what was written was removed, so retrying is safe.
        transient = getattr(exc, "transient", False)
        with catalog.session() as s:
            job = s.get(Job, job_id)
            job.status = "queued" if transient else "failed"
            job.error = exc.message("en")
            job.finished_at = None if transient else utcnow()
            job.result = {"accepted": False, "error": exc.issue.to_dict(), "retry": transient}
        raise
    except Exception as exc:
        with catalog.session() as s:
            job = s.get(Job, job_id)
            job.status, job.finished_at = "failed", utcnow()
            job.error = f"{type(exc).__name__}: {exc}"[:2000]
            job.result = {"accepted": False, "error": {"code": "GEN005", "detail": job.error}}
        raise


def register_tasks(app: Celery, settings: Settings,
                   make_services: Callable[[Settings], Services]) -> None:
    """Register the ingest task; services are built once per worker process, on first use."""
    catalog = Catalog(settings.database_url)
    built: list[Services] = []

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
              max_retries=8)
    def ingest_task(self, job_id: str) -> None:
        if not built:
            built.append(make_services(settings))
        try:
            run_job(settings, catalog, job_id, services=built[0])
        except KhosoError as exc:
            if getattr(exc, "transient", False):
                raise self.retry(countdown=min(600, 15 * 2 ** self.request.retries)) from exc
            raise
