"""PDF as archivists print a register: A4 (landscape for tables), the agency's name beside the
national heading, the title and the preamble, a table whose header row is repeated on every
page, page numbers, and signature blocks under a biên bản.

Drawn on the canvas page by page (no platypus story of 100,000 flowables), so memory stays
flat; the font is Liberation Serif (Times New Roman's metric twin, every Vietnamese letter)."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfdoc import PDFArray, PDFName, PDFStream
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

from access_api.services.reports.sheet import NATIONAL, Sheet, text
from preservation.errors import Unavailable

REGULAR, BOLD, ITALIC = "khoso-serif", "khoso-serif-bold", "khoso-serif-italic"
FILES = {REGULAR: "LiberationSerif-Regular.ttf", BOLD: "LiberationSerif-Bold.ttf",
         ITALIC: "LiberationSerif-Italic.ttf"}
SIZE, LEADING, PAD = 10.0, 12.0, 3.0
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 20 * mm, 15 * mm, 15 * mm, 15 * mm
FOOTER = 8 * mm
SIGNATURE_HEIGHT = 40 * mm


@cache
def fonts(folder: str) -> tuple[str, str, str]:
    """Register the three faces from ``folder`` once per process; 503 RPT012 when missing."""
    names = {}
    for name, file in FILES.items():
        path = Path(folder) / file
        try:
            font = TTFont(f"{name}-{hashlib.sha256(folder.encode()).hexdigest()[:8]}", str(path))
        except (OSError, TTFError) as exc:
            raise Unavailable("RPT012", file=str(path), reason=type(exc).__name__) from None
        pdfmetrics.registerFont(font)
        names[name] = font.fontName
    return names[REGULAR], names[BOLD], names[ITALIC]


def _compact(canvas: Canvas) -> None:
    """Compress the page just finished now rather than at ``save``: reportlab keeps every
    page's drawing operators as text until then (2026-12-07, bench_reports.py: peak RSS 153 MB
    for 10,000 rows and 406 MB for 100,000 before, 135 MB and 270 MB after). Internals of
    reportlab 4; when they differ the page is left as it was (compressed at save)."""
    try:
        page = canvas._doc.Pages.pages[-1]
        stream = page.stream
    except (AttributeError, IndexError):
        return
    if not stream or page.Contents:
        return
    data = stream.encode("utf8") if isinstance(stream, str) else stream
    compressed = PDFStream(content=zlib.compress(data), filters=[])
    compressed.dictionary["Filter"] = PDFArray([PDFName("FlateDecode")])
    page.Contents, page.stream = compressed, None


class Widths:
    """Text widths in one font from its glyph widths, each word measured once: reportlab's
    ``stringWidth`` for a TrueType font is pure Python per character, and a register of
    100,000 hồ sơ repeats the same few thousand Vietnamese syllables (2026-12-07, bench_reports
    with 10,000 rows: the PDF in 33.9 s instead of 43.8 s)."""

    LIMIT = 100_000

    def __init__(self, font: str) -> None:
        face = pdfmetrics.getFont(font).face
        self.glyphs: dict[int, float] = face.charWidths
        self.default = float(face.defaultWidth)
        self.words: dict[str, float] = {}

    def units(self, word: str) -> float:
        found = self.words.get(word)
        if found is None:
            found = sum(self.glyphs.get(ord(c), self.default) for c in word)
            if len(self.words) < self.LIMIT:
                self.words[word] = found
        return found

    def of(self, value: str, size: float) -> float:
        return sum(self.units(w) for w in value.split(" ")) * size / 1000 + (
            value.count(" ") * self.units(" ") * size / 1000)


def wrap(value: str, widths: Widths, size: float, width: float) -> list[str]:
    """Lines of ``value`` that fit ``width``: at spaces, and inside a word too long for the
    column (an archival code) so nothing spills into the next cell."""
    room = width * 1000 / size
    space = widths.units(" ")
    out: list[str] = []
    for paragraph in value.split("\n"):
        line, used = "", 0.0
        for word in paragraph.split(" "):
            w = widths.units(word)
            if w > room:  # cut the word where it reaches the edge
                if line:
                    out.append(line)
                piece, used = "", 0.0
                for c in word:
                    cw = widths.glyphs.get(ord(c), widths.default)
                    if piece and used + cw > room:
                        out.append(piece)
                        piece, used = "", 0.0
                    piece, used = piece + c, used + cw
                line = piece
            elif not line:
                line, used = word, w
            elif used + space + w <= room:
                line, used = f"{line} {word}", used + space + w
            else:
                out.append(line)
                line, used = word, w
        out.append(line)
    return out


@dataclass
class _Pen:
    canvas: Canvas
    sheet: Sheet
    regular: str
    bold: str
    italic: str
    width: float
    height: float
    widths: list[float]
    page: int = 1
    metrics: dict[str, Widths] = field(default_factory=dict)

    def measure(self, font: str) -> Widths:
        if font not in self.metrics:
            self.metrics[font] = Widths(font)
        return self.metrics[font]

    @property
    def left(self) -> float:
        return MARGIN_LEFT

    @property
    def usable(self) -> float:
        return self.width - MARGIN_LEFT - MARGIN_RIGHT

    def lines(self, value: str, font: str, width: float, size: float = SIZE) -> list[str]:
        return wrap(value, self.measure(font), size, max(width - 2 * PAD, 10))

    def centred(self, y: float, value: str, font: str, size: float, x: float | None = None,
                width: float | None = None) -> float:
        """Draw ``value`` wrapped and centred in ``[x, x+width]``; returns the y below it."""
        x = self.left if x is None else x
        width = self.usable if width is None else width
        self.canvas.setFont(font, size)
        for line in wrap(value, self.measure(font), size, width):
            self.canvas.drawCentredString(x + width / 2, y - size, line)
            y -= size * 1.25
        return y

    def heading(self) -> float:
        """The agency's name (left) beside the national heading (right), then the title and
        the preamble; returns where the table starts."""
        top = self.height - MARGIN_TOP
        left_w = self.usable * 0.4
        right_x, right_w = self.left + left_w, self.usable - left_w
        y_left = self.centred(top, self.sheet.archive_name.upper(), self.bold, 11, self.left, left_w)
        self.canvas.line(self.left + left_w / 2 - 15 * mm, y_left - 1,
                         self.left + left_w / 2 + 15 * mm, y_left - 1)
        y_right = self.centred(top, NATIONAL[0], self.bold, 11, right_x, right_w)
        y_right = self.centred(y_right, NATIONAL[1], self.bold, 12, right_x, right_w)
        half = pdfmetrics.stringWidth(NATIONAL[1], self.bold, 12) / 2
        centre = right_x + right_w / 2
        self.canvas.line(centre - half, y_right - 1, centre + half, y_right - 1)
        y = min(y_left, y_right) - 8 * mm
        y = self.centred(y, self.sheet.title.upper(), self.bold, 14)
        for line in self.sheet.preamble:
            y = self.centred(y, text(line), self.italic, 11)
        return y - 4 * mm

    def layout(self, cells: Sequence[str], font: str, *, header: bool = False
               ) -> tuple[list[list[str]], float]:
        """Each cell's lines, and the row's height."""
        wrapped = []
        room = int((self.height - MARGIN_TOP - MARGIN_BOTTOM - FOOTER - 4 * LEADING) // LEADING)
        for value, col, width in zip(cells, self.sheet.columns, self.widths, strict=False):
            lines = (self.lines(value, font, width) if col.wrap or header
                     else [self.clipped(value, font, width)])
            if len(lines) > room:  # a cell longer than a page is cut, and says so
                lines = [*lines[: room - 1], lines[room - 1] + " …"]
            wrapped.append(lines)
        return wrapped, max(len(lines) for lines in wrapped) * LEADING + 2 * PAD

    def row(self, y: float, cells: Sequence[str], font: str, *, header: bool = False,
            laid: tuple[list[list[str]], float] | None = None) -> float:
        """One table row at ``y`` (its top); returns its bottom."""
        wrapped, height = laid or self.layout(cells, font, header=header)
        x = self.left
        c = self.canvas
        measure = self.measure(font)
        out = c.beginText()  # one text object per row: drawString makes one per line
        out.setFont(font, SIZE)
        for lines, col, width in zip(wrapped, self.sheet.columns, self.widths, strict=False):
            c.rect(x, y - height, width, height)
            align = "center" if header else col.align
            for i, line in enumerate(lines):
                if not line:
                    continue
                base = y - PAD - (i + 1) * LEADING + 2.5
                if align == "center":
                    left = x + (width - measure.of(line, SIZE)) / 2
                elif align == "right":
                    left = x + width - PAD - measure.of(line, SIZE)
                else:
                    left = x + PAD
                out.setTextOrigin(left, base)
                out.textOut(line)
            x += width
        c.drawText(out)
        return y - height

    def clipped(self, value: str, font: str, width: float) -> str:
        """A cell that does not wrap, cut to its column with an ellipsis."""
        room = width - 2 * PAD
        measure = self.measure(font)
        if measure.of(value, SIZE) <= room:
            return value
        while value and measure.of(value + "…", SIZE) > room:
            value = value[:-1]
        return value + "…"

    def footer(self) -> None:
        self.canvas.setFont(self.regular, 9)
        label = "Trang" if self.sheet.lang == "vi" else "Page"
        self.canvas.drawCentredString(self.width / 2, MARGIN_BOTTOM - 2 * mm, f"{label} {self.page}")

    def new_page(self) -> float:
        self.footer()
        self.canvas.showPage()
        _compact(self.canvas)
        self.page += 1
        return self.row(self.height - MARGIN_TOP, self.sheet.labels(), self.bold, header=True)

    def signatures(self, y: float) -> None:
        if y - SIGNATURE_HEIGHT < MARGIN_BOTTOM + FOOTER:
            self.footer()
            self.canvas.showPage()
            _compact(self.canvas)
            self.page += 1
            y = self.height - MARGIN_TOP
        place = self.sheet.place or "…………"
        date = (f"{place}, ngày …… tháng …… năm ……" if self.sheet.lang == "vi"
                else f"{place}, date ……………")
        self.canvas.setFont(self.italic, 11)
        self.canvas.drawRightString(self.left + self.usable, y - 16, date)
        y -= 10 * mm
        width = self.usable / len(self.sheet.signers)
        for i, signer in enumerate(self.sheet.signers):
            x = self.left + i * width
            below = self.centred(y, signer.upper(), self.bold, 11, x, width)
            self.centred(below, "(Ký, ghi rõ họ tên)" if self.sheet.lang == "vi"
                         else "(Signature and full name)", self.italic, 10, x, width)


def write_pdf(sheet: Sheet, out: BinaryIO, *, font_dir: str) -> int:
    """Draw ``sheet`` into ``out``; returns the number of rows."""
    regular, bold, italic = fonts(font_dir)
    width, height = landscape(A4) if sheet.landscape else A4
    canvas = Canvas(out, pagesize=(width, height), pageCompression=1, invariant=False)
    canvas.setTitle(sheet.title)
    canvas.setAuthor(sheet.archive_name)
    canvas.setCreator("khoso")
    canvas.setLineWidth(0.5)
    usable = width - MARGIN_LEFT - MARGIN_RIGHT
    total = sum(c.width for c in sheet.columns) or 1
    pen = _Pen(canvas, sheet, regular, bold, italic, width, height,
               [usable * c.width / total for c in sheet.columns])
    y = pen.row(pen.heading(), sheet.labels(), bold, header=True)
    count = 0
    for values in sheet.rows:
        cells = [text(v) for v in values]
        laid = pen.layout(cells, regular)
        if y - laid[1] < MARGIN_BOTTOM + FOOTER:
            y = pen.new_page()
        y = pen.row(y, cells, regular, laid=laid)
        count += 1
    if count == 0:
        canvas.setFont(italic, SIZE)
        canvas.drawString(MARGIN_LEFT + PAD, y - LEADING - 2,
                          "(Không có dữ liệu)" if sheet.lang == "vi" else "(No entries)")
        y -= 2 * LEADING
    if sheet.signers:
        pen.signatures(y - 4 * mm)
    pen.footer()
    canvas.showPage()
    canvas.save()
    return count


