"""Fixity audit (copies due, all, or one AIP's), with repair on request.

``storage.audit.run_audit`` reads and records; every batch of checks it commits is copied to
the package's ``_events`` history in every location through the unit of work, so that a
catalog rebuilt from one location alone still knows each copy's last check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext
from access_api.services.uow import AppendEvents, MirrorAuditLog, UnitOfWork
from preservation.catalog.models import Package
from preservation.errors import NotFound
from preservation.events import Event
from preservation.issues import Noun
from storage.audit import run_audit
from storage.checks import AuditReport, CopyAudit, check_detail
from storage.schedule import scheduled_audit
from storage.sidecar import event_record

Progress = Callable[[str, int, int], None]


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


def _mirrored(uow: UnitOfWork) -> Callable[[Sequence[tuple[CopyAudit, Event]]], None]:
    def on_saved(recorded: Sequence[tuple[CopyAudit, Event]]) -> None:
        for op in check_events(recorded):
            uow.register(op)
        uow.commit()  # run_audit committed the checks: their sidecars follow now
    return on_saved


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
                           progress=progress, on_saved=_mirrored(uow))
        uow.register(MirrorAuditLog())
    return report


def scheduled(ctx: ServiceContext, identity: Identity) -> AuditReport:
    """One run of the periodic audit (Celery beat): the planned batch, repaired."""
    s = ctx.settings
    with UnitOfWork(ctx) as uow:
        report = scheduled_audit(ctx.catalog, ctx.storages, period_days=s.audit_period_days,
                                 runs_per_day=s.audit_runs_per_day, repair=True,
                                 actor=identity.actor, on_saved=_mirrored(uow))
        uow.register(MirrorAuditLog())
    return report


def has_problems(report: AuditReport, *, repaired: bool) -> bool:
    """Whether the run leaves something for an officer to act on (the CLI's exit 1)."""
    return bool(report.critical or report.not_checked or report.unrepaired
                or (report.bad and not repaired) or report.foreign_files
                or report.history_unrestored)
