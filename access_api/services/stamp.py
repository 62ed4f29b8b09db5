"""The mark of a dissemination copy (bản sao, TT 05 Chương VI Điều 40): "BẢN SAO" at the top
right of every page, the archive's name and the date centred at the bottom.

The mark is drawn once per page size by fpdf2 with DejaVu Sans (Vietnamese glyphs; Debian
``fonts-dejavu-core``) and laid over each page by pikepdf as a Form XObject: the page's own
content is neither rewritten nor re-encoded, and the verified original it is read from is a
cached copy, never the object in storage.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import BinaryIO

import pikepdf
from fpdf import FPDF

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
MARK = "BẢN SAO"
MARGIN = 28.0  # points from the page edge (about 1 cm)


class StampError(Exception):
    """The PDF could not be opened or stamped (encrypted, damaged): said in ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def mark_page(width: float, height: float, archive_name: str, date: dt.date) -> bytes:
    """A one-page PDF of ``width`` × ``height`` points holding only the mark."""
    pdf = FPDF(unit="pt", format=(width, height))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_page()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("DejaVu", size=10)
    pdf.text(max(width - MARGIN - pdf.get_string_width(MARK), 2), MARGIN, MARK)
    footer = f"{archive_name} — {date.strftime('%d/%m/%Y')}"
    pdf.set_font("DejaVu", size=8)
    pdf.text(max((width - pdf.get_string_width(footer)) / 2, 2), height - MARGIN / 2, footer)
    return bytes(pdf.output())


def stamp_copy(source: BinaryIO, target: BinaryIO, *, archive_name: str,
               date: dt.date) -> int:
    """Write the marked copy of the PDF ``source`` to ``target``; returns its page count."""
    try:
        with pikepdf.open(source) as pdf:
            marks: dict[tuple[float, ...], pikepdf.Pdf] = {}
            try:
                for page in pdf.pages:
                    box = [float(v) for v in page.mediabox]
                    size = (round(box[2] - box[0], 2), round(box[3] - box[1], 2))
                    if size not in marks:
                        marks[size] = pikepdf.open(io.BytesIO(mark_page(*size, archive_name,
                                                                        date)))
                    page.add_overlay(marks[size].pages[0], pikepdf.Rectangle(*box))
                pdf.save(target)
                return len(pdf.pages)
            finally:
                for mark in marks.values():
                    mark.close()
    except pikepdf.PasswordError:
        raise StampError("the PDF is encrypted (a password is needed to open it)") from None
    except (pikepdf.PdfError, ValueError, KeyError) as exc:
        raise StampError(str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__) \
            from None
