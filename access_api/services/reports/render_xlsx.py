"""XLSX through openpyxl's write-only workbook: rows go to disk as they come, so a register of
100,000 hồ sơ needs no more memory than one of ten. The heading and the signature blocks are
cells above and below the table; printing is A4 landscape with the header row repeated."""

from __future__ import annotations

from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

from access_api.services.reports.sheet import NATIONAL, Sheet, text

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
FONT = "Times New Roman"
INVALID_TITLE = str.maketrans({c: " " for c in "[]:*?/\\"})


def _cell(ws: WriteOnlyWorksheet, value: Any, **style: Any) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    for key, item in style.items():
        setattr(cell, key, item)
    return cell


def _value(value: Any) -> Any:
    """Numbers stay numbers (the spreadsheet sums them); dates read dd/mm/yyyy as on the
    printed forms; text is NFC."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return text(value)


def write_xlsx(sheet: Sheet, out: BinaryIO) -> int:
    """Write ``sheet`` as one worksheet into ``out``; returns the number of rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet.name.translate(INVALID_TITLE)[:31] or "report")
    n = len(sheet.columns)
    for i, col in enumerate(sheet.columns, 1):
        ws.column_dimensions[get_column_letter(i)].width = max(6.0, float(col.width))
    right = max(n // 2 + 1, 2) if n > 1 else 1
    bold = Font(name=FONT, bold=True, size=12)

    def spaced(left: Any, at: int, value: Any) -> list[Any]:
        row: list[Any] = [left] + [None] * (max(n, at) - 1)
        row[at - 1] = value
        return row

    ws.append(spaced(_cell(ws, sheet.archive_name.upper(), font=bold), right,
                     _cell(ws, NATIONAL[0], font=bold)))
    ws.append(spaced(None, right, _cell(ws, NATIONAL[1], font=Font(name=FONT, bold=True,
                                                                   size=12, underline="single"))))
    ws.append([])
    ws.append([_cell(ws, sheet.title.upper(), font=Font(name=FONT, bold=True, size=14))])
    for line in sheet.preamble:
        ws.append([_cell(ws, text(line), font=Font(name=FONT, italic=True, size=12))])
    ws.append([])
    header_row = 6 + len(sheet.preamble)
    head_style = {"font": Font(name=FONT, bold=True, size=11), "border": BOX,
                  "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True),
                  "fill": PatternFill("solid", fgColor="DDDDDD")}
    ws.append([_cell(ws, label, **head_style) for label in sheet.labels()])
    ws.freeze_panes = f"A{header_row + 1}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape" if sheet.landscape else "portrait"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddFooter.center.text = ("Trang &P / &N" if sheet.lang == "vi" else "Page &P / &N")
    count = 0
    for values in sheet.rows:
        ws.append([_value(v) for v in values])
        count += 1
    if sheet.signers:
        ws.append([])
        place = sheet.place or "…………"
        ws.append(spaced(None, max(n, 1), _cell(ws, f"{place}, ngày …… tháng …… năm ……",
                                                 font=Font(name=FONT, italic=True, size=12))))
        step = max(n // len(sheet.signers), 1)
        signers: list[Any] = [None] * max(n, step * len(sheet.signers))
        hints: list[Any] = list(signers)
        for i, signer in enumerate(sheet.signers):
            signers[i * step] = _cell(ws, signer.upper(), font=bold)
            hints[i * step] = _cell(ws, "(Ký, ghi rõ họ tên)",
                                    font=Font(name=FONT, italic=True, size=11))
        ws.append(signers)
        ws.append(hints)
    wb.save(out)
    return count
