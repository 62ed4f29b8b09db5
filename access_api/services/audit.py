"""Fixity audit (copies due, all, or one AIP's), with repair on request.

``storage.audit.run_audit`` reads and records; every batch of checks it commits is copied to
the package's ``_events`` history in every location through the unit of work, so that a
catalog rebuilt from one location alone still knows each copy's last check.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from access_api.services.aips import check_objid
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.uow import AppendEvents, MirrorAuditLog, UnitOfWork
from ingest.jobs import LOST_LIMIT, Lease, claim
from preservation.catalog import queries
from preservation.catalog.models import Job, Package, StoredCopy, utcnow
from preservation.catalog.state import incomplete
from preservation.catalog.vocab import CheckResult, JobStatus, PackageKind
from preservation.errors import Forbidden, KhosoError, NotFound, Unavailable
from preservation.events import Event
from preservation.issues import Issue, Noun
from preservation.jobs import make_celery
from storage.audit import run_audit
from storage.checks import AuditReport, CopyAudit, CopyRepair, check_detail
from storage.repair import RepairRecorded
from storage.schedule import scheduled_audit
from storage.sidecar import event_record

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
AIP_TASK = "khoso.audit_aip"  # one AIP's audit, queued by POST /api/v1/aips/{objid}/audit
JOB_KIND = "audit"
OFFICERS = (UserRole.ADMIN, UserRole.PRESERVATION_OFFICER)


def check_events(recorded: Sequence[tuple[CopyAudit, Event]]) -> list[AppendEvents]:
    """The committed fixity events, each with the copy's state after the check, as one
    ``AppendEvents`` per package version."""
    by_key: dict[str, list[dict[str, Any]]] = {}
    for audit, event in recorded:
        copy = {"location": audit.copy.location, "key": audit.copy.key, "result": audit.result,
                "detail": check_detail(audit.issues()), "checked_at": audit.checked_at}
        by_key.setdefault(audit.copy.key, []).append(
            event_record(event, objid=audit.copy.objid, copy=copy))
    return [AppendEvents(key, records) for key, records in by_key.items()]


def repair_events(repair: CopyRepair, events: Sequence[Event],
                  state: dict[str, Any]) -> AppendEvents:
    """The committed repair events, with the copy's state after them and whether the package
    lost an object, so that a rebuilt catalog keeps them."""
    copy = repair.audit.copy
    return AppendEvents(copy.key, [
        event_record(e, objid=copy.objid, critical=bool(repair.lost),
                     copy={"location": copy.location, "key": copy.key, **state})
        for e in events])


def _mirrored(uow: UnitOfWork) -> Callable[[Sequence[tuple[CopyAudit, Event]]], None]:
    def on_saved(recorded: Sequence[tuple[CopyAudit, Event]]) -> None:
        for op in check_events(recorded):
            uow.register(op)
        uow.commit()  # run_audit committed the checks: their sidecars follow now
    return on_saved


def _repairs_mirrored(uow: UnitOfWork) -> RepairRecorded:
    def on_recorded(repair: CopyRepair, events: list[Event], state: dict[str, Any]) -> None:
        uow.register(repair_events(repair, events, state))
        uow.commit()  # repair_copy committed the repair: its sidecars follow now
    return on_recorded


def audit(ctx: ServiceContext, identity: Identity, *, due_only: bool = True,
          location: str | None = None, objid: str | None = None, repair: bool = False,
          progress: Progress | None = None) -> AuditReport:
    """Re-read the copies due (or all, or every copy of ``objid``), optionally in one location,
    and repair bad ones from good ones when ``repair``."""
    s = ctx.settings
    if location:
        s.location(location)  # CFG002 for an unknown name
    if objid is not None:
        with ctx.catalog.session() as session:
            if session.scalar(sa.select(Package.id).where(Package.objid == objid)
                              .limit(1)) is None:
                raise NotFound("GEN002", what=Noun.PACKAGE, key=objid)
    with UnitOfWork(ctx) as uow:
        report = run_audit(ctx.catalog, ctx.storages, due_only=due_only and objid is None,
                           location=location, objid=objid, repair=repair,
                           period_days=s.audit_period_days, actor=identity.actor,
                           progress=progress, on_saved=_mirrored(uow),
                           on_repaired=_repairs_mirrored(uow), archive_code=s.archive_code)
        uow.register(MirrorAuditLog())
    return report


def scheduled(ctx: ServiceContext, identity: Identity) -> AuditReport:
    """One run of the periodic audit (Celery beat): the planned batch, repaired."""
    s = ctx.settings
    with UnitOfWork(ctx) as uow:
        report = scheduled_audit(ctx.catalog, ctx.storages, period_days=s.audit_period_days,
                                 runs_per_day=s.audit_runs_per_day, repair=True,
                                 actor=identity.actor, on_saved=_mirrored(uow),
                                 on_repaired=_repairs_mirrored(uow),
                                 archive_code=s.archive_code)
        uow.register(MirrorAuditLog())
    return report


def has_problems(report: AuditReport, *, repaired: bool) -> bool:
    """Whether the run leaves something for an officer to act on (the CLI's exit 1)."""
    return bool(report.critical or report.not_checked or report.unrepaired
                or (report.bad and not repaired) or report.foreign_files
                or report.history_unrestored or report.disposal_states_unrestored)


# -- one AIP's audit as a queued job ----------------------------------------------------------

def _officer(identity: Identity) -> None:
    if not identity.has(*OFFICERS):
        raise Forbidden("AUTH004")


def queue_aip_audit(ctx: ServiceContext, identity: Identity, objid: str, *,
                    send: Callable[[str], str] | None = None) -> str:
    """Queue the audit of every copy of every version of ``objid`` for a worker; returns the
    job id. ``GEN002`` for an unknown OBJID; ``OPS007`` (503) when the queue cannot be reached,
    and then no job is left behind."""
    _officer(identity)
    check_objid(objid)
    timeout = float(ctx.settings.job_visibility_timeout)
    with ctx.catalog.session() as session:
        if not queries.package_versions(session, objid, aip_only=True):
            raise NotFound("GEN002", what=Noun.AIP, key=objid)
        job = Job(kind=JOB_KIND, status=JobStatus.QUEUED, created_by=identity.actor,
                  payload={"objid": objid}, lease_until=time.time() + timeout)
        session.add(job)
        session.flush()
        job_id = job.id
    sender = send or (lambda jid: str(make_celery(ctx.settings).send_task(AIP_TASK,
                                                                          args=[jid]).id))
    try:
        task_id = sender(job_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: nothing is queued
        log.warning("could not queue the audit of %s: %s", objid, exc)
        with ctx.catalog.session() as session:
            session.execute(sa.delete(Job).where(Job.id == job_id))
        raise Unavailable("OPS007", retry_after=30) from exc
    with ctx.catalog.session() as session:
        session.get_one(Job, job_id).celery_task_id = task_id
    return job_id


def run_aip_audit_job(ctx: ServiceContext, job_id: str) -> AuditReport | None:
    """Run a queued AIP audit (the worker's task): every copy of the package re-read, nothing
    repaired (an officer decides that, ``khoso audit --aip OBJID --repair``). The job succeeds
    when the audit ran, whatever it found (its report is the job's result); it fails when the
    audit could not run. None when the job was already done or a live worker holds it."""
    timeout = float(ctx.settings.job_visibility_timeout)
    taken = claim(ctx.catalog, job_id, timeout)
    if taken is None:
        return None
    job, _ = taken
    objid = str((job.payload or {}).get("objid", ""))
    lease = Lease(ctx.catalog, job_id, job.attempts, timeout)
    try:
        report = audit(ctx, Identity(job.created_by or "system", frozenset(OFFICERS)),
                       due_only=False, objid=objid)
    except Exception as exc:
        lease.stop()
        error = exc.issue if isinstance(exc, KhosoError) else Issue(
            "OPS006", objid, {"objid": objid, "detail": f"{type(exc).__name__}: {exc}"[:500]})
        with ctx.catalog.session() as session:
            row = session.get_one(Job, job_id)
            row.status, row.finished_at, row.lease_until = JobStatus.FAILED, utcnow(), None
            row.error = error.message("en")
            row.result = {"objid": objid, "error": error.to_dict()}
        raise
    lease.stop()
    with ctx.catalog.session() as session:
        row = session.get_one(Job, job_id)
        row.status, row.finished_at, row.lease_until = JobStatus.SUCCEEDED, utcnow(), None
        row.result = {"objid": objid, "audit": report.to_dict(),
                      "problems": has_problems(report, repaired=False)}
    return report


def recover_aip_audits(ctx: ServiceContext, send: Callable[[str], str]) -> list[str]:
    """Send again every AIP audit job whose lease ran out (its message was lost, or its worker
    died); one whose workers died ``LOST_LIMIT`` times is failed (``OPS006``). Run with each
    scheduled audit: an audit re-reads and records, so running one twice does no harm.
    Returns the ids sent again."""
    now, timeout = time.time(), float(ctx.settings.job_visibility_timeout)
    with ctx.catalog.session() as session:
        stale = session.execute(sa.select(Job.id, Job.status, Job.attempts, Job.lease_until,
                                          Job.payload).where(Job.kind == JOB_KIND,
                                       Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
                                       sa.or_(Job.lease_until.is_(None),
                                              Job.lease_until < now))).all()
    resent: list[str] = []
    for job_id, status, attempts, lease_until, payload in stale:
        same = (Job.lease_until == lease_until if lease_until is not None
                else Job.lease_until.is_(None))
        given_up = attempts >= LOST_LIMIT
        values: dict[str, Any] = {"lease_until": time.time() + timeout,
                                  "status": JobStatus.QUEUED}
        if given_up:
            objid = str((payload or {}).get("objid", ""))
            issue = Issue("OPS006", objid, {"objid": objid,
                                            "detail": f"{attempts} runs lost with their worker"})
            values = {"lease_until": None, "status": JobStatus.FAILED, "finished_at": utcnow(),
                      "error": issue.message("en"), "result": {"error": issue.to_dict()}}
        with ctx.catalog.session() as session:
            won = session.execute(sa.update(Job).where(
                Job.id == job_id, Job.status == status, Job.attempts == attempts, same)
                .values(**values).execution_options(synchronize_session=False))
            if not getattr(won, "rowcount", 0) or given_up:
                continue  # another sweeper or a worker got there first
        task_id = send(job_id)
        with ctx.catalog.session() as session:
            session.get_one(Job, job_id).celery_task_id = task_id
        resent.append(job_id)
    return resent


# -- the summary officers read (GET /api/v1/audit/summary) ----------------------------------

@dataclass(frozen=True)
class LocationSummary:
    location: str
    copies: int
    ok: int
    bad: int  # changed or missing at the last check
    not_checked: int  # never checked, or the last check could not read it
    overdue: int  # not re-read within the audit period
    last_check_at: dt.datetime | None


@dataclass(frozen=True)
class AuditSummary:
    period_days: int
    copies: int
    copies_ok: int
    bad_copies: int
    copies_overdue: int
    last_check_at: dt.datetime | None
    critical_aips: tuple[str, ...]
    locations: tuple[LocationSummary, ...]
    catalog_incomplete: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summary(ctx: ServiceContext, identity: Identity) -> AuditSummary:
    """Per location the audited copies by their last check, the overdue ones and the last
    check; the packages with no good copy left; an incomplete rebuild. From the catalog only
    (``/healthz`` asks the components themselves)."""
    _officer(identity)
    period = ctx.settings.audit_period_days
    now = queries.utc()
    audited = StoredCopy.id.in_(queries.audited_copies())
    late = sa.case((queries.overdue(now, period), 1), else_=0)
    with ctx.catalog.session() as session:
        rows = session.execute(
            sa.select(StoredCopy.location, StoredCopy.last_check_result, sa.func.count(),
                      sa.func.sum(late), sa.func.max(StoredCopy.last_check_at))
            .where(audited).group_by(StoredCopy.location, StoredCopy.last_check_result)).all()
        critical = tuple(session.scalars(
            sa.select(Package.objid).where(Package.kind == PackageKind.AIP, Package.critical)
            .distinct().order_by(Package.objid)))
        rebuild = incomplete(session)
    by_location: dict[str, dict[str, Any]] = {}
    for location, result, count, overdue, last in rows:
        entry = by_location.setdefault(location, {"copies": 0, "ok": 0, "bad": 0,
                                                  "not_checked": 0, "overdue": 0, "last": None})
        entry["copies"] += count
        entry["overdue"] += int(overdue or 0)
        key = {CheckResult.OK: "ok", CheckResult.NOT_CHECKED: "not_checked"}.get(
            CheckResult(result), "bad")
        entry[key] += count
        if last is not None and (entry["last"] is None or last > entry["last"]):
            entry["last"] = last
    for loc in ctx.settings.storage_locations:  # a configured location holding nothing yet
        by_location.setdefault(loc.name, {"copies": 0, "ok": 0, "bad": 0, "not_checked": 0,
                                          "overdue": 0, "last": None})
    locations = tuple(LocationSummary(name, e["copies"], e["ok"], e["bad"], e["not_checked"],
                                      e["overdue"], e["last"])
                      for name, e in sorted(by_location.items()))
    lasts = [x.last_check_at for x in locations if x.last_check_at is not None]
    return AuditSummary(period, sum(x.copies for x in locations), sum(x.ok for x in locations),
                        sum(x.bad for x in locations), sum(x.overdue for x in locations),
                        max(lasts) if lasts else None, critical, locations, rebuild)
