"""The catalog's own lists and the preservation registers as reports (#15): mục lục hồ sơ (per
fonds), mục lục văn bản (per hồ sơ), the lists of limited-term and permanent records, the access
register, the backup log, the inspection and incident records.

Columns follow the archivists' printed forms (mục lục hồ sơ: STT, số ký hiệu hồ sơ, tiêu đề,
thời gian bắt đầu – kết thúc, thời hạn bảo quản, số tờ, ghi chú). Catalog lists are read with
``yield_per`` so a fonds of 100,000 hồ sơ is streamed from the database too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa

from access_api.services import registers
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.reports import lookup
from access_api.services.reports.sheet import text
from access_api.services.reports.spec import Column, ReportParam, ReportParams, ReportSpec, register
from preservation.catalog.models import Document, Fonds, RecordFile
from preservation.catalog.vocab import FileState
from preservation.issues import Text
from preservation.metadata.codelists import codelist
from storage.registers import REGISTERS, build_register

BATCH = 1000
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
Q = TypeVar("Q", bound=sa.Select)
PERMANENT = "01"
STAFF = (UserRole.ADMIN, UserRole.ARCHIVIST)
OFFICERS = (UserRole.ADMIN, UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)
STATES = {FileState.TRANSFERRED: Text("Đã nộp lưu", "Transferred"),
          FileState.REVIEW_DISPOSAL: Text("Xem xét hủy", "Under review for disposal"),
          FileState.DRAFT: Text("Bản nháp", "Draft"),
          FileState.SUBMITTED: Text("Đã nộp, chờ duyệt", "Submitted")}


def retention(code: str | None, years: int | None, lang: str) -> str:
    """The retention as printed: ``Vĩnh viễn``, ``70 năm``; code 07 with its own years."""
    if not code:
        return ""
    if code == "07" and years:
        return f"{years} năm" if lang == "vi" else f"{years} years"
    try:
        return codelist("maintenance").label(code, lang)
    except KeyError:
        return code


def day(value: str | None) -> dt.date | str:
    """A catalog date (ISO 8601 when complete) as a date, so that it prints dd/mm/yyyy; a
    partial one (``03/2001``, ``2001``) as it is."""
    if value and ISO_DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value or ""


def _label(name: str, code: str | None, lang: str) -> str:
    if not code:
        return ""
    try:
        return codelist(name).label(code, lang)
    except KeyError:
        return code


def _note(record: RecordFile, lang: str) -> str:
    parts = [STATES[FileState(record.state)].label(lang)] if record.state in STATES else []
    if record.description:
        parts.append(record.description)
    return "; ".join(parts)


def _stream(ctx: ServiceContext, query: sa.Select[Any]) -> Iterator[Any]:
    with ctx.catalog.reading() as s:
        yield from s.execute(query.execution_options(yield_per=BATCH)).scalars()


def _fonds_line(ctx: ServiceContext, code: str, lang: str) -> str:
    fonds = lookup.fonds(ctx, code)
    years = (f" ({fonds.year_from}–{fonds.year_to})" if fonds.year_from and fonds.year_to else "")
    return (f"Phông: {fonds.fond_name} (mã phông {fonds.fond_code}){years}" if lang == "vi"
            else f"Fonds: {fonds.fond_name} (code {fonds.fond_code}){years}")


def _period_line(params: ReportParams) -> list[str]:
    if params.since is None and params.until is None:
        return []
    since = params.since.strftime("%d/%m/%Y") if params.since else "…"
    until = params.until.strftime("%d/%m/%Y") if params.until else "…"
    return [f"Từ ngày {since} đến ngày {until}" if params.lang == "vi"
            else f"From {since} to {until}"]


# --- mục lục hồ sơ (per fonds) ---

MUC_LUC_HO_SO = (
    Column("no", Text("STT", "No."), 7, "center"),
    Column("file_code", Text("Số ký hiệu hồ sơ", "File code"), 22),
    Column("arc_file_code", Text("Mã hồ sơ lưu trữ", "Archival file code"), 24),
    Column("title", Text("Tiêu đề hồ sơ", "Title"), 50),
    Column("start", Text("Thời gian bắt đầu", "Start date"), 14, "center"),
    Column("end", Text("Thời gian kết thúc", "End date"), 14, "center"),
    Column("retention", Text("Thời hạn bảo quản", "Retention"), 12, "center"),
    Column("papers", Text("Số tờ", "Sheets"), 8, "right"),
    Column("documents", Text("Số văn bản (tệp)", "Documents (files)"), 10, "right"),
    Column("box", Text("Hộp/cặp số (hồ sơ giấy)", "Paper box"), 14),
    Column("note", Text("Ghi chú", "Note"), 20),
)


def _record_row(i: int, r: RecordFile, lang: str) -> list[Any]:
    return [i, r.file_code, r.arc_file_code or "", r.title, day(r.start_date), day(r.end_date),
            retention(r.maintenance, r.retention_years, lang), r.number_of_paper,
            r.total_doc, r.paper_file_code or "", _note(r, lang)]


def _held(query: Q) -> Q:
    """Hồ sơ the archive holds: a destroyed one is in the destruction file, not the lists."""
    return query.where(RecordFile.state != FileState.DESTROYED.value)


def muc_luc_ho_so_rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    fonds = lookup.fonds(ctx, params.fonds or "")
    query = _held(sa.select(RecordFile).where(RecordFile.fonds_id == fonds.id)).order_by(
        RecordFile.file_code, RecordFile.id)
    for i, r in enumerate(_stream(ctx, query), 1):
        yield _record_row(i, r, params.lang)


def _count(ctx: ServiceContext, query: sa.Select[Any]) -> int:
    with ctx.catalog.reading() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0


def muc_luc_ho_so_preamble(ctx: ServiceContext, params: ReportParams) -> list[str]:
    fonds = lookup.fonds(ctx, params.fonds or "")
    total = _count(ctx, _held(sa.select(RecordFile.id).where(RecordFile.fonds_id == fonds.id)))
    return [_fonds_line(ctx, fonds.fond_code, params.lang),
            f"Tổng số hồ sơ: {total}" if params.lang == "vi" else f"Hồ sơ: {total}"]


register(ReportSpec(
    "muc_luc_ho_so", Text("Mục lục hồ sơ", "List of files (mục lục hồ sơ)"), MUC_LUC_HO_SO,
    muc_luc_ho_so_rows, roles=STAFF, required=frozenset({ReportParam.FONDS}),
    preamble=muc_luc_ho_so_preamble))


# --- mục lục văn bản (per hồ sơ) ---

MUC_LUC_VAN_BAN = (
    Column("no", Text("STT", "No."), 7, "center"),
    Column("number", Text("Số, ký hiệu văn bản", "Number and notation"), 18),
    Column("issued", Text("Ngày tháng năm văn bản", "Date"), 12, "center"),
    Column("type", Text("Tên loại văn bản", "Document type"), 14),
    Column("subject", Text("Trích yếu nội dung", "Subject"), 50),
    Column("author", Text("Tác giả văn bản", "Issued by"), 22),
    Column("pages", Text("Số trang", "Pages"), 8, "right"),
    Column("code", Text("Mã định danh văn bản", "Document identifier"), 22),
    Column("note", Text("Ghi chú", "Note"), 16),
)


def muc_luc_van_ban_rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    record = lookup.hoso(ctx, params.hoso or "", params.fonds)
    # the document's number in its hồ sơ, else its code (which ends in that number); a
    # document without a number after the numbered ones on every database
    query = sa.select(Document).where(Document.record_file_id == record.id).order_by(
        Document.doc_ordinal.is_(None), Document.doc_ordinal, Document.doc_code, Document.id)
    lang = params.lang
    for i, d in enumerate(_stream(ctx, query), 1):
        number = "/".join(p for p in (d.code_number, d.code_notation) if p)
        subject = d.subject or d.image_title or d.movie_title or d.event_name or ""
        yield [i, number, day(d.issued_date or d.photo_time or d.record_date),
               _label("typeName", d.type_name, lang), subject, d.organ_name or d.photographer
               or d.recorder or "", d.number_of_page, d.arc_doc_code or d.doc_code or "",
               d.description or ""]


def muc_luc_van_ban_preamble(ctx: ServiceContext, params: ReportParams) -> list[str]:
    r = lookup.hoso(ctx, params.hoso or "", params.fonds)
    with ctx.catalog.reading() as s:
        fonds = s.get(Fonds, r.fonds_id)
        fond_code = fonds.fond_code if fonds else ""
    vi = params.lang == "vi"
    return [_fonds_line(ctx, fond_code, params.lang),
            (f"Hồ sơ số {r.file_code}: {r.title}" if vi else f"File {r.file_code}: {r.title}"),
            (f"Thời gian: {text(day(r.start_date))} – {text(day(r.end_date))}; thời hạn bảo quản: "
             f"{retention(r.maintenance, r.retention_years, 'vi')}" if vi else
             f"Dates: {text(day(r.start_date))} – {text(day(r.end_date))}; retention: "
             f"{retention(r.maintenance, r.retention_years, 'en')}")]


register(ReportSpec(
    "muc_luc_van_ban", Text("Mục lục văn bản", "List of documents (mục lục văn bản)"),
    MUC_LUC_VAN_BAN, muc_luc_van_ban_rows, roles=STAFF, required=frozenset({ReportParam.HOSO}),
    accepted=frozenset({ReportParam.FONDS}), preamble=muc_luc_van_ban_preamble))


# --- danh mục tài liệu bảo quản có thời hạn / vĩnh viễn ---

DANH_MUC = (
    Column("no", Text("STT", "No."), 7, "center"),
    Column("fonds", Text("Mã phông", "Fonds"), 10, "center"),
    Column("file_code", Text("Số ký hiệu hồ sơ", "File code"), 22),
    Column("title", Text("Tiêu đề hồ sơ", "Title"), 46),
    Column("start", Text("Thời gian bắt đầu", "Start date"), 14, "center"),
    Column("end", Text("Thời gian kết thúc", "End date"), 14, "center"),
    Column("retention", Text("Thời hạn bảo quản", "Retention"), 12, "center"),
    Column("expires", Text("Hết hạn bảo quản", "Retention ends"), 12, "center"),
    Column("papers", Text("Số tờ", "Sheets"), 8, "right"),
    Column("documents", Text("Số văn bản (tệp)", "Documents (files)"), 10, "right"),
    Column("note", Text("Ghi chú", "Note"), 18),
)
DANH_MUC_VINH_VIEN = (
    *DANH_MUC[:7],
    Column("origin", Text("Mức độ tin cậy", "Reliability"), 12, "center"),
    *DANH_MUC[8:],
)


def _danh_muc(ctx: ServiceContext, params: ReportParams, permanent: bool
              ) -> Iterator[Sequence[Any]]:
    query = _held(sa.select(RecordFile, Fonds.fond_code).join(Fonds, Fonds.id == RecordFile.fonds_id))
    query = query.where((RecordFile.maintenance == PERMANENT) if permanent
                        else (RecordFile.maintenance != PERMANENT))
    if params.fonds is not None:
        query = query.where(RecordFile.fonds_id == lookup.fonds(ctx, params.fonds).id)
    if not permanent:
        if params.since is not None:
            query = query.where(RecordFile.retention_expires_on >= params.since)
        if params.until is not None:
            query = query.where(RecordFile.retention_expires_on <= params.until)
    query = query.order_by(Fonds.fond_code, RecordFile.file_code, RecordFile.id)
    lang = params.lang
    with ctx.catalog.reading() as s:
        for i, (r, fond_code) in enumerate(s.execute(query.execution_options(yield_per=BATCH)), 1):
            middle = (_label("confidenceLevel", r.confidence_level, lang) if permanent
                      else r.retention_expires_on)
            yield [i, fond_code, r.file_code, r.title, day(r.start_date), day(r.end_date),
                   retention(r.maintenance, r.retention_years, lang), middle,
                   r.number_of_paper, r.total_doc, _note(r, lang)]


def _danh_muc_preamble(ctx: ServiceContext, params: ReportParams) -> list[str]:
    lines = [_fonds_line(ctx, params.fonds, params.lang)] if params.fonds else []
    return lines + _period_line(params)


register(ReportSpec(
    "danh_muc_co_thoi_han", Text("Danh mục tài liệu bảo quản có thời hạn",
                                 "List of records kept for a limited term"),
    DANH_MUC, lambda ctx, p: _danh_muc(ctx, p, False), roles=STAFF,
    accepted=frozenset({ReportParam.FONDS, ReportParam.SINCE, ReportParam.UNTIL}),
    preamble=_danh_muc_preamble, extra={"period": "hết hạn bảo quản trong khoảng / retention ends"}))
register(ReportSpec(
    "danh_muc_vinh_vien", Text("Danh mục tài liệu bảo quản vĩnh viễn",
                               "List of records kept permanently"),
    DANH_MUC_VINH_VIEN, lambda ctx, p: _danh_muc(ctx, p, True), roles=STAFF,
    accepted=frozenset({ReportParam.FONDS}), preamble=_danh_muc_preamble))


# --- sổ khai thác sử dụng (the access register) ---

ACCESS_WIDTHS = {"no": 7, "at": 16, "actor": 12, "action": 10, "object_type": 10,
                 "object_id": 24, "title": 30, "purpose": 20, "request_id": 14, "detail": 20}
ACCESS_EN = {"no": "No.", "at": "Time", "actor": "User", "action": "Use",
             "object_type": "Object type", "object_id": "Object", "title": "Title",
             "purpose": "Purpose", "request_id": "Access request", "detail": "Detail"}


def so_khai_thac_rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    """The access register of ``registers``, read a page at a time."""
    since, until = params.window()
    page = 1
    while True:
        chunk = registers.access_register(ctx, Identity.system("report"), since=since,
                                          until=until, page=page, size=BATCH)
        for row in chunk.rows:
            shown = dict(row, action=registers.ACTIONS_VI.get(row["action"], row["action"])
                         if params.lang == "vi" else row["action"],
                         detail="; ".join(f"{k}={v}" for k, v in sorted(row["detail"].items())))
            yield [shown[key] for key, _ in registers.ACCESS_COLUMNS]
        if len(chunk.rows) < BATCH:
            return
        page += 1


register(ReportSpec(
    registers.ACCESS_REGISTER, Text("Sổ khai thác sử dụng tài liệu", "Access register"),
    tuple(Column(key, Text(vi, ACCESS_EN[key]), ACCESS_WIDTHS[key],
                 "center" if key == "no" else "left") for key, vi in registers.ACCESS_COLUMNS),
    so_khai_thac_rows, roles=STAFF,
    accepted=frozenset({ReportParam.SINCE, ReportParam.UNTIL}),
    preamble=lambda ctx, p: _period_line(p)))


# --- the preservation registers of TT 05 Phụ lục VII (storage.registers) ---

SIGNERS = (Text("Người lập biên bản", "Prepared by"),
           Text("Phụ trách bộ phận lưu trữ", "Head of the archive"))
NUMERIC = {"no", "version", "objects", "bytes", "copies", "ok", "mismatch", "missing",
           "not_checked", "bad_objects"}


def _preservation_register(name: str) -> ReportSpec:
    reg = REGISTERS[name]

    def rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
        since, until = params.window()
        with ctx.catalog.reading() as s:
            built = build_register(s, name, since=since, until=until)
        for row in built:
            yield [row.get(key, "") for key, _ in reg.columns]

    columns = tuple(Column(key, Text(vi, key.replace("_", " ")),
                           8 if key in NUMERIC else 18, "right" if key in NUMERIC else "left")
                    for key, vi in reg.columns)
    return ReportSpec(name, Text(reg.title_vi, reg.title_en), columns, rows, roles=OFFICERS,
                      accepted=frozenset({ReportParam.SINCE, ReportParam.UNTIL}),
                      preamble=lambda ctx, p: _period_line(p),
                      signers=SIGNERS if name.startswith("bien_ban") else ())


for _name in REGISTERS:
    register(_preservation_register(_name))
