"""Ingest jobs: a catalog row users can poll, and the Celery task that does the work.

The job id is also the AIP's UUID, so a retried job (its worker was killed) rebuilds the same
OBJID and the same storage keys, and registration is idempotent: one job, at most one AIP.

The catalog row, not the broker, is what guarantees that an accepted job is never lost. Not
every broker the README offers redelivers a dead worker's message (kombu's SQL transport marks
a message taken the moment a worker reads it, and an ETA retry lives only in the worker's
memory), so each job carries a *lease*: the worker running it renews ``lease_until`` every
quarter of ``KHOSO_JOB_VISIBILITY_TIMEOUT``; a queued job's lease says by when its message must
have been taken. Every worker runs ``recover_jobs`` periodically: a job whose lease ran out
(its worker is gone, or its message was lost) has what its dead attempt staged removed and is
sent again. ``claim`` lets exactly one worker run a job at a time — compare-and-set on the row —
so a message delivered twice (the sweeper's and the broker's own redelivery) runs it once.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from celery import Celery

from ingest.context import IngestContext, Services
from ingest.pipeline import STEPS, IngestOutcome, run_ingest
from preservation.catalog.db import Catalog
from preservation.catalog.models import Job, utcnow
from preservation.catalog.vocab import JobStatus
from preservation.errors import KhosoError, NotFound
from preservation.issues import Issue, Noun
from preservation.settings import Settings

log = logging.getLogger(__name__)

TASK = "khoso.ingest"
LOST_LIMIT = 3  # runs whose worker died before the job is given up: a SIP that kills workers
RETRY_MAX = 600  # seconds: the longest back-off between retries after an infrastructure fault
DEFAULT_LEASE = 3600.0


def retry_delay(retries: int) -> int:
    """Back-off after an infrastructure fault: 15 s, 30 s, … at most ``RETRY_MAX``."""
    return min(RETRY_MAX, 15 * 2 ** min(retries, 10))


def _timeout(settings: Settings | None) -> float:
    return float(settings.job_visibility_timeout) if settings is not None else DEFAULT_LEASE


def catalog_unavailable(exc: Exception) -> KhosoError:
    """DB001 as a transient error: the job is retried, not failed."""
    error = KhosoError("DB001", reason=str(getattr(exc, "orig", None) or exc).splitlines()[0])
    error.transient = True
    return error


def create_job(catalog: Catalog, source: Path, actor: str, *,
               lease: float = DEFAULT_LEASE, agency: str | None = None,
               staged: bool = False, idempotency_key: str | None = None) -> str:
    """A queued ingest job. ``agency``: the organ id an agency system submitted for (the
    worker refuses a bag naming another one); ``staged``: the source is the archive's own
    copy of an uploaded body, removed once the job has an outcome."""
    payload: dict[str, Any] = {"source": str(source.resolve())}
    if agency is not None:
        payload["agency"] = agency
    if staged:
        payload["staged"] = True
    with catalog.session() as s:
        job = Job(id=str(uuid.uuid4()), kind="ingest", status=JobStatus.QUEUED,
                  payload=payload, created_by=actor, agency=agency,
                  lease_until=time.time() + lease, idempotency_key=idempotency_key)
        s.add(job)
    return job.id


def submit(catalog: Catalog, app: Celery, source: Path, actor: str) -> str:
    lease = float(app.conf.get("khoso_job_visibility_timeout") or DEFAULT_LEASE)
    job_id = create_job(catalog, source, actor, lease=lease)
    send(catalog, app, job_id)
    return job_id


def send(catalog: Catalog, app: Celery, job_id: str) -> None:
    """Hand a created job to the workers through the broker."""
    result = app.send_task(TASK, args=[job_id])
    with catalog.session() as s:
        s.get_one(Job, job_id).celery_task_id = result.id


def retry_later(catalog: Catalog, app: Celery, job_id: str) -> None:
    """Hand a job that met an infrastructure fault outside a worker (``ingest --wait``) to
    the workers, after the first back-off. If the broker is down too, the job's lease makes
    a worker's ``recover_jobs`` send it once the lease has run out."""
    try:
        task_id = app.send_task(TASK, args=[job_id], countdown=retry_delay(0)).id
    except Exception:  # noqa: BLE001 - recover_jobs is the fallback
        log.exception("could not queue job %s for a retry; a worker will pick it up", job_id)
        return
    with catalog.session() as s:
        s.get_one(Job, job_id).celery_task_id = task_id


class Lease:
    """Renews a running job's lease from a thread while its worker lives.

    A worker that is alive but slow (clamd scanning 2 GiB) keeps its job; only a dead one —
    SIGKILL, power loss — lets the lease run out. ``lost`` turns true if another worker took
    the job over (the catalog was unreachable here for a whole timeout)."""

    def __init__(self, catalog: Catalog, job_id: str, attempt: int, timeout: float) -> None:
        self.catalog, self.job_id, self.attempt, self.timeout = catalog, job_id, attempt, timeout
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease:{job_id}")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(max(0.5, self.timeout / 4)):
            try:
                with self.catalog.session() as s:
                    renewed = cast("sa.CursorResult[Any]", s.execute(sa.update(Job).where(
                        Job.id == self.job_id, Job.status == JobStatus.RUNNING,
                        Job.attempts == self.attempt).values(
                        lease_until=time.time() + self.timeout))).rowcount
            except sa.exc.SQLAlchemyError as exc:
                log.warning("could not renew the lease of job %s: %s", self.job_id, exc)
                continue
            if not renewed:
                self.lost = True
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class StepRecorder:
    """Writes the running job's step and progress (0..1 over the whole ingest) to its row.

    Steps report progress from their own threads (replication), some while registration holds
    the catalog's write lock: they only note it here, and this thread writes it — at most once
    a second, at once when a step starts — never over a job that is no longer running."""

    def __init__(self, catalog: Catalog, job_id: str, every: float = 1.0) -> None:
        self.catalog, self.job_id, self.every = catalog, job_id, every
        self._lock = threading.Lock()
        self._step: str | None = None
        self._base, self._span, self._part = 0.0, 0.0, 0.0
        self._written: tuple[str | None, float] | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"steps:{job_id}")
        self._thread.start()

    def step(self, name: str, index: int, total: int) -> None:
        with self._lock:
            self._step, self._base, self._span, self._part = name, index / total, 1 / total, 0.0
        self._wake.set()

    def tick(self, _stage: str, done: int, total: int) -> None:
        """Progress within the step; never backwards (replication started during the read
        pass reports its own counts while another stage of the step reports too)."""
        if total > 0:
            with self._lock:
                self._part = max(self._part, min(1.0, max(0.0, done / total)))

    def _current(self) -> tuple[str | None, float]:
        with self._lock:
            return self._step, round(min(1.0, self._base + self._span * self._part), 4)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.every)
            self._wake.clear()
            self._write()

    def _write(self) -> None:
        now = self._current()
        if now == self._written or now[0] is None:
            return
        try:
            with self.catalog.session() as s:
                s.execute(sa.update(Job).where(
                    Job.id == self.job_id, Job.status == JobStatus.RUNNING).values(
                    step=now[0], progress=now[1]).execution_options(synchronize_session=False))
            self._written = now
        except sa.exc.SQLAlchemyError as exc:  # shown late, never a reason to fail the job
            log.warning("could not record the step of job %s: %s", self.job_id, exc)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()


def discard_source(job: Job) -> None:
    """Remove the archive's staged copy of an uploaded body once its job has an outcome (a
    rejected one was copied to quarantine with its report first)."""
    if (job.payload or {}).get("staged"):
        Path(job.payload["source"]).unlink(missing_ok=True)


def claim(catalog: Catalog, job_id: str, timeout: float) -> tuple[Job, bool] | None:
    """Take the job for this process: (job, whether a dead attempt preceded), or None when it
    is finished or a live worker holds it. Compare-and-set, so two claimants never both win."""
    now = time.time()
    with catalog.session() as s:
        job = s.get(Job, job_id)
        if job is None:
            raise NotFound("GEN002", what=Noun.JOB, key=job_id)
        if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return None
        if job.status == JobStatus.RUNNING and (job.lease_until or 0) > now:
            return None  # a live worker runs it; if it dies, recover_jobs hands it out again
        was_dead = job.status == JobStatus.RUNNING
        won = cast("sa.CursorResult[Any]", s.execute(sa.update(Job).where(
            Job.id == job_id, Job.status == job.status, Job.attempts == job.attempts,
            Job.lease_until == job.lease_until if job.lease_until is not None
            else Job.lease_until.is_(None)).values(
            status=JobStatus.RUNNING, started_at=utcnow(), attempts=job.attempts + 1,
            lease_until=now + timeout).execution_options(synchronize_session=False))).rowcount
        if not won:
            return None
    with catalog.session() as s:
        return s.get_one(Job, job_id), was_dead


def run_job(settings: Settings, catalog: Catalog, job_id: str, *, services: Services,
            progress: Callable[[str, int, int], None] | None = None) -> IngestOutcome | None:
    """Run (or re-run after a crash) one ingest job; None when it had already finished or
    another live worker is running it."""
    timeout = _timeout(settings)
    taken = claim(catalog, job_id, timeout)
    if taken is None:
        return None
    job, was_dead = taken
    source, actor = Path(job.payload["source"]), job.created_by or "system"
    steps_of_job = STEPS
    if (digitise := job.payload.get("digitise")) is not None:
        # page images of a paper hồ sơ: made into signed PDF/A first, then ingested (#16)
        from ingest.digitise.importer import prepare
        steps_of_job, services = prepare(digitise, settings, services)
    if was_dead and services.discard_staged is not None:
        services.discard_staged(job_id)  # a dead attempt's staged copies: gone before we stage
    lease = Lease(catalog, job_id, job.attempts, timeout)
    steps = StepRecorder(catalog, job_id)

    def ticks(stage: str, done: int, total: int) -> None:
        steps.tick(stage, done, total)
        if progress is not None:
            progress(stage, done, total)

    ctx = IngestContext(settings, services, source, settings.data_dir / "staging" / job_id,
                        job_id, catalog=catalog, actor=actor, progress=ticks,
                        on_step=steps.step, submitted_for=job.payload.get("agency"))
    try:
        outcome = run_ingest(ctx, catalog, steps_of_job)
        steps.stop()
        discard_source(job)
        return outcome
    except KhosoError as exc:
        # A transient failure (a storage location or clamd down) leaves the job queued for a
        # retry; nothing was registered and what was written was removed, so retrying is safe.
        transient = exc.transient
        lease.stop()
        steps.stop()
        if not transient:
            discard_source(job)
        with catalog.session() as s:
            job = s.get_one(Job, job_id)
            job.status = JobStatus.QUEUED if transient else JobStatus.FAILED
            job.error = exc.message("en")
            job.finished_at = None if transient else utcnow()
            job.result = {"accepted": False, "error": exc.issue.to_dict(), "retry": transient,
                          "lost": (job.result or {}).get("lost", 0)}
            # the retry is due within RETRY_MAX; after that its message counts as lost
            job.lease_until = time.time() + RETRY_MAX + timeout if transient else None
        raise
    except KeyboardInterrupt:
        # `ingest --wait` interrupted by its user: a decision, not a crash to recover from.
        lease.stop()
        with catalog.session() as s:
            job = s.get_one(Job, job_id)
            job.status, job.finished_at, job.lease_until = JobStatus.CANCELLED, utcnow(), None
            job.error = "interrupted by the user"
        raise
    except sa.exc.OperationalError as exc:
        # The catalog went away: the archive's fault, retried like clamd or storage down.
        lease.stop()
        error = catalog_unavailable(exc)
        try:
            with catalog.session() as s:
                job = s.get_one(Job, job_id)
                job.status, job.error = JobStatus.QUEUED, error.message("en")
                job.result = {"accepted": False, "error": error.issue.to_dict(), "retry": True,
                              "lost": (job.result or {}).get("lost", 0)}
                job.lease_until = time.time() + RETRY_MAX + timeout
        except sa.exc.SQLAlchemyError:
            pass  # still down: the lease runs out and recover_jobs hands the job out again
        raise error from exc
    except Exception as exc:
        lease.stop()
        steps.stop()
        discard_source(job)
        with catalog.session() as s:
            job = s.get_one(Job, job_id)
            job.status, job.finished_at = JobStatus.FAILED, utcnow()
            job.error = f"{type(exc).__name__}: {exc}"[:2000]
            job.result = {"accepted": False, "error": {"code": "GEN005", "detail": job.error}}
            job.lease_until = None
        raise
    finally:
        lease.stop()
        steps.stop()


def recover_jobs(catalog: Catalog, timeout: float, send: Callable[[str], str],
                 discard_staged: Callable[[str], int] | None = None,
                 workspaces: Path | None = None) -> dict[str, list[str]]:
    """Hand out again every job whose lease ran out; give up a job whose workers died
    ``LOST_LIMIT`` times (JOB061, a system fault: nothing is recorded against the agency).

    A running job with an expired lease is first re-leased to this sweeper (no worker can
    claim it meanwhile), then what its dead attempt staged on the replicas and left in the
    local workspace is removed, and only then is it queued and sent again."""
    now = time.time()
    done: dict[str, list[str]] = {"requeued": [], "resent": [], "abandoned": []}
    with catalog.session() as s:
        stale = s.execute(sa.select(Job.id, Job.status, Job.attempts, Job.lease_until).where(
            Job.kind == "ingest", Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            sa.or_(Job.lease_until.is_(None), Job.lease_until < now))).all()
    for job_id, status, attempts, lease_until in stale:
        same = (Job.lease_until == lease_until if lease_until is not None
                else Job.lease_until.is_(None))
        with catalog.session() as s:
            won = cast("sa.CursorResult[Any]", s.execute(sa.update(Job).where(
                Job.id == job_id, Job.status == status, Job.attempts == attempts, same).values(
                lease_until=time.time() + timeout).execution_options(
                synchronize_session=False))).rowcount
        if not won:
            continue  # someone else (a worker, another sweeper) got there first
        if status == JobStatus.QUEUED:
            task_id = send(job_id)
            with catalog.session() as s:
                s.get_one(Job, job_id).celery_task_id = task_id
            done["resent"].append(job_id)
            continue
        if discard_staged is not None:
            try:
                discard_staged(job_id)
            except Exception:  # noqa: BLE001 - the next attempt discards again
                log.exception("could not discard what job %s staged", job_id)
        if workspaces is not None:
            shutil.rmtree(workspaces / job_id, ignore_errors=True)
        with catalog.session() as s:
            job = s.get_one(Job, job_id)
            lost = (job.result or {}).get("lost", 0) + 1
            if lost >= LOST_LIMIT:
                issue = Issue("JOB061", "", {"count": lost})
                job.status, job.finished_at, job.lease_until = JobStatus.FAILED, utcnow(), None
                job.error = issue.message("en")
                job.result = {"accepted": False, "error": issue.to_dict(), "retry": False,
                              "lost": lost}
                discard_source(job)
                done["abandoned"].append(job_id)
                continue
            job.status = JobStatus.QUEUED
            job.error = f"attempt {attempts}: its worker stopped; the job is run again"
            job.result = {"accepted": False, "retry": True, "lost": lost}
        task_id = send(job_id)
        with catalog.session() as s:
            s.get_one(Job, job_id).celery_task_id = task_id
        done["requeued"].append(job_id)
    for kind, ids in done.items():
        for job_id in ids:
            log.warning("job %s %s after its lease ran out", job_id, kind)
    return done


class Sweeper:
    """Runs ``recover_jobs`` every half lease from a thread of each worker process."""

    def __init__(self, every: float, sweep: Callable[[], object]) -> None:
        self._every, self._sweep = every, sweep
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="khoso-sweeper")
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self._sweep()
            except Exception:  # noqa: BLE001 - the catalog or broker may be down: next round
                log.exception("job recovery sweep failed")
            if self._stop.wait(self._every):
                return

    def stop(self) -> None:
        self._stop.set()


def log_outcome(job_id: str, outcome: IngestOutcome | None) -> None:
    """The worker's one line per job: accepted or rejected, with the step and the codes (the
    task's own result line is silenced: it always says "succeeded … None")."""
    if outcome is None:
        log.info("job %s: already finished, or another worker runs it", job_id,
                 extra={"job_id": job_id, "outcome": "skipped"})
    elif outcome.accepted:
        warnings = sum(1 for i in outcome.report.issues if i.severity.value == "warning")
        log.info("job %s accepted: %s, %d warning(s)", job_id, outcome.objid, warnings,
                 extra={"job_id": job_id, "step": "register", "outcome": "accepted"})
    else:
        codes = sorted({i.code for i in outcome.report.errors})
        log.info("job %s rejected at %s: %s", job_id, outcome.failed_step,
                 ", ".join(codes) or "-",
                 extra={"job_id": job_id, "step": outcome.failed_step, "outcome": "rejected"})


def register_tasks(app: Celery, settings: Settings,
                   make_services: Callable[[Settings], Services],
                   discard_staged: Callable[[str], int] | None = None) -> None:
    """Register the ingest task and start the recovery sweeper; services are built once per
    worker process, on first use."""
    from celery import signals

    catalog = Catalog(settings.database_url)
    built: list[Services] = []
    timeout = _timeout(settings)

    @app.task(name=TASK, bind=True, acks_late=True, reject_on_worker_lost=True,
              max_retries=None)
    def ingest_task(self, job_id: str) -> None:
        if not built:
            built.append(make_services(settings))
        try:
            try:
                log_outcome(job_id, run_job(settings, catalog, job_id, services=built[0]))
            except sa.exc.OperationalError as exc:  # the catalog is down before the job ran
                raise catalog_unavailable(exc) from exc
        except KhosoError as exc:
            # An infrastructure fault (clamd, storage, the catalog) is retried with back-off
            # for as long as it lasts: an accepted submission is never given up for it.
            if exc.transient:
                delay = retry_delay(self.request.retries)
                log.warning("job %s waits for the archive's services: [%s] %s; retried in %d s",
                            job_id, exc.code, exc.message("en"), delay,
                            extra={"job_id": job_id, "outcome": "retry"})
                raise self.retry(countdown=delay) from exc
            log.error("job %s failed (system error): [%s] %s", job_id, exc.code,
                      exc.message("en"), extra={"job_id": job_id, "outcome": "system_error"})
            raise
        except Exception:
            log.error("job %s failed (system error)", job_id,
                      extra={"job_id": job_id, "outcome": "system_error"})
            raise

    def send(job_id: str) -> str:
        return app.send_task(TASK, args=[job_id]).id

    def start_sweeper(**_: object) -> None:
        # its own engine: pool processes forked later must not share its connections
        own = Catalog(settings.database_url)
        Sweeper(max(1.0, timeout / 2), lambda: recover_jobs(
            own, timeout, send, discard_staged, settings.data_dir / "staging"))

    signals.worker_ready.connect(start_sweeper, weak=False)
