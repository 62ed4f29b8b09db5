"""The biên bản hủy tài liệu (minutes of the destruction, TT 06/2025) as a PDF: the national
heading, the decision it executes, every destroyed hồ sơ with its files' SHA-256, the locations
wiped and the signature blocks of the two units. ReportLab with Liberation Serif (Debian's
metric twin of Times New Roman, full Vietnamese coverage); ``invariant`` output, so the same
facts give the same bytes and a retried execution finds its own file already stored."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

FONTS = Path("/usr/share/fonts/truetype/liberation2")
_registered = False


def _fonts() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont("KhosoSerif", str(FONTS / "LiberationSerif-Regular.ttf")))
        pdfmetrics.registerFont(TTFont("KhosoSerif-Bold", str(FONTS / "LiberationSerif-Bold.ttf")))
        _registered = True


def _style(size: float = 11, bold: bool = False, align: int = 0) -> ParagraphStyle:
    return ParagraphStyle("s", fontName="KhosoSerif-Bold" if bold else "KhosoSerif",
                          fontSize=size, leading=size * 1.3, alignment=align)


def _p(text: Any, **style: Any) -> Paragraph:
    safe = str(text if text is not None else "").replace("&", "&amp;").replace(
        "<", "&lt;").replace(">", "&gt;")
    return Paragraph(safe, _style(**style))


def render(document: dict[str, Any]) -> bytes:
    """The biên bản of an executed case (``document`` is its ``case.json``)."""
    _fonts()
    out = io.BytesIO()
    pdf = SimpleDocTemplate(out, pagesize=landscape(A4), invariant=1,
                            leftMargin=15 * mm, rightMargin=15 * mm, topMargin=12 * mm,
                            bottomMargin=12 * mm, title="Biên bản hủy tài liệu hết giá trị",
                            author=document.get("archive", ""), creator="khoso")
    case = document["case"]
    decision = document["decision"]
    story: list[Any] = [
        Table([[_p(document.get("archive_name", ""), bold=True, align=1),
                _p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", bold=True, align=1)],
               ["", _p("Độc lập - Tự do - Hạnh phúc", bold=True, align=1)]],
              colWidths=[110 * mm, 150 * mm]),
        Spacer(1, 6 * mm),
        _p("BIÊN BẢN VỀ VIỆC HỦY TÀI LIỆU HẾT GIÁ TRỊ", size=14, bold=True, align=1),
        Spacer(1, 4 * mm),
        _p(f"Hồ sơ hủy: {case['title']} (mã {case['id']})"),
        _p(f"Căn cứ Quyết định số {decision['number']} ngày {decision['date']} "
           f"(người ký: {decision['signer']}; SHA-256 của tệp quyết định: {decision['sha256']})."),
        _p(f"Thời điểm thực hiện: {document['executed_at']}; người thực hiện: "
           f"{document['executed_by']}."),
        _p("Các vị trí lưu trữ đã xóa mọi bản sao, mọi phiên bản gói lưu trữ (AIP): "
           + ", ".join(document["locations"]) + ". Gói DIP dẫn xuất, bộ đệm phục vụ và chỉ mục "
           "tìm kiếm của các hồ sơ dưới đây đã được xóa."),
        _p("Bản sao trong các bộ sao lưu dự phòng xoay vòng (nếu có, ngoài các vị trí trên) "
           "chỉ mất đi khi các bộ đó hết hạn lưu giữ."),
        Spacer(1, 4 * mm),
    ]
    rows: list[list[Any]] = [[_p(h, bold=True, size=10) for h in (
        "STT", "Mã hồ sơ", "Tiêu đề hồ sơ", "Thời gian", "Thời hạn bảo quản", "Số tệp",
        "SHA-256 các tệp đã hủy")]]
    for i, stone in enumerate(document["tombstones"], 1):
        digests = ", ".join(f["sha256"][:16] + "…" for f in stone["files"][:6])
        if len(stone["files"]) > 6:
            digests += f" (+{len(stone['files']) - 6})"
        rows.append([_p(i, size=10), _p(stone["code"], size=10), _p(stone["title"], size=10),
                     _p(f"{stone['start_date']} – {stone['end_date']}", size=10),
                     _p(stone["maintenance"] + (f" ({stone['retention_years']} năm)"
                                                if stone.get("retention_years") else ""),
                        size=10),
                     _p(len(stone["files"]), size=10), _p(digests, size=8)])
    table = Table(rows, colWidths=[12 * mm, 45 * mm, 80 * mm, 35 * mm, 25 * mm, 15 * mm,
                                   55 * mm], repeatRows=1)
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story += [table, Spacer(1, 10 * mm),
              Table([[_p("ĐẠI DIỆN ĐƠN VỊ CÓ TÀI LIỆU", bold=True, align=1),
                      _p("ĐẠI DIỆN ĐƠN VỊ THỰC HIỆN HỦY", bold=True, align=1)],
                     [_p("(Ký, ghi rõ họ tên)", align=1), _p("(Ký, ghi rõ họ tên)", align=1)]],
                    colWidths=[130 * mm, 130 * mm])]
    pdf.build(story)
    return out.getvalue()
