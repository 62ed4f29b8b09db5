"""Ingest of a SIP: queued for a worker, or run here and waited for.

Workers run the same ``ingest.jobs.run_job`` with the same adapters and post-commit sidecars
(``wiring.build_services``, ``wiring.register_worker_tasks``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from access_api.services.base import Identity, ServiceContext
from access_api.services.wiring import build_services
from ingest import local_clamd
from ingest.jobs import create_job, retry_later, run_job
from ingest.jobs import submit as queue_job
from ingest.pipeline import IngestOutcome
from preservation.errors import KhosoError
from preservation.issues import Text
from preservation.jobs import make_celery


@dataclass(frozen=True)
class IngestRun:
    """An ingest run here: its outcome, or the error that stopped it. A transient error (the
    archive's fault: clamd or a location down) leaves the job ``requeued`` for a worker."""

    job_id: str
    outcome: IngestOutcome | None = None
    error: KhosoError | None = None
    requeued: bool = False


def submit(ctx: ServiceContext, identity: Identity, source: Path) -> str:
    """Queue the SIP at ``source`` for a worker; returns the job id."""
    return queue_job(ctx.catalog, make_celery(ctx.settings), source, identity.actor)


def run_now(ctx: ServiceContext, identity: Identity, source: Path, *,
            progress: Callable[[str, int, int], None] | None = None) -> IngestRun:
    """Ingest the SIP at ``source`` in this process and wait (``khoso ingest --wait``); a
    managed local clamd not already running is started for the run and stopped after."""
    s = ctx.settings
    started = None
    if s.clamd_managed:  # no `khoso serve` runs the local clamd: run it for this ingest
        local = local_clamd.configure(s.clamd_dir, tmpdir=Path(s.clamd_tmpdir))
        if not local_clamd.running_pid(local):
            local_clamd.start(local)
            started = local
    job_id = create_job(ctx.catalog, source, identity.actor,
                        lease=float(s.job_visibility_timeout))
    try:
        outcome = run_job(s, ctx.catalog, job_id, services=build_services(s),
                          progress=progress)
    except KhosoError as exc:
        if exc.transient:  # the archive's fault: queued for a worker
            retry_later(ctx.catalog, make_celery(s), job_id)
        return IngestRun(job_id, error=exc, requeued=exc.transient)
    finally:
        if started is not None:
            local_clamd.stop(started)
    if outcome is None:  # cannot happen to a job created here; say so rather than crash
        raise KhosoError("GEN005", detail=Text(
            f"công việc {job_id} đã do một tiến trình xử lý khác nhận",
            f"job {job_id} was taken by another worker"))
    return IngestRun(job_id, outcome)
