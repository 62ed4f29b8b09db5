"""The plan figures the web UI shows on its first page (#15): how much of the holdings is born
digital or digitised (TT 05 ``confidenceLevel``), how much of the permanent hồ sơ due for
transfer has been transferred, the fixity status of the stored copies, the storage used, and
how the archive grew month by month. Read from the catalog only; nothing is written."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.catalog.models import Document, Package, RecordFile, StoredCopy
from preservation.catalog.vocab import CheckResult, FileState, PackageKind, PackageStatus
from preservation.errors import Forbidden

READERS = (UserRole.ADMIN, UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)
ICT = dt.timezone(dt.timedelta(hours=7), "ICT")
ORIGINS = {"01": "born_digital", "02": "digitised", "03": "mixed"}
TRANSFER_YEARS = 3  # the Hà Nội plan: permanent hồ sơ transferred within 3 years
MONTHS = 12
_YEAR = re.compile(r"(\d{4})")  # the year of 2001-12-31, 31/12/2001, 12/2001 or 2001


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


@dataclass(frozen=True)
class Origins:
    """Held records by ``confidenceLevel``: 01 born digital, 02 digitised, 03 mixed."""

    total: int
    born_digital: int
    digitised: int
    mixed: int
    unrecorded: int
    share_born_digital: float
    share_digitised: float


@dataclass(frozen=True)
class Transfers:
    """Permanent hồ sơ whose work ended ``years`` or more years ago are ``due``; ``transferred``
    of them have state TRANSFERRED (0 until a transfer is completed)."""

    years: int
    permanent: int
    due: int
    transferred: int
    share: float


@dataclass(frozen=True)
class Fixity:
    copies: int
    ok: int
    mismatch: int
    missing: int
    not_checked: int
    share_ok: float
    last_check_at: str | None


@dataclass(frozen=True)
class LocationUse:
    location: str
    copies: int
    bytes: int


@dataclass(frozen=True)
class Month:
    month: str  # YYYY-MM, Vietnam time
    packages: int
    bytes: int


@dataclass(frozen=True)
class Dashboard:
    generated_at: str
    records: Origins
    documents: Origins
    transfers: Transfers
    fixity: Fixity
    storage_bytes: int
    locations: tuple[LocationUse, ...]
    growth: tuple[Month, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _origins(session: Any, column: Any, where: Any) -> Origins:
    counts: Counter[str] = Counter()
    for code, n in session.execute(sa.select(column, sa.func.count()).where(where)
                                   .group_by(column)):
        counts[ORIGINS.get(code or "", "unrecorded")] += n
    total = sum(counts.values())
    return Origins(total, counts["born_digital"], counts["digitised"], counts["mixed"],
                   counts["unrecorded"], _share(counts["born_digital"], total),
                   _share(counts["digitised"], total))


def _transfers(session: Any, today: dt.date) -> Transfers:
    permanent = due = transferred = 0
    query = (sa.select(RecordFile.end_date, RecordFile.state)
             .where(RecordFile.maintenance == "01",
                    RecordFile.state != FileState.DESTROYED.value)
             .execution_options(yield_per=5000))
    for end_date, state in session.execute(query):
        permanent += 1
        year = _YEAR.search(end_date or "")
        if year and int(year[1]) + TRANSFER_YEARS <= today.year:
            due += 1
            transferred += state == FileState.TRANSFERRED.value
    return Transfers(TRANSFER_YEARS, permanent, due, transferred, _share(transferred, due))


def _fixity(session: Any) -> Fixity:
    counts: Counter[str] = Counter()
    last = None
    for result, n, latest in session.execute(
            sa.select(StoredCopy.last_check_result, sa.func.count(),
                      sa.func.max(StoredCopy.last_check_at))
            .join(Package, Package.id == StoredCopy.package_id)
            .where(Package.status != PackageStatus.DELETED.value)
            .group_by(StoredCopy.last_check_result)):
        counts[result] += n
        if latest is not None and (last is None or latest > last):
            last = latest
    total = sum(counts.values())
    when = (last if last.tzinfo else last.replace(tzinfo=dt.UTC)).isoformat() if last else None
    return Fixity(total, counts[CheckResult.OK], counts[CheckResult.MISMATCH],
                  counts[CheckResult.MISSING], counts[CheckResult.NOT_CHECKED],
                  _share(counts[CheckResult.OK], total), when)


def _growth(session: Any, now: dt.datetime) -> tuple[Month, ...]:
    """AIP versions registered per month over the last ``MONTHS`` months (Vietnam time)."""
    local = now.astimezone(ICT)
    months = []
    year, month = local.year, local.month
    for _ in range(MONTHS):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    first = dt.datetime(year, month, 1, tzinfo=ICT) + dt.timedelta(days=32)
    first = first.replace(day=1).astimezone(dt.UTC).replace(tzinfo=None)
    packages: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    query = (sa.select(Package.created_at, Package.total_size)
             .where(Package.kind == PackageKind.AIP.value,
                    Package.status.in_([PackageStatus.ACTIVE.value,
                                        PackageStatus.SUPERSEDED.value]),
                    Package.created_at >= first)
             .execution_options(yield_per=5000))
    for created, size in session.execute(query):
        key = (created if created.tzinfo else created.replace(tzinfo=dt.UTC)).astimezone(
            ICT).strftime("%Y-%m")
        packages[key] += 1
        sizes[key] += int(size or 0)
    return tuple(Month(m, packages[m], sizes[m]) for m in reversed(months))


def dashboard(ctx: ServiceContext, identity: Identity, *, now: dt.datetime | None = None
              ) -> Dashboard:
    """The figures for the staff's first page; archivists, officers and admins."""
    if not identity.has(*READERS):
        raise Forbidden("AUTH004")
    now = now or dt.datetime.now(dt.UTC)
    held = RecordFile.state.notin_([FileState.DESTROYED.value, FileState.TRANSFERRED.value])
    with ctx.catalog.reading() as s:
        records = _origins(s, RecordFile.confidence_level, held)
        documents = _origins(s, Document.confidence_level, sa.or_(
            Document.record_file_id.is_(None),
            Document.record_file_id.in_(sa.select(RecordFile.id).where(held))))
        transfers = _transfers(s, now.astimezone(ICT).date())
        fixity = _fixity(s)
        used = tuple(LocationUse(loc, n, int(size or 0)) for loc, n, size in s.execute(
            sa.select(StoredCopy.location, sa.func.count(), sa.func.sum(StoredCopy.size))
            .join(Package, Package.id == StoredCopy.package_id)
            .where(Package.status != PackageStatus.DELETED.value)
            .group_by(StoredCopy.location).order_by(StoredCopy.location)))
        growth = _growth(s, now)
    return Dashboard(now.isoformat(timespec="seconds"), records, documents, transfers, fixity,
                     sum(u.bytes for u in used), used, growth)
