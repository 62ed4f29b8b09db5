"""Archived packages as a preservation officer looks at them: versions, copies with their last
fixity check, and the PREMIS timeline. Read-only.

Every version of a package shares its OBJID; a superseded version stays listed under it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.catalog import queries
from preservation.catalog.models import Package
from preservation.errors import Forbidden, NotFound
from preservation.issues import Noun

READERS = (UserRole.ADMIN, UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)


@dataclass(frozen=True)
class CopyView:
    location: str
    key: str
    status: str  # the last check: ok, mismatch, missing, not_checked
    checked_at: dt.datetime | None
    detail: str | None


@dataclass(frozen=True)
class VersionView:
    version: int
    status: str
    created_at: dt.datetime | None
    file_count: int
    total_size: int
    copies: tuple[CopyView, ...]
    critical: bool = False


@dataclass(frozen=True)
class EventView:
    type: str
    time: dt.datetime
    outcome: str
    agents: tuple[str, ...]
    version: int
    location: str | None
    object: str | None
    detail: str


@dataclass(frozen=True)
class AipSummary:
    objid: str
    label: str | None
    content_type: str
    version: int
    versions: int
    status: str
    critical: bool
    file_count: int
    total_size: int
    copies: int
    copies_ok: int
    created_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AipDetail:
    objid: str
    label: str | None
    content_type: str
    critical: bool
    versions: tuple[VersionView, ...]
    timeline: tuple[EventView, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _check(identity: Identity) -> None:
    if not identity.has(*READERS):
        raise Forbidden("AUTH004")


OBJID_MAX = 200  # Package.objid's column


def check_objid(objid: str) -> None:
    """An OBJID no package can have is unknown (``GEN002``) before the catalog is asked:
    PostgreSQL refuses a NUL in a text parameter, and the column holds 200 characters."""
    if len(objid) > OBJID_MAX or any(ord(c) < 32 for c in objid):
        raise NotFound("GEN002", what=Noun.AIP, key=objid[:OBJID_MAX].encode(
            "unicode_escape").decode("ascii"))


def _copies(pkg: Package) -> tuple[CopyView, ...]:
    return tuple(CopyView(c.location, c.key, c.last_check_result, c.last_check_at,
                          c.last_check_detail)
                 for c in sorted(pkg.copies, key=lambda c: (c.location, c.id)))


def list_aips(ctx: ServiceContext, identity: Identity, *, limit: int = 1000) -> list[AipSummary]:
    """Each archived package once (its newest version), the newest first."""
    _check(identity)
    with ctx.catalog.session() as session:
        return [AipSummary(
            pkg.objid, pkg.label, pkg.content_type, pkg.version, versions, pkg.status,
            pkg.critical, pkg.file_count, pkg.total_size, len(pkg.copies),
            sum(1 for c in pkg.copies if c.last_check_result == "ok"), pkg.created_at)
            for pkg, versions in queries.latest_aips(session, limit=limit)]


def show_aip(ctx: ServiceContext, identity: Identity, objid: str) -> AipDetail:
    """One package with every version, its copies and the events of all versions in time
    order; ``GEN002`` for an unknown OBJID."""
    _check(identity)
    check_objid(objid)
    with ctx.catalog.session() as session:
        versions = queries.package_versions(session, objid, aip_only=True)
        if not versions:
            raise NotFound("GEN002", what=Noun.AIP, key=objid)
        ids = [p.id for p in versions]
        number = {p.id: p.version for p in versions}
        where = queries.copy_locations(session, ids)
        timeline = tuple(EventView(
            e.event_type, e.event_datetime, e.outcome, tuple(a.name for a in e.agents),
            number.get(e.package_id or 0, 0),
            where.get(e.stored_copy_id) if e.stored_copy_id else None,
            e.object_identifier if e.object_identifier != objid else None,
            (e.detail or "").split("\n", 1)[0])
            for e in queries.package_timeline(session, ids))
        newest = versions[-1]
        return AipDetail(objid, newest.label, newest.content_type,
                         any(p.critical for p in versions),
                         tuple(VersionView(p.version, p.status, p.created_at, p.file_count,
                                           p.total_size, _copies(p), p.critical)
                               for p in versions),
                         timeline)


@dataclass(frozen=True)
class AipListItem:
    """A package as the API lists it: its newest version, the older ones under it."""

    summary: AipSummary
    superseded: tuple[VersionView, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary.to_dict(), "superseded": [asdict(v) for v in self.superseded]}


def page_aips(ctx: ServiceContext, identity: Identity, *, critical: bool | None = None,
              page: int = 1, size: int = 50) -> tuple[list[AipListItem], int]:
    """One page of packages, each once (the newest first), and how many there are in all.
    ``critical`` keeps the packages of which some version has (or has not) lost every good
    copy."""
    _check(identity)
    with ctx.catalog.session() as session:
        rows, total = queries.page_latest_aips(session, critical=critical,
                                               offset=(page - 1) * size, limit=size)
        older = queries.older_versions(session, [pkg.objid for pkg, _ in rows])
        return [AipListItem(
            AipSummary(pkg.objid, pkg.label, pkg.content_type, pkg.version, versions,
                       pkg.status, pkg.critical or any(p.critical for p in older.get(pkg.objid, [])),
                       pkg.file_count, pkg.total_size, len(pkg.copies),
                       sum(1 for c in pkg.copies if c.last_check_result == "ok"), pkg.created_at),
            tuple(VersionView(p.version, p.status, p.created_at, p.file_count, p.total_size,
                              _copies(p), p.critical) for p in older.get(pkg.objid, [])))
            for pkg, versions in rows], total


def aip_events(ctx: ServiceContext, identity: Identity, objid: str, *, page: int = 1,
               size: int = 50) -> tuple[list[EventView], int]:
    """One page of the package's PREMIS timeline (every version, in time order) and the
    number of its events; ``GEN002`` for an unknown OBJID."""
    _check(identity)
    check_objid(objid)
    with ctx.catalog.session() as session:
        versions = queries.package_versions(session, objid, aip_only=True)
        if not versions:
            raise NotFound("GEN002", what=Noun.AIP, key=objid)
        ids = [p.id for p in versions]
        number = {p.id: p.version for p in versions}
        where = queries.copy_locations(session, ids)
        events, total = queries.page_package_timeline(session, ids, offset=(page - 1) * size,
                                                      limit=size)
        return [EventView(
            e.event_type, e.event_datetime, e.outcome, tuple(a.name for a in e.agents),
            number.get(e.package_id or 0, 0),
            where.get(e.stored_copy_id) if e.stored_copy_id else None,
            e.object_identifier if e.object_identifier != objid else None,
            (e.detail or "").split("\n", 1)[0]) for e in events], total

