"""Catalog queries asked in more than one place, written once.

"Overdue" in particular has one definition (``overdue``): ``/healthz`` counts the copies it
covers and the audit scheduler reads them first, so the two can never disagree about which
copies the audit period has left behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from preservation.catalog.models import (
    DisposalCase,
    DisposalCaseItem,
    Job,
    Package,
    PremisEvent,
    StoredCopy,
)
from preservation.catalog.vocab import (
    CheckResult,
    DisposalCaseStatus,
    PackageKind,
    PackageStatus,
)

# Superseded AIP versions still hold content that is never rewritten; deleted ones hold nothing.
AUDITED_STATUSES = (PackageStatus.ACTIVE, PackageStatus.SUPERSEDED)
BAD_RESULTS = (CheckResult.MISMATCH, CheckResult.MISSING)


def utc(now: dt.datetime | None = None) -> dt.datetime:
    """``now`` (default: the current time) as an aware UTC datetime; SQLite gives naive UTC."""
    now = now or dt.datetime.now(dt.UTC)
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


# -- packages ------------------------------------------------------------------------------

def package_versions(session: Session, objid: str, *, aip_only: bool = False,
                     statuses: Collection[str] | None = None) -> list[Package]:
    """Every version of the package ``objid``, oldest first."""
    query = sa.select(Package).where(Package.objid == objid)
    if aip_only:
        query = query.where(Package.kind == PackageKind.AIP)
    if statuses is not None:
        query = query.where(Package.status.in_(list(statuses)))
    return list(session.scalars(query.order_by(Package.version)))


def copies_by_package(session: Session, package_ids: Iterable[int]) -> dict[int, list[StoredCopy]]:
    """The stored copies of each package, by package id (a package without one: absent)."""
    out: dict[int, list[StoredCopy]] = {}
    for c in session.scalars(sa.select(StoredCopy).where(
            StoredCopy.package_id.in_(list(package_ids))).order_by(StoredCopy.id)):
        out.setdefault(c.package_id, []).append(c)
    return out


def package_with_copies(session: Session, objid: str) -> list[tuple[Package, list[StoredCopy]]]:
    """Every version of ``objid``, oldest first, each with its stored copies."""
    versions = package_versions(session, objid)
    copies = copies_by_package(session, [p.id for p in versions])
    return [(p, copies.get(p.id, [])) for p in versions]


def copy_key(session: Session, package_id: int) -> str | None:
    """The key prefix of a package's copies (the same in every location)."""
    return session.scalar(sa.select(StoredCopy.key).where(StoredCopy.package_id == package_id)
                          .limit(1))


# -- stored copies and the audit -----------------------------------------------------------

def destruction_under_way() -> sa.Select[int]:
    """Ids of the hồ sơ whose destruction started and has not finished (a location failed
    midway: the retry deletes the rest). Their copies are partly deleted by decision."""
    return (sa.select(DisposalCaseItem.record_file_id)
            .join(DisposalCase, DisposalCase.id == DisposalCaseItem.case_id)
            .where(DisposalCase.execution_started_at.is_not(None),
                   DisposalCase.status != DisposalCaseStatus.EXECUTED))


def audited_copies() -> sa.Select[int]:
    """Ids of the copies the fixity audit covers: those of active and superseded packages,
    except a hồ sơ's whose destruction is under way: a repair would copy destroyed bytes back
    (or call them lost and flag the package critical) between a failed execution and its retry."""
    return (sa.select(StoredCopy.id).join(Package, Package.id == StoredCopy.package_id)
            .where(Package.status.in_(AUDITED_STATUSES),
                   sa.or_(Package.record_file_id.is_(None),
                          Package.record_file_id.not_in(destruction_under_way()))))


def overdue(now: dt.datetime, period_days: int) -> sa.ColumnElement[bool]:
    """A copy never checked, or not checked within the audit period before ``now``."""
    return sa.or_(StoredCopy.last_check_at.is_(None),
                  StoredCopy.last_check_at < utc(now) - dt.timedelta(days=period_days))


def retry_due(now: dt.datetime, retry_hours: int) -> sa.ColumnElement[bool]:
    """A copy whose last check could not read it, longer ago than ``retry_hours``: it was never
    actually verified, so it comes back before a whole period has passed."""
    return sa.and_(StoredCopy.last_check_result == CheckResult.NOT_CHECKED,
                   StoredCopy.last_check_at < utc(now) - dt.timedelta(hours=retry_hours))


def count_overdue_copies(session: Session, *, now: dt.datetime | None = None,
                         period_days: int) -> int:
    query = sa.select(sa.func.count()).select_from(
        audited_copies().where(overdue(utc(now), period_days)).subquery())
    return session.scalar(query) or 0


def count_bad_copies(session: Session) -> int:
    """Copies whose last check found a changed or missing object."""
    return session.scalar(sa.select(sa.func.count(StoredCopy.id)).where(
        StoredCopy.last_check_result.in_(BAD_RESULTS))) or 0


def count_audited_copies(session: Session, *, location: str | None = None) -> int:
    query = audited_copies()
    if location is not None:
        query = query.where(StoredCopy.location == location)
    return session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def copies_in_audit_order(session: Session, *, now: dt.datetime | None = None,
                          due_only: bool = True, period_days: int, retry_hours: int,
                          limit: int | None = None, location: str | None = None,
                          locations: Collection[str] | None = None,
                          exclude_locations: Sequence[str] = (),
                          not_checked_since: dt.datetime | None = None,
                          objid: str | None = None) -> list[int]:
    """Ids of audited copies: never checked, then failed reads due a retry and copies known
    bad, then oldest checked.

    ``due_only`` keeps the overdue ones and the failed reads due a retry. ``not_checked_since``
    drops copies already checked after that instant (a run passes its start: each copy is read
    at most once per run). ``objid`` keeps one package's copies (every version)."""
    now = utc(now)
    retry = retry_due(now, retry_hours)
    # A copy known bad (a delivery that read it found it changed or gone) is due at once: the
    # next audit with repair restores it instead of waiting for the period to come round.
    bad = StoredCopy.last_check_result.in_(BAD_RESULTS)
    priority = sa.case((StoredCopy.last_check_at.is_(None), 0), (retry, 1), (bad, 1), else_=2)
    query = audited_copies().order_by(priority, StoredCopy.last_check_at, StoredCopy.id)
    if due_only:
        query = query.where(sa.or_(overdue(now, period_days), retry, bad))
    if not_checked_since is not None:
        query = query.where(sa.or_(StoredCopy.last_check_at.is_(None),
                                   StoredCopy.last_check_at < utc(not_checked_since)))
    if location is not None:
        query = query.where(StoredCopy.location == location)
    if objid is not None:
        query = query.where(Package.objid == objid)
    if locations is not None:
        query = query.where(StoredCopy.location.in_(list(locations)))
    if exclude_locations:
        query = query.where(StoredCopy.location.not_in(list(exclude_locations)))
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


# -- operator views (``khoso job …``, ``khoso aip …``) ---------------------------------------

def recent_jobs(session: Session, *, statuses: Sequence[str] = (), limit: int = 100) -> list[Job]:
    """Jobs, the newest first; ``statuses`` narrows them (empty: every status)."""
    query = sa.select(Job).order_by(Job.created_at.desc(), Job.id).limit(limit)
    if statuses:
        query = query.where(Job.status.in_(statuses))
    return list(session.scalars(query))


def job_by_id(session: Session, job_id: str) -> Job | None:
    return session.get(Job, job_id)


def latest_aips(session: Session, *, limit: int = 1000) -> list[tuple[Package, int]]:
    """Each archived package's newest version with the number of its versions, newest first."""
    newest = (sa.select(Package.objid, sa.func.max(Package.version).label("version"),
                        sa.func.count().label("versions"))
              .where(Package.kind == PackageKind.AIP).group_by(Package.objid).subquery())
    query = (sa.select(Package, newest.c.versions)
             .join(newest, sa.and_(Package.objid == newest.c.objid,
                                   Package.version == newest.c.version))
             .where(Package.kind == PackageKind.AIP)
             .options(selectinload(Package.copies))
             .order_by(Package.created_at.desc(), Package.id.desc()).limit(limit))
    return [(pkg, count) for pkg, count in session.execute(query).all()]


def _newest_versions() -> sa.Subquery:
    return (sa.select(Package.objid, sa.func.max(Package.version).label("version"),
                      sa.func.count().label("versions"))
            .where(Package.kind == PackageKind.AIP).group_by(Package.objid).subquery())


def page_latest_aips(session: Session, *, critical: bool | None = None, offset: int = 0,
                     limit: int = 50) -> tuple[list[tuple[Package, int]], int]:
    """One page of ``latest_aips`` and the number of packages in all; ``critical`` keeps the
    packages of which some version is (true) or none is (false) critical."""
    newest = _newest_versions()
    query = (sa.select(Package, newest.c.versions)
             .join(newest, sa.and_(Package.objid == newest.c.objid,
                                   Package.version == newest.c.version))
             .where(Package.kind == PackageKind.AIP))
    if critical is not None:
        lost = sa.select(Package.objid).where(Package.kind == PackageKind.AIP, Package.critical)
        query = query.where(Package.objid.in_(lost) if critical else Package.objid.not_in(lost))
    total = session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.options(selectinload(Package.copies))
                           .order_by(Package.created_at.desc(), Package.id.desc())
                           .offset(offset).limit(limit)).all()
    return [(pkg, count) for pkg, count in rows], total


def older_versions(session: Session, objids: Sequence[str]) -> dict[str, list[Package]]:
    """Every version but the newest of each package, oldest first, with their copies."""
    if not objids:
        return {}
    out: dict[str, list[Package]] = {}
    for pkg in session.scalars(sa.select(Package).where(
            Package.kind == PackageKind.AIP, Package.objid.in_(list(objids)))
            .options(selectinload(Package.copies)).order_by(Package.objid, Package.version)):
        out.setdefault(pkg.objid, []).append(pkg)
    return {objid: versions[:-1] for objid, versions in out.items() if len(versions) > 1}


def page_package_timeline(session: Session, package_ids: Sequence[int], *, offset: int = 0,
                          limit: int = 50) -> tuple[list[PremisEvent], int]:
    """One page of ``package_timeline`` and the number of events in all."""
    if not package_ids:
        return [], 0
    where = PremisEvent.package_id.in_(package_ids)
    total = session.scalar(sa.select(sa.func.count(PremisEvent.id)).where(where)) or 0
    events = list(session.scalars(
        sa.select(PremisEvent).where(where).options(selectinload(PremisEvent.agents))
        .order_by(PremisEvent.event_datetime, PremisEvent.id).offset(offset).limit(limit)))
    return events, total


def package_timeline(session: Session, package_ids: Sequence[int]) -> list[PremisEvent]:
    """The PREMIS events of these packages in the order they happened, with their agents."""
    if not package_ids:
        return []
    return list(session.scalars(
        sa.select(PremisEvent).where(PremisEvent.package_id.in_(package_ids))
        .options(selectinload(PremisEvent.agents))
        .order_by(PremisEvent.event_datetime, PremisEvent.id)))


def copy_locations(session: Session, package_ids: Sequence[int]) -> dict[int, str]:
    """Stored-copy id → its location, for naming where a copy event happened."""
    if not package_ids:
        return {}
    rows = session.execute(sa.select(StoredCopy.id, StoredCopy.location)
                           .where(StoredCopy.package_id.in_(package_ids)))
    return {copy_id: location for copy_id, location in rows}
