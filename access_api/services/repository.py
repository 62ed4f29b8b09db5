"""Kho lưu trữ giấy (#15): repositories with their area, shelves (giá), boxes (hộp), equipment
with its service dates, and the staff responsible for archives at each agency.

Archivists and admins manage all of it; preservation officers may read the repositories and
their equipment (they watch the storage environment); every change is written to the audit
log in the transaction that makes it. Nothing here touches an AIP, so no PREMIS event."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext, UserRole
from preservation.catalog import audit
from preservation.catalog.models import (
    Agency,
    ArchiveStaff,
    PaperBox,
    PaperFile,
    PaperRepository,
    PaperShelf,
    RepositoryEquipment,
)
from preservation.catalog.vocab import EquipmentCondition, EquipmentKind
from preservation.errors import Conflict, Forbidden, NotFound, ValidationFailed
from preservation.issues import Report, Text
from preservation.metadata.xmlsafe import INVALID_CHARS

MANAGERS = (UserRole.ADMIN, UserRole.ARCHIVIST)
WATCHERS = (*MANAGERS, UserRole.PRESERVATION_OFFICER)
SHORT_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,19}")
BAD_TEXT = re.compile(f"[{INVALID_CHARS}]")
MAX_AREA_M2 = 1_000_000.0
MAX_CAPACITY = 10_000

REPOSITORY = Text("kho lưu trữ", "Repository")
SHELF = Text("giá", "Shelf")
BOX = Text("hộp", "Box")
EQUIPMENT = Text("thiết bị", "Equipment")
AGENCY = Text("cơ quan", "Agency")
STAFF = Text("người làm lưu trữ", "Archive staff member")


def require(identity: Identity, roles: tuple[UserRole, ...] = MANAGERS) -> None:
    if not identity.has(*roles):
        raise Forbidden("AUTH004")


class Checks:
    """Collects every problem of one input (KHO006), then raises once (KHO007)."""

    def __init__(self) -> None:
        self.report = Report()

    def bad(self, field: str, vi: str, en: str) -> None:
        self.report.add("KHO006", field, field=field, why=Text(vi, en))

    def text(self, field: str, value: str | None, limit: int, *, required: bool = True) -> None:
        if value is None or not value.strip():
            if required:
                self.bad(field, "không được để trống", "must not be empty")
            return
        if len(value) > limit:
            self.bad(field, f"dài quá {limit} ký tự", f"longer than {limit} characters")
        elif BAD_TEXT.search(value):
            self.bad(field, "chứa ký tự điều khiển", "holds a control character")

    def code(self, field: str, value: str) -> None:
        if not SHORT_CODE.fullmatch(value or ""):
            self.bad(field, "cần 1–20 ký tự: chữ cái không dấu, chữ số, «.», «-», «_»",
                     "1–20 characters: unaccented letters, digits, '.', '-', '_'")

    def number(self, field: str, value: float | None, low: float, high: float, *,
               strict_low: bool = False) -> None:
        if value is None:
            return
        if (value <= low if strict_low else value < low) or value > high or value != value:
            bound = f"lớn hơn {low:g}" if strict_low else f"từ {low:g}"
            bound_en = f"greater than {low:g}" if strict_low else f"from {low:g}"
            self.bad(field, f"cần {bound} đến {high:g}", f"must be {bound_en} to {high:g}")

    def done(self) -> None:
        if self.report.errors:
            raise ValidationFailed(self.report, "KHO007")


def unique(s: Session, what: Text, key: str) -> None:
    """Flush; a unique constraint that fails (a duplicate, or one racing in) is KHO002. The
    error ends the caller's transaction, so nothing of the input is kept."""
    try:
        s.flush()
    except IntegrityError:
        raise Conflict("KHO002", what=what, key=key) from None


# -- repositories, shelves, boxes ---------------------------------------------------------------

@dataclass(frozen=True)
class BoxView:
    code: str
    shelf: str
    capacity: int
    files: int

    @property
    def full(self) -> bool:
        return self.files >= self.capacity


@dataclass(frozen=True)
class RepositoryView:
    code: str
    name: str
    area_m2: float
    address: str | None
    shelves: tuple[str, ...]
    boxes: tuple[BoxView, ...]
    files: int
    equipment: int

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["shelves"] = list(self.shelves)
        out["boxes"] = [{**asdict(b), "full": b.full} for b in self.boxes]
        return out


def get_repository_row(s: Session, code: str) -> PaperRepository:
    row = s.scalar(sa.select(PaperRepository).where(PaperRepository.code == code)) \
        if SHORT_CODE.fullmatch(code) else None
    if row is None:
        raise NotFound("KHO001", what=REPOSITORY, key=code[:100])
    return row


def box_row(s: Session, repository: str, shelf: str, box: str) -> PaperBox:
    repo = get_repository_row(s, repository)
    row = s.scalar(sa.select(PaperBox).join(PaperShelf, PaperShelf.id == PaperBox.shelf_id)
                   .where(PaperShelf.repository_id == repo.id, PaperShelf.code == shelf,
                          PaperBox.code == box)) \
        if SHORT_CODE.fullmatch(shelf) and SHORT_CODE.fullmatch(box) else None
    if row is None:
        raise NotFound("KHO001", what=BOX, key=f"{repository}/{shelf[:20]}/{box[:20]}")
    return row


def box_files(s: Session, box_id: int) -> int:
    return s.scalar(sa.select(sa.func.count()).select_from(PaperFile)
                    .where(PaperFile.box_id == box_id)) or 0


def _view(s: Session, repo: PaperRepository) -> RepositoryView:
    shelves = s.scalars(sa.select(PaperShelf.code).where(PaperShelf.repository_id == repo.id)
                        .order_by(PaperShelf.code)).all()
    counts = (sa.select(PaperFile.box_id, sa.func.count().label("n"))
              .group_by(PaperFile.box_id).subquery())
    boxes = s.execute(
        sa.select(PaperBox.code, PaperShelf.code, PaperBox.capacity,
                  sa.func.coalesce(counts.c.n, 0))
        .join(PaperShelf, PaperShelf.id == PaperBox.shelf_id)
        .outerjoin(counts, counts.c.box_id == PaperBox.id)
        .where(PaperShelf.repository_id == repo.id)
        .order_by(PaperShelf.code, PaperBox.code)).all()
    equipment = s.scalar(sa.select(sa.func.count()).select_from(RepositoryEquipment)
                         .where(RepositoryEquipment.repository_id == repo.id)) or 0
    box_views = tuple(BoxView(b, sh, cap, int(n)) for b, sh, cap, n in boxes)
    return RepositoryView(repo.code, repo.name, repo.area_m2, repo.address, tuple(shelves),
                          box_views, sum(b.files for b in box_views), int(equipment))


def create_repository(ctx: ServiceContext, identity: Identity, *, code: str, name: str,
                      area_m2: float, address: str | None = None) -> RepositoryView:
    require(identity)
    checks = Checks()
    checks.code("code", code)
    checks.text("name", name, 300)
    checks.text("address", address, 500, required=False)
    checks.number("area_m2", area_m2, 0, MAX_AREA_M2, strict_low=True)
    checks.done()
    with ctx.catalog.session() as s:
        repo = PaperRepository(code=code, name=name.strip(), area_m2=float(area_m2),
                               address=address)
        s.add(repo)
        unique(s, REPOSITORY, code)
        audit.record(s, identity.actor, "repository.create", "paper_repository", code,
                     name=repo.name, area_m2=repo.area_m2)
        return _view(s, repo)


def list_repositories(ctx: ServiceContext, identity: Identity) -> list[RepositoryView]:
    require(identity, WATCHERS)
    with ctx.catalog.reading() as s:
        rows = s.scalars(sa.select(PaperRepository).order_by(PaperRepository.code)).all()
        return [_view(s, r) for r in rows]


def get_repository(ctx: ServiceContext, identity: Identity, code: str) -> RepositoryView:
    require(identity, WATCHERS)
    with ctx.catalog.reading() as s:
        return _view(s, get_repository_row(s, code))


def add_shelf(ctx: ServiceContext, identity: Identity, repository: str, *,
              code: str) -> RepositoryView:
    require(identity)
    checks = Checks()
    checks.code("code", code)
    checks.done()
    with ctx.catalog.session() as s:
        repo = get_repository_row(s, repository)
        s.add(PaperShelf(repository_id=repo.id, code=code))
        unique(s, SHELF, f"{repository}/{code}")
        audit.record(s, identity.actor, "repository.shelf_add", "paper_repository",
                     repository, shelf=code)
        return _view(s, repo)


def add_box(ctx: ServiceContext, identity: Identity, repository: str, *, shelf: str, code: str,
            capacity: int) -> RepositoryView:
    require(identity)
    checks = Checks()
    checks.code("shelf", shelf)
    checks.code("code", code)
    checks.number("capacity", capacity, 1, MAX_CAPACITY)
    checks.done()
    with ctx.catalog.session() as s:
        repo = get_repository_row(s, repository)
        shelf_row = s.scalar(sa.select(PaperShelf).where(PaperShelf.repository_id == repo.id,
                                                         PaperShelf.code == shelf))
        if shelf_row is None:
            raise NotFound("KHO001", what=SHELF, key=f"{repository}/{shelf}")
        s.add(PaperBox(shelf_id=shelf_row.id, code=code, capacity=int(capacity)))
        unique(s, BOX, f"{repository}/{shelf}/{code}")
        audit.record(s, identity.actor, "repository.box_add", "paper_repository", repository,
                     shelf=shelf, box=code, capacity=capacity)
        return _view(s, repo)


# -- equipment ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class EquipmentView:
    id: int
    repository: str
    kind: str
    label: str
    quantity: int
    condition: str
    last_service_on: dt.date | None
    next_service_on: dt.date | None
    overdue: bool
    note: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _equipment_view(row: RepositoryEquipment, code: str, today: dt.date) -> EquipmentView:
    return EquipmentView(row.id, code, row.kind, row.label, row.quantity, row.condition,
                         row.last_service_on, row.next_service_on,
                         row.next_service_on is not None and row.next_service_on < today
                         and row.condition != EquipmentCondition.RETIRED, row.note)


def _check_service(checks: Checks, last: dt.date | None, nxt: dt.date | None,
                   today: dt.date) -> None:
    if last is not None and last > today:
        checks.bad("last_service_on", "ngày bảo dưỡng gần nhất không thể ở tương lai",
                   "the last service cannot be in the future")
    if last is not None and nxt is not None and nxt < last:
        checks.bad("next_service_on", "hạn bảo dưỡng tiếp theo phải sau lần gần nhất",
                   "the next service must come after the last one")


def add_equipment(ctx: ServiceContext, identity: Identity, repository: str, *,
                  kind: EquipmentKind, label: str, condition: EquipmentCondition,
                  quantity: int = 1, last_service_on: dt.date | None = None,
                  next_service_on: dt.date | None = None, note: str | None = None,
                  today: dt.date | None = None) -> EquipmentView:
    require(identity)
    today = today or dt.date.today()
    checks = Checks()
    checks.text("label", label, 200)
    checks.text("note", note, 2000, required=False)
    checks.number("quantity", quantity, 1, 100_000)
    _check_service(checks, last_service_on, next_service_on, today)
    checks.done()
    with ctx.catalog.session() as s:
        repo = get_repository_row(s, repository)
        row = RepositoryEquipment(repository_id=repo.id, kind=EquipmentKind(kind).value,
                                  label=label.strip(), quantity=quantity,
                                  condition=EquipmentCondition(condition).value,
                                  last_service_on=last_service_on,
                                  next_service_on=next_service_on, note=note)
        s.add(row)
        s.flush()
        audit.record(s, identity.actor, "repository.equipment_add", "repository_equipment",
                     row.id, repository=repository, kind=row.kind, label=row.label,
                     condition=row.condition, next_service_on=next_service_on)
        return _equipment_view(row, repo.code, today)


def service_equipment(ctx: ServiceContext, identity: Identity, equipment_id: int, *,
                      condition: EquipmentCondition | None = None,
                      last_service_on: dt.date | None = None,
                      next_service_on: dt.date | None = None, note: str | None = None,
                      today: dt.date | None = None) -> EquipmentView:
    """Record a service visit or a change of condition."""
    require(identity)
    today = today or dt.date.today()
    with ctx.catalog.session() as s:
        row = s.get(RepositoryEquipment, equipment_id) if 0 < equipment_id < 2**31 else None
        if row is None:
            raise NotFound("KHO001", what=EQUIPMENT, key=str(equipment_id))
        checks = Checks()
        checks.text("note", note, 2000, required=False)
        _check_service(checks, last_service_on or row.last_service_on,
                       next_service_on or row.next_service_on, today)
        checks.done()
        before = {"condition": row.condition, "last_service_on": row.last_service_on,
                  "next_service_on": row.next_service_on}
        if condition is not None:
            row.condition = EquipmentCondition(condition).value
        if last_service_on is not None:
            row.last_service_on = last_service_on
        if next_service_on is not None:
            row.next_service_on = next_service_on
        if note is not None:
            row.note = note
        audit.record(s, identity.actor, "repository.equipment_service", "repository_equipment",
                     row.id, before=before, condition=row.condition,
                     last_service_on=row.last_service_on, next_service_on=row.next_service_on)
        return _equipment_view(row, row.repository.code, today)


def equipment_rows(s: Session, *, overdue_only: bool = False, repository: str | None = None,
                   today: dt.date | None = None) -> Iterator[EquipmentView]:
    today = today or dt.date.today()
    query = (sa.select(RepositoryEquipment, PaperRepository.code)
             .join(PaperRepository, PaperRepository.id == RepositoryEquipment.repository_id))
    if repository is not None:
        query = query.where(PaperRepository.code == repository)
    if overdue_only:
        query = query.where(RepositoryEquipment.next_service_on < today,
                            RepositoryEquipment.condition != EquipmentCondition.RETIRED.value)
    query = query.order_by(PaperRepository.code, RepositoryEquipment.id)
    for row, code in s.execute(query.execution_options(yield_per=500)):
        yield _equipment_view(row, code, today)


def list_equipment(ctx: ServiceContext, identity: Identity, *, overdue_only: bool = False,
                   repository: str | None = None,
                   today: dt.date | None = None) -> list[EquipmentView]:
    require(identity, WATCHERS)
    with ctx.catalog.reading() as s:
        if repository is not None:
            get_repository_row(s, repository)
        return list(equipment_rows(s, overdue_only=overdue_only, repository=repository,
                                   today=today))


# -- staff responsible for archives -------------------------------------------------------------

@dataclass(frozen=True)
class StaffView:
    id: int
    agency: str
    full_name: str
    position: str | None
    phone: str | None
    email: str | None
    since: dt.date | None
    active: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def agency_row(s: Session, organ_id: str) -> Agency:
    row = s.scalar(sa.select(Agency).where(Agency.organ_id == organ_id)) \
        if len(organ_id) <= 25 and not BAD_TEXT.search(organ_id) else None
    if row is None:
        raise NotFound("KHO001", what=AGENCY, key=organ_id[:100])
    return row


def add_staff(ctx: ServiceContext, identity: Identity, *, agency: str, full_name: str,
              position: str | None = None, phone: str | None = None,
              email: str | None = None, since: dt.date | None = None) -> StaffView:
    require(identity)
    checks = Checks()
    checks.text("full_name", full_name, 200)
    checks.text("position", position, 200, required=False)
    checks.text("phone", phone, 30, required=False)
    checks.text("email", email, 200, required=False)
    checks.done()
    with ctx.catalog.session() as s:
        org = agency_row(s, agency)
        row = ArchiveStaff(agency_id=org.id, full_name=full_name.strip(), position=position,
                           phone=phone, email=email, since=since, active=True)
        s.add(row)
        s.flush()
        audit.record(s, identity.actor, "repository.staff_add", "archive_staff", row.id,
                     agency=agency, full_name=row.full_name, position=position)
        return StaffView(row.id, agency, row.full_name, position, phone, email, since, True)


def list_staff(ctx: ServiceContext, identity: Identity, *,
               agency: str | None = None) -> list[StaffView]:
    require(identity)
    with ctx.catalog.reading() as s:
        query = sa.select(ArchiveStaff, Agency.organ_id).join(
            Agency, Agency.id == ArchiveStaff.agency_id)
        if agency is not None:
            query = query.where(Agency.id == agency_row(s, agency).id)
        rows = s.execute(query.order_by(Agency.organ_id, ArchiveStaff.full_name)).all()
        return [StaffView(r.id, organ, r.full_name, r.position, r.phone, r.email, r.since,
                          r.active) for r, organ in rows]
