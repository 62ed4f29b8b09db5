"""Queued ingests as operators and agency systems follow them: outcome and report of each job,
the step it is in, and the receipt (biên bản giao nhận) of an accepted one.

Read-only; an agency submitter sees only its agency's jobs and the ones it submitted itself
(anyone else's are unknown to it: ``GEN002``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.catalog import queries
from preservation.catalog.models import (
    Agency,
    ArchiveBody,
    Bitstream,
    Job,
    Package,
    RecordFile,
)
from preservation.catalog.vocab import JobStatus
from preservation.errors import Conflict, NotFound
from preservation.issues import Noun


class JobState(StrEnum):
    """A job as an agency system sees it (``GET /api/v1/jobs``): ``rejected`` is the SIP's
    fault (with its report), ``failed`` the archive's (or cancelled)."""

    QUEUED = "queued"
    RUNNING = "running"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FAILED = "failed"
    DONE = "done"  # a job that is not a submission (an audit, a DIP) finished its work


class JobOutcome(StrEnum):
    """What became of the submission: the state tells the job, this tells the SIP."""

    PENDING = "pending"  # queued or running, or waiting for a retry after an outage
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the SIP failed a check: the agency's problem, with its report
    SYSTEM_ERROR = "system_error"  # the archive failed (not the agency's fault)
    CANCELLED = "cancelled"
    DONE = "done"  # not a submission (an audit, a DIP): it did its work


@dataclass(frozen=True)
class JobIssue:
    code: str
    severity: str
    path: str
    message: str
    message_en: str


@dataclass(frozen=True)
class JobView:
    id: str
    kind: str
    state: JobStatus
    outcome: JobOutcome
    source: str
    created_by: str | None
    created_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    attempts: int
    objid: str | None
    failed_step: str | None
    error: str | None
    quarantine: str | None
    issues: tuple[JobIssue, ...] = ()
    issues_total: int = 0
    step: str | None = None
    progress: float = 0.0
    agency: str | None = None

    @property
    def api_state(self) -> JobState:
        return {JobOutcome.ACCEPTED: JobState.ACCEPTED, JobOutcome.REJECTED: JobState.REJECTED,
                JobOutcome.DONE: JobState.DONE,
                JobOutcome.SYSTEM_ERROR: JobState.FAILED, JobOutcome.CANCELLED: JobState.FAILED,
                }.get(self.outcome, JobState.RUNNING if self.state == JobStatus.RUNNING
                      else JobState.QUEUED)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issues"] = [asdict(i) for i in self.issues]
        return data


def _may_see_all(identity: Identity) -> bool:
    return identity.has(UserRole.ADMIN, UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)


def _visible(identity: Identity) -> sa.ColumnElement[bool]:
    """The jobs ``identity`` may see: all for staff; an agency's own and its own submissions."""
    if _may_see_all(identity):
        return sa.true()
    mine = Job.created_by == identity.actor
    if identity.agency is not None and identity.has(UserRole.AGENCY_SUBMITTER):
        return sa.or_(mine, Job.agency == identity.agency)
    return mine


def _state_filter(state: JobState) -> sa.ColumnElement[bool]:
    submission = Job.kind == "ingest"
    rejected = sa.and_(submission, Job.result["failed_step"].as_string().is_not(None))
    return {
        JobState.QUEUED: Job.status == JobStatus.QUEUED,
        JobState.RUNNING: Job.status == JobStatus.RUNNING,
        JobState.ACCEPTED: sa.and_(Job.status == JobStatus.SUCCEEDED, submission),
        JobState.DONE: sa.and_(Job.status == JobStatus.SUCCEEDED, sa.not_(submission)),
        JobState.REJECTED: sa.and_(Job.status == JobStatus.FAILED, rejected),
        JobState.FAILED: sa.or_(Job.status == JobStatus.CANCELLED, sa.and_(
            Job.status == JobStatus.FAILED, sa.not_(sa.func.coalesce(rejected, False)))),
    }[state]


def _outcome(job: Job) -> JobOutcome:
    result = job.result or {}
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return JobOutcome.PENDING
    if job.status == JobStatus.CANCELLED:
        return JobOutcome.CANCELLED
    if job.kind != "ingest":  # an audit or a DIP has no SIP to accept or reject
        return JobOutcome.DONE if job.status == JobStatus.SUCCEEDED else JobOutcome.SYSTEM_ERROR
    if result.get("accepted"):
        return JobOutcome.ACCEPTED
    return JobOutcome.REJECTED if "failed_step" in result else JobOutcome.SYSTEM_ERROR


def _issues(job: Job) -> tuple[list[dict[str, Any]], int]:
    """The report kept on the job row; a job registered before it was kept there has it in the
    quarantine folder's report.json (rejections only)."""
    result = job.result or {}
    if "issues" in result:
        return result["issues"], int(result.get("issues_total", len(result["issues"])))
    where = result.get("quarantine")
    if where:
        try:
            issues = json.loads((Path(where) / "report.json").read_text(encoding="utf-8"))["issues"]
            return issues, len(issues)
        except (OSError, ValueError, KeyError, TypeError):
            pass
    error = result.get("error")
    if isinstance(error, dict) and error.get("code"):  # a system fault: its one issue
        return [error], 1
    return [], 0


def _view(job: Job, *, with_issues: bool) -> JobView:
    result = job.result or {}
    issues, total = _issues(job) if with_issues else ([], 0)
    return JobView(
        id=job.id, kind=job.kind, state=JobStatus(job.status), outcome=_outcome(job),
        source=(job.payload or {}).get("source", ""), created_by=job.created_by,
        created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
        attempts=job.attempts, objid=result.get("objid"), failed_step=result.get("failed_step"),
        error=job.error, quarantine=result.get("quarantine"),
        issues=tuple(JobIssue(str(i.get("code", "")), str(i.get("severity", "error")),
                              str(i.get("path", "")), str(i.get("message", i.get("detail", ""))),
                              str(i.get("message_en", i.get("detail", ""))))
                     for i in issues),
        issues_total=total,
        step=result.get("failed_step") or job.step,
        progress=1.0 if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED,
                                       JobStatus.CANCELLED) else float(job.progress or 0.0),
        agency=job.agency)


def list_jobs(ctx: ServiceContext, identity: Identity, *, states: tuple[JobStatus, ...] = (),
              limit: int = 100) -> list[JobView]:
    """The newest jobs first, without their reports (``show_job`` has them)."""
    query = sa.select(Job).where(_visible(identity)).order_by(
        Job.created_at.desc(), Job.id).limit(limit)
    if states:
        query = query.where(Job.status.in_([str(s) for s in states]))
    with ctx.catalog.session() as session:
        return [_view(j, with_issues=False) for j in session.scalars(query)]


def page_jobs(ctx: ServiceContext, identity: Identity, *, state: JobState | None = None,
              page: int = 1, size: int = 50) -> tuple[list[JobView], int]:
    """One page of the jobs the caller may see, the newest first, with their total."""
    where = [_visible(identity)]
    if state is not None:
        where.append(_state_filter(state))
    with ctx.catalog.session() as session:
        total = session.scalar(sa.select(sa.func.count(Job.id)).where(*where)) or 0
        jobs = session.scalars(sa.select(Job).where(*where).order_by(
            Job.created_at.desc(), Job.id).offset((page - 1) * size).limit(size))
        return [_view(j, with_issues=False) for j in jobs], total


JOB_ID = re.compile(r"[0-9a-fA-F-]{1,36}")  # a UUID; anything else (NUL…) is never one


def _job(session: Session, identity: Identity, job_id: str) -> Job:
    job = queries.job_by_id(session, job_id) if JOB_ID.fullmatch(job_id) else None
    if job is None or not session.scalar(sa.select(sa.true()).where(
            Job.id == job.id, _visible(identity))):
        raise NotFound("GEN002", what=Noun.JOB, key=job_id[:60])
    return job


def show_job(ctx: ServiceContext, identity: Identity, job_id: str) -> JobView:
    """One job with its outcome and report; ``GEN002`` when unknown (or not the caller's)."""
    with ctx.catalog.session() as session:
        return _view(_job(session, identity, job_id), with_issues=True)


@dataclass(frozen=True)
class ReceiptFile:
    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Receipt:
    """Biên bản giao nhận tài liệu lưu trữ điện tử: what the archive took in for the job."""

    job_id: str
    objid: str
    arc_file_code: str | None
    title: str | None
    agency_id: str | None
    agency_name: str | None
    archive_code: str
    archive_name: str
    accepted_at: dt.datetime | None
    submitted_by: str | None
    files: tuple[ReceiptFile, ...]

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)


def receipt(ctx: ServiceContext, identity: Identity, job_id: str) -> Receipt:
    """The receipt of an accepted job; ``SUB013`` (a conflict) before the bag is accepted."""
    with ctx.catalog.session() as session:
        job = _job(session, identity, job_id)
        view = _view(job, with_issues=False)
        package = session.get(Package, (job.result or {}).get("package_id") or -1)
        if view.outcome is not JobOutcome.ACCEPTED or package is None:
            raise Conflict("SUB013", job=job.id, state=view.api_state.value)
        record = session.get(RecordFile, package.record_file_id or -1)
        agency = session.get(Agency, package.agency_id or -1)
        body = session.scalar(sa.select(ArchiveBody).where(
            ArchiveBody.code == ctx.settings.archive_code))
        files = session.execute(sa.select(Bitstream.path, Bitstream.size, Bitstream.sha256)
                                .where(Bitstream.package_id == package.id)
                                .order_by(Bitstream.path)).all()
        return Receipt(
            job_id=job.id, objid=package.objid,
            arc_file_code=record.arc_file_code if record else None,
            title=record.title if record else package.label,
            agency_id=agency.organ_id if agency else job.agency,
            agency_name=agency.name if agency else None,
            archive_code=ctx.settings.archive_code,
            archive_name=body.name if body else ctx.settings.archive_name,
            accepted_at=job.finished_at, submitted_by=job.created_by,
            files=tuple(ReceiptFile(p, int(size), sha) for p, size, sha in files))
