"""Versions being made: seen, and taken back when the process that reserved one is dead.

A metadata correction runs in the API or CLI process: it reserves v(N+1) (a ``received``
package row naming its holder, ``preservation.packaging.aip.reservation``), writes the
objects under v(N+1) in every location, then registers. A process killed in between leaves
the row and some objects; the catalog never calls them current (v N stays active, untouched),
but every later change of the AIP would find v(N+1) taken (VER008) forever.

So a change first takes back a *dead* reservation of its AIP (its holder gone from this
host, or held elsewhere for longer than the lease): the row is claimed (a conditional update
naming the taker, so two takers, or a taker and the holder's successor, never both delete),
its objects under that version's prefix are deleted in every location (half-written files
and S3 multipart uploads too), the row is deleted, and the take-back is in the audit log.
A *live* one stays, and the change is refused with VER008, which is then true. A registered
version (active, superseded) is a whole version and is never touched; a reservation a running
migration job has noted is that job's to take back (``migration_recovery``).

Officers see them with ``khoso aip reservations`` and take one back by hand with
``khoso aip take-back`` (refused while live: VER021): as in Fedora's and DSpace's curation
tools, a stuck lock is shown with who holds it and since when, and released explicitly,
never by force while its holder runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext
from access_api.services.uow import MirrorAuditLog, UnitOfWork
from preservation.catalog import audit, queries
from preservation.catalog.models import Job, Package, utcnow
from preservation.catalog.vocab import JobStatus, PackageKind, PackageStatus
from preservation.errors import Conflict, NotFound
from preservation.packaging.aip import layout
from preservation.packaging.aip.reservation import Verdict, judge, this_process
from storage.occupancy import purge
from storage.staging import discard_partial_under

log = logging.getLogger(__name__)

ACTION = "package.reservation_taken_back"


@dataclass(frozen=True)
class Reservation:
    """A ``received`` AIP version row: a version being made, or one a dead process left."""

    package_id: int
    objid: str
    version: int
    reserved_by: str | None  # host:pid:start, None for a row reserved before 0023
    reserved_at: dt.datetime  # the row's creation time when not recorded
    prefix: str | None  # where its objects go; None when the previous version has no copy
    verdict: Verdict

    def to_dict(self) -> dict[str, Any]:
        return {"package_id": self.package_id, "objid": self.objid, "version": self.version,
                "reserved_by": self.reserved_by,
                "reserved_at": self.reserved_at.isoformat(timespec="seconds"),
                "prefix": self.prefix, "verdict": self.verdict.value}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _noted_by_running_job(s: Session, package_id: int) -> bool:
    jobs = s.scalars(sa.select(Job.payload).where(Job.status == JobStatus.RUNNING)).all()
    return any(isinstance(p, dict) and isinstance(p.get("reserved"), dict)
               and p["reserved"].get("package_id") == package_id for p in jobs)


def _view(s: Session, pkg: Package, now: dt.datetime) -> Reservation:
    since = _aware(pkg.reserved_at or pkg.created_at)
    verdict = judge(pkg.reserved_by, since, now)
    if verdict.dead and _noted_by_running_job(s, pkg.id):
        verdict = Verdict.LIVE
    key = queries.copy_key(s, pkg.previous_id) if pkg.previous_id is not None else None
    prefix = (layout.version_prefix(layout.split_package_prefix(key)[0], pkg.version)
              if key else None)
    return Reservation(pkg.id, pkg.objid, pkg.version, pkg.reserved_by, since, prefix, verdict)


def _reserved(objid: str | None = None) -> sa.Select[Package]:
    q = sa.select(Package).where(Package.kind == PackageKind.AIP,
                                 Package.status == PackageStatus.RECEIVED,
                                 Package.previous_id.is_not(None))
    return q.where(Package.objid == objid) if objid is not None else q


def reservations(ctx: ServiceContext, objid: str | None = None) -> list[Reservation]:
    """Every version being made (of ``objid``, or of any AIP), oldest first."""
    now = utcnow()
    with ctx.catalog.session() as s:
        return [_view(s, p, now) for p in s.scalars(_reserved(objid).order_by(Package.id))]


def _take_back(ctx: ServiceContext, actor: str, found: Reservation) -> int | None:
    """Claim, purge, delete, audit; None when the row is no longer that reservation."""
    taker = this_process().token
    with ctx.catalog.session() as s:
        same = Package.reserved_by.is_(None) if found.reserved_by is None else \
            Package.reserved_by == found.reserved_by
        claimed = s.execute(sa.update(Package).where(
            Package.id == found.package_id, Package.status == PackageStatus.RECEIVED, same)
            .values(reserved_by=taker, reserved_at=utcnow())).rowcount  # type: ignore[attr-defined]
    if claimed != 1:
        return None  # taken back, registered or replaced by another run meanwhile
    removed = 0
    try:
        if found.prefix is not None:
            storages = list(ctx.storages.values())
            removed = purge(storages, found.prefix)
            for storage in storages:  # half-written files a listing does not show
                removed += discard_partial_under(storage, found.prefix)
    except BaseException:
        # a location failing (transient): the row goes back to its dead holder, or this
        # process, alive, would hold it (a web server for as long as it runs)
        with ctx.catalog.session() as s:
            s.execute(sa.update(Package).where(
                Package.id == found.package_id, Package.reserved_by == taker)
                .values(reserved_by=found.reserved_by, reserved_at=found.reserved_at))
        raise
    with UnitOfWork(ctx) as uow:
        gone = uow.session.execute(sa.delete(Package).where(
            Package.id == found.package_id, Package.status == PackageStatus.RECEIVED,
            Package.reserved_by == taker)).rowcount  # type: ignore[attr-defined]
        if gone == 1:
            audit.record(uow.session, actor, ACTION, "package", found.objid,
                         version=found.version, reserved_by=found.reserved_by,
                         reserved_at=found.reserved_at.isoformat(timespec="seconds"),
                         verdict=found.verdict.value, key=found.prefix, objects_removed=removed)
            uow.register(MirrorAuditLog())
    log.warning("took back v%d of %s reserved by %s since %s (%s): %d objects removed",
                found.version, found.objid, found.reserved_by, found.reserved_at,
                found.verdict.value, removed)
    return removed


def take_back_dead(ctx: ServiceContext, actor: str, objid: str) -> list[Reservation]:
    """Before a change of ``objid``: every dead reservation of it taken back; those taken."""
    taken = []
    for found in reservations(ctx, objid):
        if found.verdict.dead and _take_back(ctx, actor, found) is not None:
            taken.append(found)
    return taken


def take_back(ctx: ServiceContext, identity: Identity, objid: str, version: int) -> int:
    """An officer's explicit take-back of one reservation; the objects removed. Refused
    while live (VER021): its holder may still be writing."""
    found = next((r for r in reservations(ctx, objid) if r.version == version), None)
    if found is None:
        raise NotFound("VER022", objid=objid, version=version)
    if not found.verdict.dead:
        raise Conflict("VER021", objid=objid, version=version, holder=found.reserved_by or "-",
                       since=found.reserved_at.isoformat(timespec="seconds"))
    removed = _take_back(ctx, identity.actor, found)
    if removed is None:
        raise NotFound("VER022", objid=objid, version=version)
    return removed
