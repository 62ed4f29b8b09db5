"""Named read queries for the operator views (``khoso job …``, ``khoso aip …``).

Reads only, in the caller's session; the services layer turns the rows into result values.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from preservation.catalog.models import Job, Package, PremisEvent, StoredCopy


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
              .where(Package.kind == "AIP").group_by(Package.objid).subquery())
    query = (sa.select(Package, newest.c.versions)
             .join(newest, sa.and_(Package.objid == newest.c.objid,
                                   Package.version == newest.c.version))
             .where(Package.kind == "AIP")
             .options(selectinload(Package.copies))
             .order_by(Package.created_at.desc(), Package.id.desc()).limit(limit))
    return [(pkg, count) for pkg, count in session.execute(query).all()]


def aip_versions(session: Session, objid: str) -> list[Package]:
    """Every version of one archived package (superseded ones too), oldest first, with copies."""
    return list(session.scalars(
        sa.select(Package).where(Package.objid == objid, Package.kind == "AIP")
        .options(selectinload(Package.copies)).order_by(Package.version)))


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
