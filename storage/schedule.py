"""Which stored copies to re-read next, so that every copy is fully re-read within the period.

The audit is a rotation, not a burst: each run takes the copies checked longest ago, and ``plan``
sizes a run so that ``period_days × runs_per_day`` runs cover every copy. Taking the oldest first
(never-checked copies before all others) keeps the gap between two checks of one copy at or under
the period however unevenly copies were ingested. A copy whose last check could not read it
(``not_checked``) comes back after ``retry_hours`` rather than after a whole period: it was never
actually verified. The period defaults to 90 days; the law (TT 05 Điều 28–31) allows at most three
years.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog.models import Package, StoredCopy
from preservation.errors import KhosoError

if TYPE_CHECKING:
    from preservation.catalog.db import Catalog
    from preservation.events import Event
    from storage.audit import AuditReport, CopyAudit
    from storage.protocol import Storage

DEFAULT_PERIOD_DAYS = 90
LAW_MAX_PERIOD_DAYS = 3 * 365 + 1  # "ít nhất một lần trong 3 năm", a leap day included
DEFAULT_RETRY_HOURS = 24
# Superseded AIP versions still hold content that is never rewritten; deleted ones hold nothing.
AUDITED_STATUSES = ("active", "superseded")


def check_period(period_days: int) -> int:
    if not isinstance(period_days, int) or not 1 <= period_days <= LAW_MAX_PERIOD_DAYS:
        raise KhosoError("AUD010", name="period_days", value=period_days,
                         reason=f"a whole number of days from 1 to {LAW_MAX_PERIOD_DAYS} (three years, "
                                "the legal maximum)")
    return period_days


def check_positive(name: str, value: int) -> int:
    if not isinstance(value, int) or value < 1:
        raise KhosoError("AUD010", name=name, value=value, reason="a whole number of at least 1")
    return value


def plan(total_copies: int, period_days: int = DEFAULT_PERIOD_DAYS, runs_per_day: int = 24) -> int:
    """Copies per run so that ``period_days × runs_per_day`` runs re-read all ``total_copies``."""
    check_period(period_days)
    check_positive("runs_per_day", runs_per_day)
    if total_copies <= 0:
        return 0
    return math.ceil(total_copies / (period_days * runs_per_day))


def _utc(now: dt.datetime | None) -> dt.datetime:
    now = now or dt.datetime.now(dt.UTC)
    return now if now.tzinfo else now.replace(tzinfo=dt.UTC)


def select_copy_ids(session: Session, *, now: dt.datetime | None = None, due_only: bool = True,
                    period_days: int = DEFAULT_PERIOD_DAYS, limit: int | None = None,
                    location: str | None = None, locations: Collection[str] | None = None,
                    exclude_locations: Collection[str] = (), not_checked_since: dt.datetime | None = None,
                    retry_hours: int = DEFAULT_RETRY_HOURS, objid: str | None = None) -> list[int]:
    """Ids of copies in audit order: never checked, then failed reads due a retry, then oldest.

    ``due_only`` keeps only copies overdue (never checked, older than the period, or a failed read
    older than ``retry_hours``). ``not_checked_since`` drops copies already checked after that
    instant: a run passes its start time so each copy is read at most once per run.
    """
    check_period(period_days)
    now = _utc(now)
    retry_due = sa.and_(StoredCopy.last_check_result == "not_checked",
                        StoredCopy.last_check_at < now - dt.timedelta(hours=retry_hours))
    priority = sa.case((StoredCopy.last_check_at.is_(None), 0), (retry_due, 1), else_=2)
    query = (sa.select(StoredCopy.id).join(Package, Package.id == StoredCopy.package_id)
             .where(Package.status.in_(AUDITED_STATUSES))
             .order_by(priority, StoredCopy.last_check_at, StoredCopy.id))
    if due_only:
        query = query.where(sa.or_(StoredCopy.last_check_at.is_(None), retry_due,
                                   StoredCopy.last_check_at < now - dt.timedelta(days=period_days)))
    if not_checked_since is not None:
        query = query.where(sa.or_(StoredCopy.last_check_at.is_(None),
                                   StoredCopy.last_check_at < _utc(not_checked_since)))
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


def due_copies(session: Session, *, now: dt.datetime | None = None, period_days: int = DEFAULT_PERIOD_DAYS,
               batch_size: int, location: str | None = None) -> list[StoredCopy]:
    """Up to ``batch_size`` overdue copies, the longest unchecked first."""
    ids = select_copy_ids(session, now=now, period_days=period_days, limit=check_positive(
        "batch_size", batch_size), location=location)
    rows = {c.id: c for c in session.scalars(sa.select(StoredCopy).where(StoredCopy.id.in_(ids)))}
    return [rows[i] for i in ids]


def count_copies(session: Session, *, location: str | None = None) -> int:
    query = (sa.select(sa.func.count(StoredCopy.id)).join(Package, Package.id == StoredCopy.package_id)
             .where(Package.status.in_(AUDITED_STATUSES)))
    if location is not None:
        query = query.where(StoredCopy.location == location)
    return session.scalar(query) or 0


def scheduled_audit(catalog: Catalog, storages: Mapping[str, Storage], *,
                    period_days: int = DEFAULT_PERIOD_DAYS, runs_per_day: int = 24, repair: bool = True,
                    location: str | None = None, now: dt.datetime | None = None,
                    actor: str = "scheduler",
                    on_saved: Callable[[Sequence[tuple[CopyAudit, Event]]], None] | None = None
                    ) -> AuditReport:
    """One scheduled run (Celery beat calls this ``runs_per_day`` times a day): the next planned batch."""
    from storage.audit import run_audit  # audit builds on this module's selection

    with catalog.session() as s:
        batch = plan(count_copies(s, location=location), period_days, runs_per_day)
    return run_audit(catalog, storages, due_only=False, limit=batch, location=location, repair=repair,
                     period_days=period_days, now=now, actor=actor, on_saved=on_saved)
