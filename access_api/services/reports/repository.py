"""Reports of the paper repository (#15), registered in ``spec.REPORTS``: the sổ nhập tài liệu
(registrations into a box and returns after a loan), the sổ xuất tài liệu (loans) and the
equipment and repository report. Rows stream from the catalog (``yield_per``); dates are shown
as DD/MM/YYYY in Vietnam's time, where the archive works."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from access_api.services.base import ServiceContext
from access_api.services.reports.spec import Column, ReportParam, ReportParams, ReportSpec, register
from preservation.catalog.models import (
    Fonds,
    PaperBox,
    PaperFile,
    PaperLoan,
    PaperRepository,
    PaperShelf,
    RepositoryEquipment,
)
from preservation.catalog.vocab import EquipmentCondition, EquipmentKind, PaperCondition
from preservation.issues import Text

ICT = dt.timezone(dt.timedelta(hours=7))
BATCH = 500
PERIOD = frozenset({ReportParam.FONDS, ReportParam.SINCE, ReportParam.UNTIL})

KINDS = {EquipmentKind.DEHUMIDIFIER: Text("Máy hút ẩm", "Dehumidifier"),
         EquipmentKind.AIR_CONDITIONER: Text("Điều hòa không khí", "Air conditioner"),
         EquipmentKind.FIRE_EXTINGUISHER: Text("Bình chữa cháy", "Fire extinguisher"),
         EquipmentKind.FIRE_ALARM: Text("Hệ thống báo cháy", "Fire alarm"),
         EquipmentKind.SHELVING: Text("Giá, tủ", "Shelving"),
         EquipmentKind.THERMOHYGROMETER: Text("Nhiệt ẩm kế", "Thermohygrometer"),
         EquipmentKind.CAMERA: Text("Camera giám sát", "Camera"),
         EquipmentKind.VENTILATION: Text("Quạt thông gió", "Ventilation"),
         EquipmentKind.OTHER: Text("Khác", "Other")}
EQUIPMENT_CONDITIONS = {EquipmentCondition.GOOD: Text("Tốt", "Good"),
                        EquipmentCondition.NEEDS_SERVICE: Text("Cần bảo dưỡng", "Needs service"),
                        EquipmentCondition.BROKEN: Text("Hỏng", "Broken"),
                        EquipmentCondition.RETIRED: Text("Đã thanh lý", "Retired")}
PAPER_CONDITIONS = {PaperCondition.GOOD: Text("Tốt", "Good"),
                    PaperCondition.WORN: Text("Bình thường, đã cũ", "Worn"),
                    PaperCondition.FADED: Text("Chữ mờ, phai màu", "Faded"),
                    PaperCondition.DAMAGED: Text("Hư hỏng", "Damaged")}
YES = Text("Có", "Yes")


def day(value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(ICT).date()
    return value.strftime("%d/%m/%Y")


def _bounds(column: Any, params: ReportParams) -> list[Any]:
    """The period ``from``–``to`` (inclusive days in Vietnam's time) on a UTC column."""
    where = []
    if params.since is not None:
        where.append(column >= dt.datetime.combine(params.since, dt.time(), ICT))
    if params.until is not None:
        where.append(column < dt.datetime.combine(params.until + dt.timedelta(days=1),
                                                  dt.time(), ICT))
    return where


def _place() -> Any:
    return (PaperRepository.code + "/" + PaperShelf.code + "/" + PaperBox.code).label("place")


def _with_place(query: sa.Select[Any], params: ReportParams) -> sa.Select[Any]:
    query = (query.join(PaperBox, PaperBox.id == PaperFile.box_id)
             .join(PaperShelf, PaperShelf.id == PaperBox.shelf_id)
             .join(PaperRepository, PaperRepository.id == PaperShelf.repository_id))
    if params.fonds is not None:
        query = query.join(Fonds, Fonds.id == PaperFile.fonds_id).where(
            Fonds.fond_code == params.fonds)
    return query


# -- sổ xuất tài liệu ---------------------------------------------------------------------------

OUT_COLUMNS = (
    Column("stt", Text("STT", "No."), 5, "right"),
    Column("out_at", Text("Ngày xuất", "Date out"), 10, "center"),
    Column("code", Text("Mã hồ sơ giấy", "Paper file code"), 18),
    Column("title", Text("Tiêu đề hồ sơ", "Title"), 30),
    Column("place", Text("Vị trí (kho/giá/hộp)", "Place"), 12),
    Column("borrower", Text("Người nhận", "Borrower"), 16),
    Column("purpose", Text("Mục đích", "Purpose"), 18),
    Column("due_on", Text("Hạn trả", "Due"), 10, "center"),
    Column("out_by", Text("Người xuất", "Lent by"), 12),
    Column("returned_at", Text("Ngày trả", "Returned"), 10, "center"),
    Column("overdue", Text("Quá hạn", "Overdue"), 8, "center"),
)


def out_rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    today = dt.datetime.now(ICT).date()
    query = _with_place(sa.select(PaperLoan, PaperFile.code, PaperFile.title, _place())
                        .join(PaperFile, PaperFile.id == PaperLoan.paper_file_id), params)
    query = query.where(*_bounds(PaperLoan.out_at, params)).order_by(PaperLoan.out_at,
                                                                      PaperLoan.id)
    with ctx.catalog.reading() as s:
        for n, (loan, code, title, place) in enumerate(
                s.execute(query.execution_options(yield_per=BATCH)), 1):
            late = loan.returned_at is None and loan.due_on < today
            yield (n, day(loan.out_at), code, title, place, loan.borrower, loan.purpose,
                   day(loan.due_on), loan.out_by, day(loan.returned_at),
                   YES.label(params.lang) if late else "")


# -- sổ nhập tài liệu ---------------------------------------------------------------------------

IN_COLUMNS = (
    Column("stt", Text("STT", "No."), 5, "right"),
    Column("in_at", Text("Ngày nhập", "Date in"), 10, "center"),
    Column("code", Text("Mã hồ sơ giấy", "Paper file code"), 18),
    Column("title", Text("Tiêu đề hồ sơ", "Title"), 30),
    Column("pages", Text("Số trang", "Pages"), 7, "right"),
    Column("source", Text("Nhập từ", "From"), 16),
    Column("reason", Text("Hình thức", "How"), 14),
    Column("condition", Text("Tình trạng vật lý", "Condition"), 12),
    Column("place", Text("Vị trí (kho/giá/hộp)", "Place"), 12),
    Column("received_by", Text("Người nhận vào kho", "Received by"), 12),
)
REGISTERED = Text("Nhập kho", "Registered")
RETURNED = Text("Trả sau khi mượn", "Returned after a loan")


def in_rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    """Registrations and returns, merged by date: two streams, each ordered by the database."""
    lang = params.lang

    def label(condition: str | None) -> str:
        return PAPER_CONDITIONS[PaperCondition(condition)].label(lang) if condition else ""

    registered = _with_place(sa.select(PaperFile, _place()), params).where(
        *_bounds(PaperFile.created_at, params)).order_by(PaperFile.created_at, PaperFile.id)
    returned = _with_place(sa.select(PaperLoan, PaperFile, _place())
                           .join(PaperFile, PaperFile.id == PaperLoan.paper_file_id), params)
    returned = returned.where(PaperLoan.returned_at.is_not(None),
                              *_bounds(PaperLoan.returned_at, params)).order_by(
        PaperLoan.returned_at, PaperLoan.id)

    def utc(value: dt.datetime) -> dt.datetime:
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

    with ctx.catalog.reading() as s:
        first = ((utc(p.created_at), 0, p.id, day(p.created_at), p.code, p.title, p.page_count,
                  "", REGISTERED.label(lang), label(p.condition), place, p.registered_by)
                 for p, place in s.execute(registered.execution_options(yield_per=BATCH)))
        second = ((utc(loan.returned_at), 1, loan.id, day(loan.returned_at), p.code, p.title,
                   p.page_count, loan.borrower, RETURNED.label(lang),
                   label(loan.return_condition or p.condition), place, loan.returned_by or "")
                  for loan, p, place in s.execute(returned.execution_options(yield_per=BATCH)))
        for n, row in enumerate(heapq.merge(first, second, key=lambda r: r[:3]), 1):
            yield (n, *row[3:])


# -- thiết bị và kho ----------------------------------------------------------------------------

EQUIPMENT_COLUMNS = (
    Column("stt", Text("STT", "No."), 5, "right"),
    Column("repository", Text("Kho", "Repository"), 16),
    Column("area_m2", Text("Diện tích (m²)", "Area (m²)"), 8, "right"),
    Column("shelves", Text("Số giá", "Shelves"), 6, "right"),
    Column("boxes", Text("Số hộp", "Boxes"), 6, "right"),
    Column("files", Text("Số hồ sơ giấy", "Paper hồ sơ"), 8, "right"),
    Column("equipment", Text("Thiết bị", "Equipment"), 18),
    Column("kind", Text("Loại", "Kind"), 12),
    Column("quantity", Text("Số lượng", "Quantity"), 6, "right"),
    Column("condition", Text("Tình trạng", "Condition"), 10),
    Column("last_service_on", Text("Bảo dưỡng gần nhất", "Last service"), 10, "center"),
    Column("next_service_on", Text("Hạn bảo dưỡng", "Next service"), 10, "center"),
    Column("overdue", Text("Quá hạn", "Overdue"), 7, "center"),
)


def equipment_rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    """One row per piece of equipment, its repository's figures repeated; a repository
    without equipment has one row of its own."""
    lang = params.lang
    today = dt.datetime.now(ICT).date()
    shelves = (sa.select(PaperShelf.repository_id.label("rid"), sa.func.count().label("n"))
               .group_by(PaperShelf.repository_id).subquery())
    boxes = (sa.select(PaperShelf.repository_id.label("rid"), sa.func.count().label("n"))
             .join(PaperBox, PaperBox.shelf_id == PaperShelf.id)
             .group_by(PaperShelf.repository_id).subquery())
    files = (sa.select(PaperShelf.repository_id.label("rid"), sa.func.count().label("n"))
             .join(PaperBox, PaperBox.shelf_id == PaperShelf.id)
             .join(PaperFile, PaperFile.box_id == PaperBox.id)
             .group_by(PaperShelf.repository_id).subquery())
    query = (sa.select(PaperRepository, sa.func.coalesce(shelves.c.n, 0),
                       sa.func.coalesce(boxes.c.n, 0), sa.func.coalesce(files.c.n, 0),
                       RepositoryEquipment)
             .outerjoin(shelves, shelves.c.rid == PaperRepository.id)
             .outerjoin(boxes, boxes.c.rid == PaperRepository.id)
             .outerjoin(files, files.c.rid == PaperRepository.id)
             .outerjoin(RepositoryEquipment,
                        RepositoryEquipment.repository_id == PaperRepository.id)
             .order_by(PaperRepository.code, RepositoryEquipment.id))
    with ctx.catalog.reading() as s:
        for n, (repo, n_shelves, n_boxes, n_files, eq) in enumerate(
                s.execute(query.execution_options(yield_per=BATCH)), 1):
            head = (n, f"{repo.code} — {repo.name}", f"{repo.area_m2:g}", n_shelves, n_boxes,
                    n_files)
            if eq is None:
                yield (*head, "", "", "", "", "", "", "")
                continue
            late = (eq.next_service_on is not None and eq.next_service_on < today
                    and eq.condition != EquipmentCondition.RETIRED)
            yield (*head, eq.label, KINDS[EquipmentKind(eq.kind)].label(lang), eq.quantity,
                   EQUIPMENT_CONDITIONS[EquipmentCondition(eq.condition)].label(lang),
                   day(eq.last_service_on), day(eq.next_service_on),
                   YES.label(lang) if late else "")


SO_NHAP = register(ReportSpec(
    name="so_nhap", title=Text("Sổ nhập tài liệu", "Register of records received"),
    columns=IN_COLUMNS, rows=in_rows, accepted=PERIOD))
SO_XUAT = register(ReportSpec(
    name="so_xuat", title=Text("Sổ xuất tài liệu", "Register of records lent"),
    columns=OUT_COLUMNS, rows=out_rows, accepted=PERIOD))
THIET_BI_KHO = register(ReportSpec(
    name="thiet_bi_kho", title=Text("Báo cáo kho lưu trữ và trang thiết bị",
                                    "Repositories and their equipment"),
    columns=EQUIPMENT_COLUMNS, rows=equipment_rows))
