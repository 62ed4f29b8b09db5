"""The composition root: real adapters and storage locations built from settings.

``ingest`` does not import ``storage`` (imports run access_api → ingest, storage → preservation);
it receives the replicas to write through ``Services.replicate``, wired here.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa

from ingest.adapters.clamd import ClamdScanner
from ingest.adapters.format_policy import FormatPolicy
from ingest.adapters.identify_process import shared as isolated_identifier
from ingest.adapters.signatures import DetachedCmsVerifier, PdfSignatureVerifier, load_trust_roots
from ingest.context import IngestContext, Services
from preservation.catalog.db import Catalog
from preservation.catalog.models import Agency, ArchiveBody, Fonds
from preservation.errors import KhosoError
from preservation.events import REPLICATION
from preservation.settings import Settings
from preservation.signing import load_signer
from storage.locations import open_storage
from storage.occupancy import occupancy, purge
from storage.protocol import Storage
from storage.replication import replicate, start_replication
from storage.sidecar import (
    append_events_everywhere,
    event_record,
    write_agency_snapshot,
    write_fonds_snapshot,
)
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
        mirror_fonds(settings, catalog, aip.fond_code, storages)
        with catalog.session() as s:
            agency = s.scalar(sa.select(Agency).where(Agency.organ_id == aip.organ_id))
        if agency is not None:
            for storage in storages:
                write_agency_snapshot(storage, settings.archive_code, agency)
        replications = [e for e in ctx.events if e.event_type == REPLICATION]
        records = [event_record(e, objid=aip.objid, link_copy=False,
                                copy={"location": r.location, "key": aip.key_prefix})
                   for e, r in zip(replications, ctx.stored, strict=False)]
        failed = append_events_everywhere(storages, aip.key_prefix, records)
        if failed:
            log.warning("event sidecar not written to %s", ", ".join(sorted(failed)))
    return after_register


def build_storages(settings: Settings) -> dict[str, Storage]:
    return {loc.name: open_storage(loc) for loc in settings.storage_locations}


def build_services(settings: Settings) -> Services:
    trust_dir = Path(settings.trust_dir)
    roots = load_trust_roots(trust_dir) if trust_dir.is_dir() else []
    storages = [open_storage(loc) for loc in settings.storage_locations]
    return Services(
        after_register=_after_register(settings, storages),
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
