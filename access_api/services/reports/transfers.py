"""Reports of this area, registered in ``spec.REPORTS`` (#15): the biên bản giao nhận of one
transfer (NĐ 30/2020/NĐ-CP Phụ lục V: tên khối tài liệu, thời gian, tổng số hồ sơ, tổng số
tệp, tình trạng, mục lục hồ sơ nộp lưu kèm theo). ``--hoso`` names the transfer: its id, or a
hồ sơ's arcFileCode (the latest transfer holding it)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from access_api.services.base import Identity, ServiceContext
from access_api.services.reports.spec import Column, ReportParam, ReportParams, ReportSpec, register
from access_api.services.transfers import find_transfer, handover, handover_rows
from preservation.issues import Text

COLUMNS = (
    Column("stt", Text("STT", "No."), 5, "right"),
    Column("arcFileCode", Text("Mã hồ sơ bên giao", "Sender's code"), 22),
    Column("remote_arcFileCode", Text("Mã hồ sơ bên nhận", "Receiver's code"), 22),
    Column("title", Text("Tiêu đề hồ sơ", "Title"), 40),
    Column("period", Text("Thời gian", "Dates"), 14),
    Column("total_doc", Text("Số tài liệu", "Documents"), 8, "right"),
    Column("files", Text("Số tệp", "Files"), 7, "right"),
    Column("status", Text("Tình trạng", "Status"), 12),
)


def _rows(ctx: ServiceContext, params: ReportParams) -> Iterator[Sequence[Any]]:
    return handover_rows(ctx, find_transfer(ctx, params.hoso or ""))


def _preamble(ctx: ServiceContext, params: ReportParams) -> list[str]:
    h = handover(ctx, Identity.system("khoso-report"), find_transfer(ctx, params.hoso or ""))
    t = h.transfer
    if params.lang == "en":
        return [f"Handed over by: {h.sender}", f"Received by: {h.receiver}",
                f"Body of records: {t.title} (fonds {t.fonds})", f"Dates of the records: {h.period}",
                f"Total hồ sơ: {len(t.items)}", f"Total files: {sum(i.files for i in t.items)}",
                f"Condition: {h.condition}", "The list of transferred hồ sơ is attached below."]
    return [f"Bên giao: {h.sender}", f"Bên nhận: {h.receiver}",
            f"Tên khối tài liệu giao nộp: {t.title} (phông {t.fonds})",
            f"Thời gian của hồ sơ, tài liệu: {h.period}", f"Tổng số hồ sơ: {len(t.items)}",
            f"Tổng số tệp tin trong hồ sơ: {sum(i.files for i in t.items)}",
            f"Tình trạng tài liệu giao nộp: {h.condition}",
            "Mục lục hồ sơ, tài liệu nộp lưu kèm theo (dưới đây)."]


BIEN_BAN_GIAO_NHAN = register(ReportSpec(
    name="bien_ban_giao_nhan",
    title=Text("Biên bản giao nhận hồ sơ, tài liệu", "Hand-over record of a transfer"),
    columns=COLUMNS, rows=_rows, required=frozenset({ReportParam.HOSO}), own_hoso=True,
    preamble=_preamble,
    signers=(Text("ĐẠI DIỆN BÊN GIAO", "FOR THE SENDER"),
             Text("ĐẠI DIỆN BÊN NHẬN", "FOR THE RECEIVER")),
))
