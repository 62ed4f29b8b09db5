"""Appraisal: put expired and duplicate hồ sơ into the Danh mục tài liệu hết giá trị with the
status "Xem xét hủy" (TT 05 Điều 48). Idempotent: a hồ sơ is listed once; permanent (01),
held, destroyed and transferred hồ sơ never are.

A hồ sơ is a duplicate when all of it is held by an earlier hồ sơ (the one kept): every content
file's SHA-256 is also a content file of that one, or every văn bản's (số, ký hiệu, cơ quan ban
hành, ngày) is also a văn bản of that one. A hồ sơ sharing only some documents is not listed:
khoso destroys whole hồ sơ (AIPs), never single documents inside one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext
from access_api.services.disposal.common import (
    MANAGERS,
    OBJECT_RECORD,
    PERMANENT,
    held_ids,
    iso,
    record_code,
    require,
)
from preservation.catalog import audit
from preservation.catalog.models import (
    Bitstream,
    DisposalCase,
    DisposalCaseItem,
    DisposalListing,
    Document,
    Fonds,
    Package,
    RecordFile,
    utcnow,
)
from preservation.catalog.vocab import (
    DisposalCaseStatus,
    DisposalReason,
    FileState,
    PackageKind,
    PackageStatus,
)
from preservation.metadata.dates import TTDate
from preservation.metadata.retention import RetentionRule, expiry

BATCH = 1000
LISTED_IN_AUDIT = 500  # codes named in the scan's audit entry; the counts cover all


@dataclass(frozen=True)
class ScanResult:
    expired: int = 0
    duplicates: int = 0
    codes: tuple[str, ...] = ()
    skipped_held: int = 0
    today: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"expired": self.expired, "duplicates": self.duplicates,
                "listed": len(self.codes), "codes": list(self.codes),
                "skipped_held": self.skipped_held, "today": self.today}


@dataclass
class _Listing:
    rows: list[tuple[int, DisposalReason, dict[str, Any]]] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    def add(self, rf_id: int, reason: DisposalReason, detail: dict[str, Any]) -> None:
        if rf_id not in self.seen:
            self.seen.add(rf_id)
            self.rows.append((rf_id, reason, detail))


def _candidates() -> sa.Select[Any]:
    """Hồ sơ that may be listed: kept for a limited term, in use, with a stored AIP, not
    listed yet (held ones are counted apart)."""
    # IN (subquery), not a correlated EXISTS: package.record_file_id has no index, and an
    # EXISTS per hồ sơ read the package table 100,000 times (bench_disposal_scan, 2026-12-07)
    with_aip = sa.select(Package.record_file_id).where(
        Package.kind == PackageKind.AIP.value, Package.status == PackageStatus.ACTIVE.value,
        Package.record_file_id.is_not(None))
    listed = sa.select(DisposalListing.record_file_id)
    return sa.select(RecordFile.id).where(
        RecordFile.state == FileState.ACTIVE.value, RecordFile.maintenance != PERMANENT,
        RecordFile.id.in_(with_aip), RecordFile.id.not_in(listed))


def expired_ids(s: Session, today: dt.date, rule: RetentionRule) -> Iterator[tuple[int, str]]:
    """(id, expiry) of candidates whose retention ran out before ``today``, by ``rule``. The
    stored expiry (computed at ingest) narrows the search; the date is computed again with the
    configured rule, which moves it at most within the same year."""
    query = (_candidates().add_columns(RecordFile.end_date, RecordFile.maintenance,
                                       RecordFile.retention_years)
             .where(RecordFile.retention_expires_on.is_not(None),
                    RecordFile.retention_expires_on < today + dt.timedelta(days=366))
             .order_by(RecordFile.id).execution_options(yield_per=BATCH))
    for rf_id, end_date, maintenance, years in s.execute(query):
        try:
            last = expiry(TTDate.parse(end_date, allow_partial=True), maintenance, years, rule)
        except Exception:  # noqa: BLE001 - a row ingest validated; an odd one is not listed
            continue
        if last is not None and last < today:
            yield rf_id, last.isoformat()


def _content(s: Session) -> sa.Subquery:
    """(hồ sơ, SHA-256) of the content files of each hồ sơ's current AIP version."""
    return (sa.select(Package.record_file_id.label("rf"), Bitstream.sha256.label("sha"))
            .join(Bitstream, Bitstream.package_id == Package.id)
            .where(Package.kind == PackageKind.AIP.value,
                   Package.status == PackageStatus.ACTIVE.value,
                   Package.record_file_id.is_not(None), Bitstream.document_id.is_not(None))
            .distinct().subquery())


def _keys(s: Session) -> sa.Subquery:
    """(hồ sơ, số, ký hiệu, cơ quan, ngày) of each văn bản that has all four."""
    d = Document
    return (sa.select(d.record_file_id.label("rf"), d.code_number.label("a"),
                      d.code_notation.label("b"), d.organ_name.label("c"),
                      d.issued_date.label("d"))
            .join(RecordFile, RecordFile.id == d.record_file_id)
            .where(d.record_file_id.is_not(None), RecordFile.state != FileState.DESTROYED.value,
                   d.code_number.is_not(None), d.code_notation.is_not(None),
                   d.organ_name.is_not(None), d.issued_date.is_not(None))
            .distinct().subquery())


def _counts(s: Session, column: Any) -> dict[int, int]:
    """Rows per hồ sơ of ``column``'s table (its items, or its documents)."""
    return {rf: n for rf, n in s.execute(sa.select(column, sa.func.count())
                                         .where(column.is_not(None)).group_by(column))}


def _covered(s: Session, items: sa.Subquery, on: list[str], totals: dict[int, int]
             ) -> dict[int, int]:
    """For each hồ sơ, the earliest other hồ sơ holding every one of its items. Only items
    held by more than one hồ sơ are read (grouped by the database), so the work follows the
    number of shared items, not the size of the catalog."""
    keys = [items.c[k] for k in on]
    shared = (sa.select(*keys).group_by(*keys).having(sa.func.count() > 1)).subquery()
    rows = s.execute(sa.select(items.c.rf, *keys)
                     .join(shared, sa.and_(*(items.c[k] == shared.c[k] for k in on)))
                     .order_by(*keys, items.c.rf))
    holders: dict[tuple[Any, ...], list[int]] = {}
    for rf, *key in rows:
        holders.setdefault(tuple(key), []).append(rf)
    pairs: dict[tuple[int, int], int] = {}
    for group in holders.values():
        for a in group:
            for b in group:
                if a != b:
                    pairs[(a, b)] = pairs.get((a, b), 0) + 1
    found: dict[int, int] = {}
    for (a, b), n in pairs.items():
        if b < a and n == totals.get(a) and b < found.get(a, a):
            found[a] = b
    return found


def duplicate_ids(s: Session) -> Iterator[tuple[int, DisposalReason, int]]:
    """(id, reason, id of the hồ sơ kept) of every candidate duplicating an earlier hồ sơ."""
    content = _content(s)
    by_sha = _covered(s, content, ["sha"], _counts(s, content.c.rf))
    # every document of the hồ sơ must be a văn bản held elsewhere (a photo has no such key)
    by_meta = _covered(s, _keys(s), ["a", "b", "c", "d"], _counts(s, Document.record_file_id))
    candidates = set(s.scalars(_candidates()))
    for rf_id, other in sorted(by_sha.items()):
        if rf_id in candidates:
            yield rf_id, DisposalReason.DUPLICATE_SHA256, other
    for rf_id, other in sorted(by_meta.items()):
        if rf_id in candidates and rf_id not in by_sha:
            yield rf_id, DisposalReason.DUPLICATE_METADATA, other


def _insert_once(s: Session) -> Any:
    """INSERT that skips a hồ sơ another scan running at the same time has just listed."""
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(DisposalListing).on_conflict_do_nothing(
        index_elements=["record_file_id"])


def _codes(s: Session, ids: set[int]) -> dict[int, str]:
    """The archival code (else the file code) of each hồ sơ id."""
    found: dict[int, str] = {}
    listed = sorted(ids)
    for chunk in (listed[i:i + BATCH] for i in range(0, len(listed), BATCH)):
        for rf_id, arc, code in s.execute(sa.select(
                RecordFile.id, RecordFile.arc_file_code, RecordFile.file_code)
                .where(RecordFile.id.in_(chunk))):
            found[rf_id] = arc or code
    return found


def scan(ctx: ServiceContext, identity: Identity, *, today: dt.date | None = None) -> ScanResult:
    """List what ran out or duplicates another hồ sơ, once; one audit entry for the run."""
    require(identity, *MANAGERS)
    today = today or utcnow().date()
    rule = RetentionRule(count_from="end_date" if ctx.settings.retention_count_from == "end_date"
                         else "end_year")
    listing = _Listing()
    with ctx.catalog.session() as s:
        held = set(s.scalars(held_ids(s)))
        skipped: set[int] = set()
        for rf_id, last in expired_ids(s, today, rule):
            if rf_id in held:
                skipped.add(rf_id)
                continue
            listing.add(rf_id, DisposalReason.EXPIRED, {"expired_on": last})
        duplicates = list(duplicate_ids(s))
        kept_codes = _codes(s, {other for _, _, other in duplicates})
        for rf_id, reason, other in duplicates:
            if rf_id in held:
                skipped.add(rf_id)
                continue
            listing.add(rf_id, reason, {"duplicate_of": kept_codes.get(other)})
        listed_at = utcnow()
        ids = [rf_id for rf_id, _, _ in listing.rows]
        by_id = _codes(s, set(ids))
        for chunk in (listing.rows[i:i + BATCH] for i in range(0, len(listing.rows), BATCH)):
            s.execute(_insert_once(s), [
                {"record_file_id": rf_id, "reason": reason.value, "detail": detail,
                 "listed_at": listed_at, "listed_by": identity.actor}
                for rf_id, reason, detail in chunk])
            s.execute(sa.update(RecordFile).where(RecordFile.id.in_([r[0] for r in chunk]))
                      .values(state=FileState.REVIEW_DISPOSAL.value)
                      .execution_options(synchronize_session=False))
        codes = [by_id[i] for i in ids]
        result = ScanResult(
            expired=sum(1 for r in listing.rows if r[1] is DisposalReason.EXPIRED),
            duplicates=sum(1 for r in listing.rows if r[1] is not DisposalReason.EXPIRED),
            codes=tuple(codes), skipped_held=len(skipped), today=today.isoformat())
        audit.record(s, identity.actor, "disposal.scan", OBJECT_RECORD, None,
                     expired=result.expired, duplicates=result.duplicates,
                     skipped_held=result.skipped_held, codes=codes[:LISTED_IN_AUDIT],
                     today=today.isoformat())
    return result


@dataclass(frozen=True)
class ListingView:
    """One line of the Danh mục tài liệu hết giá trị."""

    code: str
    title: str
    fond_code: str | None
    start_date: str | None
    end_date: str | None
    maintenance: str
    retention_years: int | None
    expires_on: str | None
    reason: str
    detail: dict[str, Any]
    listed_at: str | None
    case: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "fond_code": self.fond_code,
                "start_date": self.start_date, "end_date": self.end_date,
                "maintenance": self.maintenance, "retention_years": self.retention_years,
                "expires_on": self.expires_on, "reason": self.reason,
                "duplicate_of": self.detail.get("duplicate_of"), "listed_at": self.listed_at,
                "status": "Xem xét hủy", "case": self.case}


def listing_query(fonds: str | None = None) -> sa.Select[Any]:
    case = (sa.select(DisposalCaseItem.case_id).join(DisposalCase)
            .where(DisposalCaseItem.record_file_id == RecordFile.id,
                   DisposalCase.status != DisposalCaseStatus.EXECUTED.value).limit(1).scalar_subquery())
    query = (sa.select(DisposalListing, RecordFile, Fonds.fond_code, case.label("case"))
             .join(RecordFile, RecordFile.id == DisposalListing.record_file_id)
             .join(Fonds, Fonds.id == RecordFile.fonds_id)
             .order_by(Fonds.fond_code, RecordFile.file_code, RecordFile.id))
    return query if fonds is None else query.where(Fonds.fond_code == fonds)


def listing_view(row: Any) -> ListingView:
    entry, rf, fond_code, case = row
    return ListingView(record_code(rf), rf.title, fond_code, rf.start_date, rf.end_date,
                       rf.maintenance, rf.retention_years,
                       rf.retention_expires_on.isoformat() if rf.retention_expires_on else None,
                       entry.reason, dict(entry.detail or {}), iso(entry.listed_at), case)


def list_listed(ctx: ServiceContext, identity: Identity, *, fonds: str | None = None,
                page: int = 1, size: int = 50) -> tuple[list[ListingView], int]:
    require(identity, *MANAGERS)
    query = listing_query(fonds)
    with ctx.catalog.session() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = s.execute(query.offset((page - 1) * size).limit(size)).all()
        return [listing_view(r) for r in rows], total
