"""The composition root: real adapters and storage locations built from settings.

``ingest`` does not import ``storage`` (imports run access_api → ingest, storage → preservation);
it receives the replicas to write through ``Services.replicate``, wired here.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from celery import Celery

from access_api.services import blocks, digitisation_queue
from access_api.services.base import Identity, ServiceContext, build_storages
from access_api.services.disposal.jobs import register_disposal_scan
from access_api.services.uow import (
    AppendEvents,
    MirrorAgency,
    MirrorAuditLog,
    MirrorFonds,
    WriteRejection,
    run_operations,
)
from ingest.adapters.clamd import ClamdScanner
from ingest.adapters.format_policy import FormatPolicy
from ingest.adapters.identify_process import shared as isolated_identifier
from ingest.adapters.signatures import DetachedCmsVerifier, PdfSignatureVerifier, load_trust_roots
from ingest.context import IngestContext, Services
from ingest.jobs import Sweeper, register_tasks, retry_delay
from preservation.blockhash import BLOCK
from preservation.catalog.db import Catalog
from preservation.catalog.models import (
    Job,
    Package,
    PremisAgent,
    PremisEvent,
    event_agent,
)
from preservation.errors import KhosoError
from preservation.events import REPLICATION, Agent, Event, Outcome
from preservation.settings import Settings
from preservation.signing import load_signer
from storage.jobs import register_audit_task
from storage.locations import open_storage
from storage.occupancy import occupancy, purge
from storage.protocol import Storage
from storage.replication import replicate, start_replication
from storage.sidecar import event_record, iso
from storage.staging import StagedCopies, staging_key
from storage.staging import discard as discard_staged


def _context(settings: Settings, catalog: Catalog, storages: list[Storage]) -> ServiceContext:
    return ServiceContext(settings, catalog, {st.name: st for st in storages})


def _after_register(settings: Settings,
                    storages: list[Storage]) -> Callable[[IngestContext, Catalog], None]:
    def after_register(ctx: IngestContext, catalog: Catalog) -> None:
        """The new AIP's fonds, agency and replication events next to it in every location,
        then the audit log: what a catalog rebuilt from one location needs."""
        aip = ctx.aip
        assert aip is not None  # called after registration only
        with catalog.session() as s:
            created: dt.datetime | None = s.scalar(sa.select(Package.created_at).where(
                Package.objid == aip.objid, Package.version == 1))
        replications = [e for e in ctx.events if e.event_type == REPLICATION]
        # the registration time travels with the events, for a rebuilt catalog to keep it
        records = [{**event_record(e, objid=aip.objid, link_copy=False,
                                   copy={"location": r.location, "key": aip.key_prefix}),
                    "package_created_at": iso(created)}
                   for e, r in zip(replications, ctx.stored, strict=False)]
        agency = [MirrorAgency(aip.organ_id)] if aip.organ_id else []
        run_operations(_context(settings, catalog, storages), [
            MirrorFonds(aip.fond_code), *agency,
            AppendEvents(aip.key_prefix, records), MirrorAuditLog()])
        _migrate_after_ingest(_context(settings, catalog, storages), aip.objid,
                              [f.format.puid for f in ctx.files.values() if f.format])
        blocks.record_all(_context(settings, catalog, storages), [
            blocks.Blocks(f.sha256, f.size, BLOCK, f.block_digests)
            for f in ctx.files.values() if f.block_digests])
    return after_register


def _migrate_after_ingest(ctx: ServiceContext, objid: str, puids: list[str | None]) -> None:
    """KHOSO_MIGRATE_ON_INGEST=queue: the AIP's migration job, as FMT005 told the agency. The
    AIP is stored whatever happens here: a queue that cannot be reached is logged, and an
    officer can still run ``khoso migrate``."""
    from access_api.services import migration

    try:
        migration.after_ingest(ctx, objid, puids)
    except KhosoError as exc:
        logging.getLogger(__name__).error("could not queue the migration of %s: [%s] %s",
                                          objid, exc.code, exc.message("en"))


def _after_reject(settings: Settings, storages: list[Storage]
                  ) -> Callable[[IngestContext, Catalog, int, Path], None]:
    def after_reject(ctx: IngestContext, catalog: Catalog, package_id: int, where: Path) -> None:
        """Keep the rejection, its report and events in every location: the archive must be
        able to show later what it refused and why, even after losing its catalog."""
        with catalog.session() as s:
            pkg = s.get_one(Package, package_id)
            job = s.get(Job, ctx.job_id)
            rows = list(s.scalars(sa.select(PremisEvent).where(
                PremisEvent.package_id == package_id).order_by(PremisEvent.id)))
            agents: dict[int, list[tuple[Agent, str]]] = {}
            for event_id, a, role in s.execute(
                    sa.select(event_agent.c.event_id, PremisAgent, event_agent.c.role)
                    .join(PremisAgent, PremisAgent.id == event_agent.c.agent_id)
                    .where(event_agent.c.event_id.in_([e.id for e in rows]))):
                agents.setdefault(event_id, []).append((Agent(
                    a.identifier_value, a.name, a.agent_type, a.identifier_type, a.note), role))
            events = [event_record(as_event(e, agents.get(e.id, [])), objid=pkg.objid)
                      for e in rows]
            package = {"objid": pkg.objid, "label": pkg.label, "file_count": pkg.file_count,
                       "total_size": pkg.total_size, "created_at": iso(pkg.created_at)}
            job_facts = None if job is None else {
                "id": job.id, "kind": job.kind, "status": job.status, "payload": job.payload,
                "result": job.result, "error": job.error, "attempts": job.attempts,
                "created_by": job.created_by, "created_at": iso(job.created_at),
                "started_at": iso(job.started_at), "finished_at": iso(job.finished_at)}
        try:
            report = json.loads((where / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            report = {"job_id": ctx.job_id, **ctx.report.to_dict()}
        run_operations(_context(settings, catalog, storages), [
            WriteRejection({"package": package,
                            "job": job_facts or {"id": ctx.job_id, "status": "failed"},
                            "report": report, "events": events}),
            MirrorAuditLog()])
    return after_reject


def as_event(row: PremisEvent, agents: list[tuple[Agent, str]]) -> Event:
    """A catalog event row (with its agents and their roles) back as the value ingest and
    audit record."""
    return Event(row.event_type, Outcome(row.outcome), row.detail or "", row.outcome_detail or "",
                 row.object_identifier, tuple(agents), row.event_datetime, row.event_uuid)


def build_services(settings: Settings) -> Services:
    trust_dir = Path(settings.trust_dir)
    roots = load_trust_roots(trust_dir) if trust_dir.is_dir() else []
    storages = [open_storage(loc) for loc in settings.storage_locations]
    return Services(
        after_register=_after_register(settings, storages),
        after_reject=_after_reject(settings, storages),
        scanner=ClamdScanner(settings.clamd, timeout=settings.clamd_timeout),
        identifier=isolated_identifier(settings.format_identifier),
        policy=FormatPolicy.load(migrate_on_ingest=settings.migrate_on_ingest),
        pdf_verifier=PdfSignatureVerifier(roots),
        cms_verifier=DetachedCmsVerifier(roots),
        replicate=lambda objects, progress=None: replicate(objects, storages, progress=progress),
        start_replication=lambda objects, progress=None: start_replication(
            objects, storages, progress=progress),
        stage=lambda job_id, index: StagedCopies(storages, staging_key(job_id, index)),
        discard_staged=lambda job_id: discard_staged(storages, job_id),
        occupancy=lambda prefix: occupancy(storages, prefix),
        purge_own=lambda prefix: purge(storages, prefix),
        signer=load_signer(Path(settings.keys_dir)),
        reject_not_scanned=settings.reject_not_scanned,
        on_register=digitisation_queue.paper_digitised,
    )


def register_worker_tasks(app: Celery, settings: Settings) -> None:
    """What ``khoso worker`` runs: the ingest task (with its recovery sweeper), the periodic
    audit, DIPs, the daily disposal scan and transfer warnings, format migrations."""
    def discard(job_id: str) -> int:
        return discard_staged(list(build_storages(settings).values()), job_id)

    register_tasks(app, settings, build_services, discard)
    register_audit(app, settings)
    register_dip(app, settings)
    register_disposal_scan(app, settings)
    register_transfer_warnings(app, settings)
    register_migration(app, settings)


def register_transfer_warnings(app: Celery, settings: Settings) -> None:
    """The daily transfer-deadline warnings (``transfers.scheduled_warnings``): hồ sơ due at
    the historical archive within KHOSO_TRANSFER_WARN_DAYS, written to the log and the audit
    log."""
    from access_api.services import transfers

    def warn_task() -> int:
        ctx = ServiceContext(settings, Catalog(settings.database_url), build_storages(settings))
        try:
            return len(transfers.scheduled_warnings(ctx))
        finally:
            ctx.catalog.dispose()

    app.task(name=transfers.WARN_TASK)(warn_task)
    app.conf.beat_schedule = {**(app.conf.beat_schedule or {}),
                              "khoso-transfer-warnings": {"task": transfers.WARN_TASK,
                                                          "schedule": 86400}}


def register_migration(app: Celery, settings: Settings) -> None:
    """One AIP's format migration (``access_api.services.migration.run_job``) per job."""
    from access_api.services import migration

    catalog = Catalog(settings.database_url)

    def migration_task(task: Any, job_id: str) -> dict[str, Any] | None:
        ctx = ServiceContext(settings, catalog, build_storages(settings))
        try:
            done = migration.run_job(ctx, job_id)
        except KhosoError as exc:
            if exc.transient:  # a tool or a location missing: the archive's fault, retried
                raise task.retry(countdown=retry_delay(task.request.retries)) from exc
            logging.getLogger(__name__).error("migration job %s failed: [%s] %s", job_id,
                                              exc.code, exc.message("en"))
            return None
        except Exception:  # recorded on its job
            logging.getLogger(__name__).exception("migration job %s failed", job_id)
            return None
        return None if done is None else done.to_dict()

    app.task(name=migration.TASK, bind=True, shared=False, acks_late=True,
             reject_on_worker_lost=True, max_retries=None)(migration_task)

    def start_sweeper(**_: object) -> None:
        # its own engine: pool processes forked later must not share its connections
        own = ServiceContext(settings, Catalog(settings.database_url), {})
        Sweeper(max(1.0, settings.job_visibility_timeout / 2), lambda: migration.recover_jobs(
            own, lambda job_id: str(app.send_task(migration.TASK, args=[job_id]).id)))

    from celery import signals

    signals.worker_ready.connect(start_sweeper, weak=False)


def register_dip(app: Celery, settings: Settings) -> None:
    """The DIP builder (``access_api.services.dips.run_job``): one job per DIP asked for."""
    from access_api.services import dips

    catalog = Catalog(settings.database_url)

    def dip_task(task: Any, job_id: str) -> dict[str, Any] | None:
        ctx = ServiceContext(settings, catalog, build_storages(settings))
        try:
            built = dips.run_job(ctx, job_id)
        except KhosoError as exc:
            if exc.transient:  # a location or the catalog down: the archive's fault, retried
                raise task.retry(countdown=retry_delay(task.request.retries)) from exc
            logging.getLogger(__name__).error("DIP job %s failed: [%s] %s", job_id, exc.code,
                                              exc.message("en"))
            return None
        except Exception:  # recorded on the DIP and its job
            logging.getLogger(__name__).exception("DIP job %s failed", job_id)
            return None
        return None if built is None else {"dip": built.id, "state": built.state}

    app.task(name=dips.TASK, bind=True, shared=False, acks_late=True, reject_on_worker_lost=True,
             max_retries=None)(dip_task)

    def send(ctx: ServiceContext, job_id: str) -> str:
        return str(app.send_task(dips.TASK, args=[job_id]).id)

    def start_sweeper(**_: object) -> None:
        # its own engine: pool processes forked later must not share its connections
        own = ServiceContext(settings, Catalog(settings.database_url), {})
        Sweeper(max(1.0, settings.job_visibility_timeout / 2),
                lambda: dips.recover_jobs(own, send))

    from celery import signals

    signals.worker_ready.connect(start_sweeper, weak=False)


def register_audit(app: Celery, settings: Settings) -> None:
    """The periodic audit task and its schedule (``khoso worker`` and ``khoso beat``)."""
    from access_api.services import audit

    catalog = Catalog(settings.database_url)

    def run() -> dict[str, Any]:
        # locations opened afresh each run: a location's client is not kept across hours
        ctx = ServiceContext(settings, catalog, build_storages(settings))
        audit.recover_aip_audits(ctx, lambda job_id: str(
            app.send_task(audit.AIP_TASK, args=[job_id]).id))  # officers' audits lost
        return audit.scheduled(ctx, Identity.system("scheduler")).to_dict()

    register_audit_task(app, settings, run)

    def run_aip(job_id: str) -> dict[str, Any] | None:
        """One AIP's audit an officer asked for over the API (a ``job`` row of kind audit)."""
        ctx = ServiceContext(settings, catalog, build_storages(settings))
        report = audit.run_aip_audit_job(ctx, job_id)
        return None if report is None else report.to_dict()

    app.task(name=audit.AIP_TASK, acks_late=True, reject_on_worker_lost=True,
             shared=False)(run_aip)  # this app's settings, never another app's
