"""The receipt (biên bản giao nhận) of an accepted submission as an A4 PDF, in Vietnamese with
the national heading, the parties, the package and a table of every file with its SHA-256.

DejaVu Sans carries every Vietnamese letter; the fonts are the Debian package's (fonts-dejavu,
installed by ``docker/install-debian-packages.sh``).
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from access_api.api.base import instant
from access_api.services.jobs import Receipt

FONTS = Path("/usr/share/fonts/truetype/dejavu")
TITLE = "BIÊN BẢN GIAO NHẬN TÀI LIỆU LƯU TRỮ ĐIỆN TỬ"
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


def _size(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def render(receipt: Receipt) -> bytes:
    accepted = receipt.accepted_at.replace(microsecond=0) if receipt.accepted_at else None
    pdf = FPDF(format="A4")
    pdf.set_title(TITLE)
    pdf.set_author(receipt.archive_name)
    pdf.set_creator("khoso")
    pdf.add_font("DejaVu", "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, 15)
    pdf.add_page()
    width = pdf.epw
    top = pdf.get_y()
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(width * 0.42, 5, receipt.archive_name.upper(), align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin + width * 0.42, top)
    pdf.multi_cell(width * 0.58, 5, f"{NATION}\n{MOTTO}", align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(8)
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(width, 7, TITLE, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("DejaVu", "", 10)
    lines = [
        ("Bên giao", f"{receipt.agency_name or '-'} (mã định danh {receipt.agency_id or '-'})"),
        ("Bên nhận", f"{receipt.archive_name} (mã {receipt.archive_code})"),
        ("Mã gói (OBJID)", receipt.objid),
        ("Mã hồ sơ lưu trữ (arcFileCode)", receipt.arc_file_code or "-"),
        ("Tiêu đề", receipt.title or "-"),
        ("Thời điểm tiếp nhận", instant(accepted) or "-"),
        ("Tổng số tệp tin", str(len(receipt.files))),
        ("Tổng dung lượng", f"{_size(receipt.total_size)} byte"),
        ("Công việc nộp lưu", f"{receipt.job_id} (người nộp: {receipt.submitted_by or '-'})"),
    ]
    for label, value in lines:
        pdf.set_font("DejaVu", "B", 10)
        pdf.cell(62, 6, f"{label}:")
        pdf.set_font("DejaVu", "", 10)
        pdf.multi_cell(width - 62, 6, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 10)
    pdf.multi_cell(width, 6, "Danh mục tệp tin giao nhận, mỗi tệp với mã băm SHA-256 "
                   "kiểm tra khi tiếp nhận:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font("DejaVu", "", 6.5)
    with pdf.table(col_widths=(8, 55, 17, 100), text_align=("CENTER", "LEFT", "RIGHT", "LEFT"),
                   line_height=4, headings_style=FontFace(emphasis="BOLD"),
                   first_row_as_headings=True) as table:
        header = table.row()
        for title in ("STT", "Tệp tin", "Dung lượng (byte)", "SHA-256"):
            header.cell(title)
        for number, item in enumerate(receipt.files, 1):
            row = table.row()
            row.cell(str(number))
            row.cell(item.path)
            row.cell(_size(item.size))
            row.cell(item.sha256)
    pdf.ln(8)
    pdf.set_font("DejaVu", "B", 10)
    y = pdf.get_y()
    pdf.multi_cell(width / 2, 6, "ĐẠI DIỆN BÊN GIAO", align="C")
    pdf.set_xy(pdf.l_margin + width / 2, y)
    pdf.multi_cell(width / 2, 6, "ĐẠI DIỆN BÊN NHẬN", align="C")
    return bytes(pdf.output())
