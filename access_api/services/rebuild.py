"""Catalog rebuild from the storage locations (after losing the catalog)."""

from __future__ import annotations

from collections.abc import Callable

from access_api.services.base import Identity, ServiceContext
from access_api.services.uow import MirrorAuditLog, UnitOfWork
from ingest.digitise.importer import stored_ocr_text
from storage.locations import open_storage
from storage.rebuild import RebuildReport, rebuild_catalog


def rebuild(ctx: ServiceContext, identity: Identity, *, prefer: str | None = None,
            verify: bool = False, progress: Callable[[str, int, int], None] | None = None
            ) -> RebuildReport:
    """Migrate the catalog and fill it from every location, ``prefer`` read first; run again
    on a catalog left incomplete, it adds what is missing; a digitised document's OCR text is
    read back from its stored PDF. The rebuild's own audit-log entry is then mirrored. (``identity`` is the caller; the rebuild records the entries it reads.)"""
    s = ctx.settings
    first = s.location(prefer) if prefer else None  # CFG002 for an unknown name
    locations = ([first] if first else []) + [
        loc for loc in s.storage_locations if first is None or loc.name != first.name]
    storages = [open_storage(loc) for loc in locations]
    ctx.catalog.upgrade()
    with UnitOfWork(ctx) as uow:
        report = rebuild_catalog(ctx.catalog, storages, archive_code=s.archive_code,
                                 verify=verify, progress=progress,
                                 quarantine_dir=s.data_dir / "quarantine",
                                 ocr=stored_ocr_text)
        uow.register(MirrorAuditLog())
    return report


def incomplete(report: RebuildReport) -> bool:
    """Whether the catalog is left short of what storage holds (the CLI's exit 1)."""
    data = report.to_dict()
    errors = [p for p in data.get("problems", []) if p.get("severity") == "error"]
    return bool(data.get("aips_skipped") or errors or not data["complete"])
