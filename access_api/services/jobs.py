"""Queued ingests as operators and agency systems follow them: outcome and report of each job.

Read-only; an agency submitter sees only the jobs it submitted itself.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.catalog import queries
from preservation.catalog.models import Job
from preservation.catalog.vocab import JobStatus
from preservation.errors import NotFound
from preservation.issues import Noun


class JobOutcome(StrEnum):
    """What became of the submission: the state tells the job, this tells the SIP."""

    PENDING = "pending"  # queued or running, or waiting for a retry after an outage
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # the SIP failed a check: the agency's problem, with its report
    SYSTEM_ERROR = "system_error"  # the archive failed (not the agency's fault)
    CANCELLED = "cancelled"


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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["issues"] = [asdict(i) for i in self.issues]
        return data


def _may_see_all(identity: Identity) -> bool:
    return identity.has(UserRole.ADMIN, UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)


def _outcome(job: Job) -> JobOutcome:
    result = job.result or {}
    if job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
        return JobOutcome.PENDING
    if job.status == JobStatus.CANCELLED:
        return JobOutcome.CANCELLED
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
        issues_total=total)


def list_jobs(ctx: ServiceContext, identity: Identity, *, states: tuple[JobStatus, ...] = (),
              limit: int = 100) -> list[JobView]:
    """The newest jobs first, without their reports (``show_job`` has them)."""
    with ctx.catalog.session() as session:
        jobs = queries.recent_jobs(session, statuses=[str(s) for s in states],
                                 limit=limit if _may_see_all(identity) else limit * 10)
        if not _may_see_all(identity):
            jobs = [j for j in jobs if j.created_by == identity.actor][:limit]
        return [_view(j, with_issues=False) for j in jobs]


def show_job(ctx: ServiceContext, identity: Identity, job_id: str) -> JobView:
    """One job with its outcome and report; ``GEN002`` when unknown (or not the caller's)."""
    with ctx.catalog.session() as session:
        job = queries.job_by_id(session, job_id)
        if job is None or not (_may_see_all(identity) or job.created_by == identity.actor):
            raise NotFound("GEN002", what=Noun.JOB, key=job_id)
        return _view(job, with_issues=True)
