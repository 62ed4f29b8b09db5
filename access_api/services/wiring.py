"""The composition root: real adapters and storage locations built from settings.

``ingest`` does not import ``storage`` (imports run access_api → ingest, storage → preservation);
it receives the replicas to write through ``Services.replicate``, wired here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import sqlalchemy as sa

from ingest.adapters.clamd import ClamdScanner
from ingest.adapters.format_policy import FormatPolicy
from ingest.adapters.identify_process import shared as isolated_identifier
from ingest.adapters.signatures import DetachedCmsVerifier, PdfSignatureVerifier, load_trust_roots
from ingest.context import IngestContext, Services
from preservation.catalog.db import Catalog
from preservation.catalog.models import (
    Agency,
    ArchiveBody,
    Fonds,
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
from storage.locations import open_storage
from storage.occupancy import occupancy, purge
from storage.protocol import Storage
from storage.replication import replicate, start_replication
from storage.sidecar import (
    append_events_everywhere,
    event_record,
    iso,
    write_agency_snapshot,
    write_fonds_snapshot,
)
from storage.sidecar_log import mirror_audit_log, write_rejection
from storage.staging import StagedCopies, staging_key
from storage.staging import discard as discard_staged

log = logging.getLogger(__name__)


def mirror_fonds(settings: Settings, catalog: Catalog, fond_code: str,
                 storages: list[Storage] | None = None) -> None:
    """Write the fonds (and its agency) snapshot next to the AIPs in every location, so that
    one location alone can rebuild the catalog (``khoso catalog rebuild``)."""
    storages = storages if storages is not None else list(build_storages(settings).values())
    with catalog.session() as s:
        fonds = s.scalar(sa.select(Fonds).join(ArchiveBody).where(
            ArchiveBody.code == settings.archive_code, Fonds.fond_code == fond_code))
        if fonds is None:
            return
        body, agency = fonds.archive_body, fonds.agency
    for storage in storages:
        try:
            write_fonds_snapshot(storage, settings.archive_code, fonds, agency, body)
            if agency is not None:
                write_agency_snapshot(storage, settings.archive_code, agency)
        except KhosoError as exc:  # best effort: the catalog holds it; the next change retries
            log.warning("fonds snapshot not written to %s: %s", storage.name, exc)


def _after_register(settings: Settings, storages: list[Storage]):
    def after_register(ctx: IngestContext, catalog: Catalog) -> None:
        aip = ctx.aip
        assert aip is not None  # registered
        mirror_fonds(settings, catalog, aip.fond_code, storages)
        with catalog.session() as s:
            agency = s.scalar(sa.select(Agency).where(Agency.organ_id == aip.organ_id))
        if agency is not None:
            for storage in storages:
                write_agency_snapshot(storage, settings.archive_code, agency)
        with catalog.session() as s:
            created = s.scalar(sa.select(Package.created_at).where(
                Package.objid == aip.objid, Package.version == 1))
        replications = [e for e in ctx.events if e.event_type == REPLICATION]
        # the registration time travels with the events, for a rebuilt catalog to keep it
        records = [{**event_record(e, objid=aip.objid, link_copy=False,
                                   copy={"location": r.location, "key": aip.key_prefix}),
                    "package_created_at": iso(created)}
                   for e, r in zip(replications, ctx.stored, strict=False)]
        failed = append_events_everywhere(storages, aip.key_prefix, records)
        if failed:
            log.warning("event sidecar not written to %s", ", ".join(sorted(failed)))
        mirror_log(settings, catalog, storages)
    return after_register


def mirror_log(settings: Settings, catalog: Catalog, storages: list[Storage]) -> None:
    """Copy the audit-log entries not yet in each location next to the AIPs (best effort:
    the catalog holds them and the next call writes whatever is still missing)."""
    try:
        failed = mirror_audit_log(catalog, storages, settings.archive_code)
    except Exception:  # noqa: BLE001 - the operation it follows is done and committed
        log.exception("audit log not mirrored")
        return
    if failed:
        log.warning("audit log not mirrored to %s", ", ".join(sorted(failed)))


def _after_reject(settings: Settings, storages: list[Storage]):
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
        failed = write_rejection(storages, settings.archive_code, {
            "package": package, "job": job_facts or {"id": ctx.job_id, "status": "failed"},
            "report": report, "events": events})
        if failed:
            log.warning("rejection record not written to %s", ", ".join(sorted(failed)))
        mirror_log(settings, catalog, storages)
    return after_reject


def as_event(row: PremisEvent, agents: list[tuple[Agent, str]]) -> Event:
    """A catalog event row (with its agents and their roles) back as the value ingest and
    audit record."""
    return Event(row.event_type, Outcome(row.outcome), row.detail or "", row.outcome_detail or "",
                 row.object_identifier, tuple(agents), row.event_datetime, row.event_uuid)


def build_storages(settings: Settings) -> dict[str, Storage]:
    return {loc.name: open_storage(loc) for loc in settings.storage_locations}


def build_services(settings: Settings) -> Services:
    trust_dir = Path(settings.trust_dir)
    roots = load_trust_roots(trust_dir) if trust_dir.is_dir() else []
    storages = [open_storage(loc) for loc in settings.storage_locations]
    return Services(
        after_register=_after_register(settings, storages),
        after_reject=_after_reject(settings, storages),
        scanner=ClamdScanner(settings.clamd, timeout=settings.clamd_timeout),
        identifier=isolated_identifier(settings.format_identifier),
        policy=FormatPolicy.load(),
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
    )
