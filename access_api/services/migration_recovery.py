"""What a migration worker killed mid-version leaves, taken back by the job's next run.

``new_migrated_version`` reserves v(N+1) (a ``received`` package row: unique objid+version)
before writing any object, then replicates, then registers in one transaction. A worker
killed in between leaves that row and some objects under v(N+1): the catalog never calls the
version current (the row is not active; v N stays active, its originals untouched), but every
later run found v(N+1) taken (VER008) and failed, and the half-written objects stayed.

So the job notes its reservation (package id, key prefix) in its payload before any object is
written. Its next run (after ``claim`` took it from the dead worker: the lease, which a live
worker renews, had run out) and the sweep that gives a job up (``recover_jobs``) call
``take_back``: a row still ``received`` is the dead run's alone, so its objects under that
prefix are deleted in every location and then the row; a row that was registered (killed after
the commit) is a whole version and stays. A row gone or replaced by another run's is not ours:
nothing is touched.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from access_api.services.base import ServiceContext
from preservation.catalog.models import Job, Package
from storage.occupancy import purge
from storage.staging import discard_partial_under

log = logging.getLogger(__name__)

RESERVED = "reserved"  # the payload key
RECEIVED = "received"  # a reserved, never registered package row


def note(ctx: ServiceContext, job_id: str, package_id: int, prefix: str) -> None:
    """Committed before the version's first object is written, with the row's holder: SQLite
    may give a later reservation the same id once this row is gone."""
    with ctx.catalog.session() as s:
        job = s.get_one(Job, job_id)
        holder = s.scalar(sa.select(Package.reserved_by).where(Package.id == package_id))
        job.payload = {**(job.payload or {}),
                       RESERVED: {"package_id": package_id, "prefix": prefix, "holder": holder}}


def forget(ctx: ServiceContext, job_id: str) -> None:
    with ctx.catalog.session() as s:
        job = s.get_one(Job, job_id)
        if RESERVED in (job.payload or {}):
            job.payload = {k: v for k, v in job.payload.items() if k != RESERVED}


def take_back(ctx: ServiceContext, job_id: str, reserved: Any) -> int:
    """Roll back a dead run's reservation (see the module's note); the objects removed.
    A location failing raises (transient): the row stays, and the next run tries again."""
    if not isinstance(reserved, dict):
        return 0
    package_id, prefix = reserved.get("package_id"), str(reserved.get("prefix") or "")
    with ctx.catalog.session() as s:
        pkg = s.get(Package, package_id) if isinstance(package_id, int) else None
        ours = pkg is not None and pkg.status == RECEIVED and \
            prefix.rstrip("/").endswith(f"/v{pkg.version}") and \
            reserved.get("holder", pkg.reserved_by) == pkg.reserved_by
    removed = 0
    if ours:
        removed = purge(list(ctx.storages.values()), prefix)
        for storage in ctx.storages.values():  # half-written files a listing does not show
            removed += discard_partial_under(storage, prefix)
        with ctx.catalog.session() as s:
            s.execute(sa.delete(Package).where(Package.id == package_id,
                                               Package.status == RECEIVED))
        log.warning("migration job %s: took back the version a killed run reserved (%s, "
                    "%d objects)", job_id, prefix, removed)
    forget(ctx, job_id)
    return removed
