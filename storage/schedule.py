"""Which stored copies to re-read next, so that every copy is fully re-read within the period.

The audit is a rotation, not a burst: each run takes the copies checked longest ago, and ``plan``
sizes a run so that ``period_days × runs_per_day`` runs cover every copy. Taking the oldest first
(never-checked copies before all others) keeps the gap between two checks of one copy at or under
the period however unevenly copies were ingested. A copy whose last check could not read it
(``not_checked``) comes back after ``retry_hours`` rather than after a whole period: it was never
actually verified. The period defaults to 90 days; the law (TT 05 Điều 28–31) allows at most three
years. The order and "overdue" are catalog queries (``preservation.catalog.queries``), the same
ones ``/healthz`` counts with.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog.db import Catalog
from preservation.catalog.models import StoredCopy
from preservation.catalog.queries import copies_in_audit_order, count_audited_copies
from preservation.events import Event
from storage.audit import run_audit
from storage.checks import (
    DEFAULT_PERIOD_DAYS,
    DEFAULT_RETRY_HOURS,
    AuditReport,
    CopyAudit,
    check_period,
    check_positive,
)
from storage.protocol import Storage
from storage.repair import RepairRecorded


def plan(total_copies: int, period_days: int = DEFAULT_PERIOD_DAYS, runs_per_day: int = 24) -> int:
    """Copies per run so that ``period_days × runs_per_day`` runs re-read all ``total_copies``."""
    check_period(period_days)
    check_positive("runs_per_day", runs_per_day)
    if total_copies <= 0:
        return 0
    return math.ceil(total_copies / (period_days * runs_per_day))


def due_copies(session: Session, *, now: dt.datetime | None = None, period_days: int = DEFAULT_PERIOD_DAYS,
               batch_size: int, location: str | None = None,
               retry_hours: int = DEFAULT_RETRY_HOURS) -> list[StoredCopy]:
    """Up to ``batch_size`` overdue copies (or failed reads due a retry), the longest unchecked
    first."""
    limit = check_positive("batch_size", batch_size)
    ids = copies_in_audit_order(session, now=now, period_days=check_period(period_days),
                                retry_hours=retry_hours, location=location, limit=limit)
    rows = {c.id: c for c in session.scalars(sa.select(StoredCopy).where(StoredCopy.id.in_(ids)))}
    return [rows[i] for i in ids]


def count_copies(session: Session, *, location: str | None = None) -> int:
    """Copies the audit covers (those of active and superseded packages)."""
    return count_audited_copies(session, location=location)


def scheduled_audit(catalog: Catalog, storages: Mapping[str, Storage], *,
                    period_days: int = DEFAULT_PERIOD_DAYS, runs_per_day: int = 24, repair: bool = True,
                    location: str | None = None, now: dt.datetime | None = None,
                    actor: str = "scheduler",
                    on_saved: Callable[[Sequence[tuple[CopyAudit, Event]]], None] | None = None,
                    on_repaired: RepairRecorded | None = None,
                    archive_code: str | None = None) -> AuditReport:
    """One scheduled run (Celery beat calls this ``runs_per_day`` times a day): the next planned batch."""
    with catalog.session() as s:
        batch = plan(count_copies(s, location=location), period_days, runs_per_day)
    return run_audit(catalog, storages, due_only=False, limit=batch, location=location, repair=repair,
                     period_days=period_days, now=now, actor=actor, on_saved=on_saved,
                     on_repaired=on_repaired, archive_code=archive_code)
