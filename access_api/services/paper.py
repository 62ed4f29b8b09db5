"""Paper hồ sơ in the repository (#15): where each one is (``paperFileCode``, box), its pages
and physical condition, its link to the catalog's digital record, check-out and check-in
(sổ xuất, sổ nhập) with overdue returns, and each agency's annual file plan (danh mục hồ sơ)
against the hồ sơ the catalog holds.

Every change is written to the audit log in its own transaction; a refused one leaves
nothing behind (the transaction is rolled back)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext
from access_api.services.repository import (
    AGENCY,
    BAD_TEXT,
    Checks,
    agency_row,
    box_files,
    box_row,
    require,
    unique,
)
from preservation.catalog import audit
from preservation.catalog.models import (
    ArchiveBody,
    DigitisationItem,
    FilePlanEntry,
    Fonds,
    PaperBox,
    PaperFile,
    PaperLoan,
    RecordFile,
    utcnow,
)
from preservation.catalog.vocab import FileState, PaperCondition
from preservation.errors import Conflict, KhosoError, NotFound, ValidationFailed
from preservation.issues import Report, Text
from preservation.metadata.codelists import codelist
from preservation.metadata.identifiers import PaperFileCode

PAPER_FILE = Text("hồ sơ giấy", "Paper hồ sơ")
FONDS = Text("phông", "Fonds")
PLAN_ENTRY = Text("hồ sơ trong danh mục", "File plan entry")
MAX_PAGES = 1_000_000
MAX_PLAN_ENTRIES = 5000
MAX_LOAN_DAYS = 366


@dataclass(frozen=True)
class Place:
    repository: str
    shelf: str
    box: str


@dataclass(frozen=True)
class PaperFileView:
    code: str
    title: str
    repository: str
    shelf: str
    box: str
    fonds: str | None
    maintenance: str
    year: int | None
    page_count: int
    condition: str
    checked_out: bool
    borrower: str | None
    due_on: dt.date | None
    record: str | None  # the catalog's hồ sơ whose paperFileCode is this code
    digitisation: str | None
    priority_override: int
    override_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def valid_code(code: str) -> bool:
    """The form the catalog accepts for ``paperFileCode`` (``PaperFileCode``), so that a paper
    hồ sơ and the digitised record that names it can always meet."""
    if not code or len(code) > 100 or BAD_TEXT.search(code):
        return False
    try:
        PaperFileCode.parse(code)
    except KhosoError:
        return False
    return True


def check_code(code: str) -> None:
    if not valid_code(code):
        report = Report()
        report.add("KHO010", "code", hoso=(code or "")[:100])
        raise ValidationFailed(report, "KHO007")


def paper_row(s: Session, code: str, *, lock: bool = False) -> PaperFile:
    query = sa.select(PaperFile).where(PaperFile.code == code)
    row = s.scalar(query.with_for_update() if lock else query) \
        if valid_code(code) else None
    if row is None:
        raise NotFound("KHO001", what=PAPER_FILE, key=code[:100])
    return row


def open_loan(s: Session, paper_file_id: int) -> PaperLoan | None:
    return s.scalar(sa.select(PaperLoan).where(PaperLoan.paper_file_id == paper_file_id,
                                               PaperLoan.returned_at.is_(None)))


def linked_record(s: Session, code: str) -> str | None:
    return s.scalar(sa.select(sa.func.coalesce(RecordFile.arc_file_code, RecordFile.file_code))
                    .where(RecordFile.paper_file_code == code).order_by(RecordFile.id).limit(1))


def view(s: Session, row: PaperFile) -> PaperFileView:
    box = s.get(PaperBox, row.box_id)
    assert box is not None
    loan = open_loan(s, row.id)
    item = s.scalar(sa.select(DigitisationItem.state)
                    .where(DigitisationItem.paper_file_id == row.id))
    return PaperFileView(row.code, row.title, box.shelf.repository.code, box.shelf.code, box.code,
                         row.fonds.fond_code if row.fonds else None, row.maintenance, row.year,
                         row.page_count, row.condition, loan is not None,
                         loan.borrower if loan else None, loan.due_on if loan else None,
                         linked_record(s, row.code), item, row.priority_override,
                         row.override_reason)


def _fonds(s: Session, ctx: ServiceContext, code: str) -> Fonds:
    rows = s.scalars(sa.select(Fonds).join(ArchiveBody, ArchiveBody.id == Fonds.archive_body_id)
                     .where(Fonds.fond_code == code)
                     .order_by((ArchiveBody.code == ctx.settings.archive_code).desc(),
                               Fonds.id)).first() if len(code) <= 20 else None
    if rows is None:
        raise NotFound("KHO001", what=FONDS, key=code[:100])
    return rows


def _into(s: Session, place: Place, code: str) -> PaperBox:
    """The box at ``place``, locked (PostgreSQL) so that two archivists filling its last slot
    at once cannot both succeed; KHO003 when it is full."""
    box = box_row(s, place.repository, place.shelf, place.box)
    s.execute(sa.select(PaperBox.id).where(PaperBox.id == box.id).with_for_update())
    count = box_files(s, box.id)
    if count >= box.capacity:
        raise Conflict("KHO003", box=f"{place.repository}/{place.shelf}/{place.box}",
                       count=count, capacity=box.capacity, hoso=code)
    return box


def _check_fields(checks: Checks, *, title: str | None, maintenance: str | None,
                  page_count: int | None, year: int | None) -> None:
    if title is not None:
        checks.text("title", title, 1000)
    if maintenance is not None and maintenance not in codelist("maintenance"):
        checks.bad("maintenance", "cần một mã thời hạn bảo quản 01–07",
                   "must be a retention code 01–07")
    checks.number("page_count", page_count, 0, MAX_PAGES)
    checks.number("year", year, 1000, 2100)


def register(ctx: ServiceContext, identity: Identity, *, code: str, place: Place, title: str,
             maintenance: str, page_count: int, condition: PaperCondition,
             fonds: str | None = None, year: int | None = None) -> PaperFileView:
    """Put a paper hồ sơ in a box (the sổ nhập's first entry for it)."""
    require(identity)
    check_code(code)
    checks = Checks()
    _check_fields(checks, title=title, maintenance=maintenance, page_count=page_count,
                  year=year)
    checks.done()
    with ctx.catalog.session() as s:
        fonds_row = _fonds(s, ctx, fonds) if fonds is not None else None
        box = _into(s, place, code)
        row = PaperFile(code=code, box_id=box.id, fonds_id=fonds_row.id if fonds_row else None,
                        title=title.strip(), maintenance=maintenance, year=year,
                        page_count=page_count, condition=PaperCondition(condition).value,
                        registered_by=identity.actor, priority_override=0)
        s.add(row)
        unique(s, PAPER_FILE, code)
        audit.record(s, identity.actor, "paper.register", "paper_file", code,
                     box=asdict(place), fonds=fonds, pages=page_count, condition=row.condition)
        return view(s, row)


def get(ctx: ServiceContext, identity: Identity, code: str) -> PaperFileView:
    require(identity)
    with ctx.catalog.reading() as s:
        return view(s, paper_row(s, code))


def list_files(ctx: ServiceContext, identity: Identity, *, fonds: str | None = None,
               condition: PaperCondition | None = None, checked_out: bool | None = None,
               page: int = 1, size: int = 50) -> tuple[list[PaperFileView], int]:
    require(identity)
    query = sa.select(PaperFile)
    if fonds is not None:
        query = query.join(Fonds, Fonds.id == PaperFile.fonds_id).where(Fonds.fond_code == fonds)
    if condition is not None:
        query = query.where(PaperFile.condition == PaperCondition(condition).value)
    if checked_out is not None:
        out = sa.exists().where(PaperLoan.paper_file_id == PaperFile.id,
                                PaperLoan.returned_at.is_(None))
        query = query.where(out if checked_out else ~out)
    with ctx.catalog.reading() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = s.scalars(query.order_by(PaperFile.code).offset((page - 1) * size)
                         .limit(size)).all()
        return [view(s, r) for r in rows], total


def update(ctx: ServiceContext, identity: Identity, code: str, *,
           condition: PaperCondition | None = None, page_count: int | None = None,
           move_to: Place | None = None) -> PaperFileView:
    """Record a new condition or page count, or move the hồ sơ to another box (not while it is
    checked out: KHO011)."""
    require(identity)
    checks = Checks()
    _check_fields(checks, title=None, maintenance=None, page_count=page_count, year=None)
    checks.done()
    with ctx.catalog.session() as s:
        row = paper_row(s, code, lock=True)
        before = {"condition": row.condition, "page_count": row.page_count,
                  "box_id": row.box_id}
        if move_to is not None:
            if open_loan(s, row.id) is not None:
                raise Conflict("KHO011", hoso=code)
            target = box_row(s, move_to.repository, move_to.shelf, move_to.box)
            if target.id != row.box_id:
                row.box_id = _into(s, move_to, code).id
        if condition is not None:
            row.condition = PaperCondition(condition).value
        if page_count is not None:
            row.page_count = page_count
        audit.record(s, identity.actor, "paper.update", "paper_file", code, before=before,
                     condition=row.condition, page_count=row.page_count,
                     box=asdict(move_to) if move_to else None)
        return view(s, row)


# -- check-out and check-in (sổ xuất, sổ nhập) --------------------------------------------------

@dataclass(frozen=True)
class LoanView:
    id: int
    code: str
    title: str
    borrower: str
    purpose: str
    out_by: str
    out_at: dt.datetime
    due_on: dt.date
    returned_at: dt.datetime | None
    returned_by: str | None
    return_condition: str | None
    overdue: bool
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def loan_view(loan: PaperLoan, code: str, title: str, today: dt.date) -> LoanView:
    return LoanView(loan.id, code, title, loan.borrower, loan.purpose, loan.out_by,
                    loan.out_at, loan.due_on, loan.returned_at, loan.returned_by,
                    loan.return_condition, loan.returned_at is None and loan.due_on < today,
                    loan.note)


def check_out(ctx: ServiceContext, identity: Identity, code: str, *, borrower: str,
              purpose: str, due_on: dt.date | None = None, note: str | None = None,
              today: dt.date | None = None) -> LoanView:
    """Lend the hồ sơ (a line of the sổ xuất). Refused with KHO004 while it is out: checked
    under a row lock and, should two requests still race, by the one-open-loan index."""
    require(identity)
    today = today or dt.date.today()
    checks = Checks()
    checks.text("borrower", borrower, 200)
    checks.text("purpose", purpose, 1000)
    checks.text("note", note, 2000, required=False)
    due = due_on or today + dt.timedelta(days=ctx.settings.paper_loan_days)
    if not today <= due <= today + dt.timedelta(days=MAX_LOAN_DAYS):
        checks.bad("due_on", f"hạn trả từ hôm nay đến {MAX_LOAN_DAYS} ngày sau",
                   f"the due date must be from today to {MAX_LOAN_DAYS} days ahead")
    checks.done()
    with ctx.catalog.session() as s:
        row = paper_row(s, code, lock=True)
        current = open_loan(s, row.id)
        if current is not None:
            raise Conflict("KHO004", hoso=code, borrower=current.borrower, due=current.due_on)
        loan = PaperLoan(paper_file_id=row.id, borrower=borrower.strip(),
                         purpose=purpose.strip(), out_by=identity.actor, out_at=utcnow(),
                         due_on=due, note=note)
        s.add(loan)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict("KHO004", hoso=code, borrower="?", due="?") from None
        audit.record(s, identity.actor, "paper.check_out", "paper_file", code,
                     loan=loan.id, borrower=loan.borrower, purpose=loan.purpose, due_on=due)
        return loan_view(loan, code, row.title, today)


def check_in(ctx: ServiceContext, identity: Identity, code: str, *,
             condition: PaperCondition | None = None, move_to: Place | None = None,
             note: str | None = None, today: dt.date | None = None) -> LoanView:
    """Take the hồ sơ back (a line of the sổ nhập), with its condition on return and, if it
    goes into another box, that box (KHO003 when full)."""
    require(identity)
    today = today or dt.date.today()
    checks = Checks()
    checks.text("note", note, 2000, required=False)
    checks.done()
    with ctx.catalog.session() as s:
        row = paper_row(s, code, lock=True)
        loan = open_loan(s, row.id)
        if loan is None:
            raise Conflict("KHO005", hoso=code)
        if move_to is not None:
            target = box_row(s, move_to.repository, move_to.shelf, move_to.box)
            if target.id != row.box_id:
                row.box_id = _into(s, move_to, code).id
        loan.returned_at = utcnow()
        loan.returned_by = identity.actor
        if condition is not None:
            loan.return_condition = row.condition = PaperCondition(condition).value
        if note is not None:
            loan.note = f"{loan.note}\n{note}" if loan.note else note
        audit.record(s, identity.actor, "paper.check_in", "paper_file", code, loan=loan.id,
                     borrower=loan.borrower, condition=loan.return_condition,
                     box=asdict(move_to) if move_to else None)
        return loan_view(loan, code, row.title, today)


def list_loans(ctx: ServiceContext, identity: Identity, *, open_only: bool = False,
               overdue_only: bool = False, page: int = 1, size: int = 50,
               today: dt.date | None = None) -> tuple[list[LoanView], int]:
    require(identity)
    today = today or dt.date.today()
    query = sa.select(PaperLoan, PaperFile.code, PaperFile.title).join(
        PaperFile, PaperFile.id == PaperLoan.paper_file_id)
    if open_only or overdue_only:
        query = query.where(PaperLoan.returned_at.is_(None))
    if overdue_only:
        query = query.where(PaperLoan.due_on < today)
    with ctx.catalog.reading() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = s.execute(query.order_by(PaperLoan.due_on, PaperLoan.id)
                         .offset((page - 1) * size).limit(size)).all()
        return [loan_view(loan, code, title, today) for loan, code, title in rows], total


# -- file plans (danh mục hồ sơ) ----------------------------------------------------------------

@dataclass(frozen=True)
class PlanEntry:
    file_code: str
    title: str
    maintenance: str | None
    submitted: bool
    record: str | None


@dataclass(frozen=True)
class FilePlan:
    agency: str
    year: int
    planned: int
    submitted: int
    entries: tuple[PlanEntry, ...]

    @property
    def percent(self) -> float:
        return round(100.0 * self.submitted / self.planned, 1) if self.planned else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"agency": self.agency, "year": self.year, "planned": self.planned,
                "submitted": self.submitted, "percent": self.percent,
                "entries": [asdict(e) for e in self.entries]}


def _plan(s: Session, archive_code: str, organ_id: str, agency_id: int, year: int) -> FilePlan:
    """The plan with each entry's hồ sơ in the catalog: the agency's fileCode, or the
    archival code the archive gave it (``{archive code}.{fileCode}``, what an AIP carries)."""
    record = (sa.select(sa.func.coalesce(RecordFile.arc_file_code, RecordFile.file_code))
              .where(sa.or_(RecordFile.file_code == FilePlanEntry.file_code,
                            RecordFile.arc_file_code
                            == sa.literal(f"{archive_code}.") + FilePlanEntry.file_code),
                     RecordFile.state != FileState.DRAFT.value)
              .order_by(RecordFile.id).limit(1).correlate(FilePlanEntry).scalar_subquery())
    rows = s.execute(
        sa.select(FilePlanEntry.file_code, FilePlanEntry.title, FilePlanEntry.maintenance,
                  record)
        .where(FilePlanEntry.agency_id == agency_id, FilePlanEntry.year == year)
        .order_by(FilePlanEntry.file_code)).all()
    entries = tuple(PlanEntry(code, title, m, found is not None, found)
                    for code, title, m, found in rows)
    return FilePlan(organ_id, year, len(entries), sum(e.submitted for e in entries), entries)


def add_plan_entries(ctx: ServiceContext, identity: Identity, *, agency: str, year: int,
                     entries: Sequence[dict[str, Any]]) -> FilePlan:
    """Add planned hồ sơ (fileCode, title, maintenance) to the agency's plan for ``year``;
    a fileCode already planned for that year, or twice in the input, is refused (KHO002 /
    KHO006) and nothing is added."""
    require(identity)
    checks = Checks()
    checks.number("year", year, 1900, 2100)
    if not 1 <= len(entries) <= MAX_PLAN_ENTRIES:
        checks.bad("entries", f"cần từ 1 đến {MAX_PLAN_ENTRIES} hồ sơ",
                   f"from 1 to {MAX_PLAN_ENTRIES} entries")
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        code = str(entry.get("file_code") or "")
        checks.text(f"entries/{i}/file_code", code, 100)
        checks.text(f"entries/{i}/title", entry.get("title"), 1000)
        m = entry.get("maintenance")
        if m is not None and m not in codelist("maintenance"):
            checks.bad(f"entries/{i}/maintenance", "cần một mã thời hạn bảo quản 01–07",
                       "must be a retention code 01–07")
        if code in seen:
            checks.bad(f"entries/{i}/file_code", "mã hồ sơ lặp lại trong danh mục",
                       "the file code is repeated in the plan")
        seen.add(code)
    checks.done()
    with ctx.catalog.session() as s:
        org = agency_row(s, agency)
        for entry in entries:
            s.add(FilePlanEntry(agency_id=org.id, year=year, file_code=entry["file_code"],
                                title=entry["title"].strip(),
                                maintenance=entry.get("maintenance"), created_by=identity.actor))
        unique(s, PLAN_ENTRY, f"{agency}/{year}")
        audit.record(s, identity.actor, "paper.file_plan_add", "file_plan", f"{agency}/{year}",
                     entries=[e["file_code"] for e in entries])
        return _plan(s, ctx.settings.archive_code, agency, org.id, year)


def file_plan(ctx: ServiceContext, identity: Identity, *, agency: str, year: int) -> FilePlan:
    require(identity)
    checks = Checks()
    checks.number("year", year, 1900, 2100)
    checks.done()
    with ctx.catalog.reading() as s:
        if BAD_TEXT.search(agency):
            raise NotFound("KHO001", what=AGENCY, key=agency[:100])
        org = agency_row(s, agency)
        return _plan(s, ctx.settings.archive_code, agency, org.id, year)

