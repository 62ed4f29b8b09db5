"""Reports of this area, registered in ``spec.REPORTS`` (#15): the Danh mục tài liệu hết giá
trị (``danh_muc_het_gia_tri``, optionally of one fonds) and the destruction file of one case
(``ho_so_huy``; the case id is given as ``--hoso``, ``ReportParams.hoso``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from access_api.services.base import ServiceContext
from access_api.services.disposal.appraisal import listing_query, listing_view
from access_api.services.disposal.common import ID_FORM, record_code
from access_api.services.reports.spec import (
    Column,
    ReportParam,
    ReportParams,
    ReportSpec,
    register,
)
from preservation.catalog.models import DisposalCase, Tombstone
from preservation.catalog.vocab import DisposalReason
from preservation.errors import NotFound
from preservation.issues import Text

REASONS = {DisposalReason.EXPIRED: Text("Hết thời hạn bảo quản", "Retention expired"),
           DisposalReason.DUPLICATE_SHA256: Text("Trùng lặp (cùng nội dung tệp)",
                                                 "Duplicate (same file contents)"),
           DisposalReason.DUPLICATE_METADATA: Text("Trùng lặp (cùng số, ký hiệu, cơ quan, ngày)",
                                                   "Duplicate (same number, notation, organ, "
                                                   "date)")}
STT = Column("stt", Text("STT", "No."), 6, "center")
CODE = Column("code", Text("Mã hồ sơ", "File code"), 24)
TITLE = Column("title", Text("Tiêu đề hồ sơ", "Title"), 50)
DATES = Column("dates", Text("Thời gian", "Dates"), 16, "center")
RETENTION = Column("retention", Text("Thời hạn bảo quản", "Retention"), 12, "center")


def _retention(maintenance: str, years: int | None) -> str:
    return maintenance + (f" ({years} năm)" if years else "")


def _listing_rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    with ctx.catalog.session() as s:
        query = listing_query(params.fonds).execution_options(yield_per=1000)
        for i, row in enumerate(s.execute(query), 1):
            v = listing_view(row)
            reason = REASONS[DisposalReason(v.reason)].label(params.lang)
            if v.detail.get("duplicate_of"):
                reason += f": {v.detail['duplicate_of']}"
            yield (i, v.code, v.title, f"{v.start_date} – {v.end_date}",
                   _retention(v.maintenance, v.retention_years), v.expires_on or "", reason,
                   v.case or "")


def _case(s: Any, case_id: str | None) -> DisposalCase:
    case = s.get(DisposalCase, case_id) if case_id and ID_FORM.fullmatch(case_id) else None
    if case is None:
        raise NotFound("DES001", id=(case_id or "")[:100])
    return case


def _case_rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    """The tombstones of an executed case; the proposed list of one not yet executed."""
    with ctx.catalog.session() as s:
        case = _case(s, params.hoso)
        stones = s.scalars(sa.select(Tombstone).where(Tombstone.case_id == case.id)
                           .order_by(Tombstone.id)).all()
        if stones:
            for i, t in enumerate(stones, 1):
                yield (i, t.arc_file_code or t.file_code, t.title,
                       f"{t.start_date} – {t.end_date}",
                       _retention(t.maintenance, t.retention_years), len(t.files),
                       ", ".join(sorted(t.locations)))
            return
        for i, item in enumerate(case.items, 1):
            rf = item.record_file
            yield (i, record_code(rf), rf.title, f"{rf.start_date} – {rf.end_date}",
                   _retention(rf.maintenance, rf.retention_years), "", "")


def _case_preamble(ctx: ServiceContext, params: ReportParams) -> list[str]:
    with ctx.catalog.session() as s:
        case = _case(s, params.hoso)
        lines = [f"{case.title} ({case.id})", f"Bản thuyết minh: {case.explanation}",
                 f"Người đề nghị: {case.proposer}"]
        lines += [f"Hội đồng xét hủy — {m.username}: {m.opinion or 'chưa có ý kiến'}"
                  + (f" ({m.comment})" if m.comment else "") for m in case.council]
        lines += [f"Quyết định số {d['number']} ngày {d['date']}, ký bởi {d['signer']}"
                  for d in case.decisions or []]
        if case.executed_at is not None:
            lines.append(f"Đã thực hiện hủy: {case.executed_at.isoformat()} bởi "
                         f"{case.executed_by}; hồ sơ hủy lưu tại {case.record_key}")
        return lines


register(ReportSpec(
    name="danh_muc_het_gia_tri",
    title=Text("Danh mục tài liệu hết giá trị", "List of records of no further value"),
    columns=(STT, CODE, TITLE, DATES, RETENTION,
             Column("expires_on", Text("Hết hạn ngày", "Expired on"), 12, "center"),
             Column("reason", Text("Lý do", "Reason"), 24),
             Column("case", Text("Hồ sơ hủy", "Destruction case"), 18)),
    rows=_listing_rows,
    accepted=frozenset({ReportParam.FONDS}),
))

register(ReportSpec(
    name="ho_so_huy",
    title=Text("Hồ sơ hủy tài liệu hết giá trị", "Destruction file"),
    columns=(STT, CODE, TITLE, DATES, RETENTION,
             Column("files", Text("Số tệp đã hủy", "Files destroyed"), 10, "right"),
             Column("locations", Text("Vị trí lưu trữ đã xóa", "Locations wiped"), 24)),
    rows=_case_rows,
    required=frozenset({ReportParam.HOSO}),
    own_hoso=True,
    preamble=_case_preamble,
    signers=(Text("Đại diện đơn vị có tài liệu", "For the unit owning the records"),
             Text("Đại diện đơn vị thực hiện hủy", "For the unit destroying them")),
))
