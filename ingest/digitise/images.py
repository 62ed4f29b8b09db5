"""Checks on page images before digitisation (TT 05/2025/TT-BNV Điều 8): every problem of every
page is collected and refused at once, so an operator rescans once.

Decisions written down here:
- Only 24-bit RGB (8 bits per channel) is accepted. TT 05 asks for "colour as the original, bit
  depth ≥ 24-bit": a greyscale (8-bit) or bitonal (1-bit) scan is below 24 bits whatever the
  original looks like, so it is refused (DIG007); a grey original scanned in colour stays grey.
- A page whose EXIF/TIFF orientation asks a viewer to turn it is refused (DIG021): the PDF page,
  the OCR and the signature's top-right corner must all see the same upright page.
- Alpha channels are refused (DIG008): a scan has none and img2pdf cannot embed one losslessly.
- A page is decoded in full: that is the only way to find a truncated JPEG/PNG/TIFF (DIG004).
  The pixel count is checked from the header before decoding (DIG009), and Pillow's own
  decompression-bomb guard is set to the same limit.
- Numbered series: when every file name ends in a number (``p001.tif``, ``hs12_3.jpg``) the
  numbers must rise by exactly one in the order given (DIG011 names a missing page, DIG012 one
  out of order); names without numbers are taken in the order given.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from PIL import Image

from preservation.errors import ValidationFailed
from preservation.issues import Report

MIN_DPI = 200  # administrative documents (TT 05 Điều 8)
MIN_DPI_DRAWINGS = 300  # maps and technical drawings (bản đồ, bản vẽ)


class PageFormat(StrEnum):
    TIFF = "TIFF"
    JPEG = "JPEG"
    PNG = "PNG"


@dataclass(frozen=True, slots=True)
class PageImage:
    """One checked page: what the PDF page and the PREMIS event will say about it."""

    path: Path
    format: PageFormat
    width: int
    height: int
    dpi: tuple[float, float]


@dataclass(frozen=True, slots=True)
class PageLimits:
    min_dpi: int = MIN_DPI
    max_pages: int = 2000
    max_page_pixels: int = 150_000_000


_NUMBER = re.compile(r"(\d+)$")
_ORIENTATION = 0x0112  # EXIF/TIFF Orientation: 1 is "as stored"


def check_pages(pages: Sequence[Path], limits: PageLimits, *, drawings: bool = False
                ) -> list[PageImage]:
    """Every page checked; raises ``ValidationFailed`` (DIG018) listing every problem."""
    report = Report()
    if not pages:
        report.add("DIG001")
        raise ValidationFailed(report, "DIG018")
    if len(pages) > limits.max_pages:
        report.add("DIG014", count=len(pages), limit=limits.max_pages)
        raise ValidationFailed(report, "DIG018")
    if limits.min_dpi < MIN_DPI:
        report.add("DIG019", "min_dpi", min_dpi=limits.min_dpi, floor=MIN_DPI)
        raise ValidationFailed(report, "DIG018")
    required = max(limits.min_dpi, MIN_DPI_DRAWINGS if drawings else MIN_DPI)
    seen: set[Path] = set()
    checked: list[PageImage] = []
    for page in pages:
        resolved = Path(page).resolve()
        if resolved in seen:
            report.add("DIG013", str(page), file=str(page))
            continue
        seen.add(resolved)
        image = _check_one(Path(page), limits, required, drawings, report)
        if image is not None:
            checked.append(image)
    _check_numbering([Path(p) for p in pages], report)
    if not report.ok:
        raise ValidationFailed(report, "DIG018")
    return checked


def _check_one(path: Path, limits: PageLimits, min_dpi: int, drawings: bool, report: Report
               ) -> PageImage | None:
    name = str(path)
    if not path.is_file():
        report.add("DIG002", name, file=name, reason="not a regular file")
        return None
    limit = _effective_limit(limits)
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; our own limit
            # (never above Pillow's refusal) is checked from the header below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return _open_and_check(path, limit, min_dpi, drawings, report)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        report.add("DIG009", name, file=name, pixels=found.group(1) if found else "?",
                   limit=limit)
    except PermissionError as exc:
        report.add("DIG002", name, file=name, reason=exc.strerror or type(exc).__name__)
    except Image.UnidentifiedImageError:
        report.add("DIG020", name, file=name)
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow signals a truncated or corrupt stream with any of these
        report.add("DIG004", name, file=name, reason=str(exc) or type(exc).__name__)
    return None


def _effective_limit(limits: PageLimits) -> int:
    pillow = Image.MAX_IMAGE_PIXELS
    return limits.max_page_pixels if pillow is None else min(limits.max_page_pixels, 2 * pillow)


def _open_and_check(path: Path, limit: int, min_dpi: int, drawings: bool, report: Report
                    ) -> PageImage | None:
    name = str(path)
    with Image.open(path) as img:
        if img.format is None or img.format not in PageFormat.__members__:
            report.add("DIG003", name, file=name, format=img.format or "?")
            return None
        page_format = PageFormat(img.format)
        width, height = img.size
        if width * height > limit:
            report.add("DIG009", name, file=name, pixels=width * height, limit=limit)
            return None
        frames = getattr(img, "n_frames", 1)
        if frames > 1:
            report.add("DIG010", name, file=name, frames=frames)
            return None
        count = len(report)
        mode = img.mode
        if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
            report.add("DIG008", name, file=name)
        elif mode != "RGB":
            report.add("DIG007", name, file=name, mode=_describe_mode(mode))
        orientation = img.getexif().get(_ORIENTATION, 1)
        if orientation not in (1, None):
            report.add("DIG021", name, file=name, orientation=orientation)
        dpi = _dpi(img)
        if dpi is None:
            report.add("DIG005", name, file=name)
        elif round(min(dpi)) < min_dpi:  # PNG stores pixels per metre: 200 dpi reads 199.9994
            report.add("DIG006", name, file=name, dpi=_shown(dpi), min_dpi=min_dpi,
                       kind="bản đồ, bản vẽ kỹ thuật" if drawings else "tài liệu hành chính",
                       kind_en="maps and technical drawings" if drawings
                       else "administrative documents")
        img.load()  # decode every byte: truncation shows only here
        if len(report) > count or dpi is None:
            return None
        return PageImage(path, page_format, width, height, dpi)


def _dpi(img: Image.Image) -> tuple[float, float] | None:
    raw = img.info.get("dpi")
    if not raw:
        return None
    try:
        x, y = float(raw[0]), float(raw[1])
    except (TypeError, ValueError, IndexError):
        return None
    if x <= 1 or y <= 1:  # JFIF "aspect ratio only" density reads as 1 (or 0) dpi
        return None
    return x, y


def _shown(dpi: tuple[float, float]) -> str:
    x, y = (round(v) for v in dpi)
    return str(x) if x == y else f"{x} × {y}"


def _describe_mode(mode: str) -> str:
    return {"L": "L (ảnh xám 8 bit)", "1": "1 (đen trắng 1 bit)", "P": "P (bảng màu 8 bit)",
            "CMYK": "CMYK", "I;16": "I;16 (ảnh xám 16 bit)", "I": "I (32 bit)",
            "F": "F (số thực)"}.get(mode, mode)


def _check_numbering(pages: list[Path], report: Report) -> None:
    numbers: list[int] = []
    for page in pages:
        found = _NUMBER.search(page.stem)
        if found is None:
            return  # not a numbered series: the caller's order is the order
        numbers.append(int(found.group(1)))
    for i in range(1, len(numbers)):
        previous, number = numbers[i - 1], numbers[i]
        if number == previous + 1:
            continue
        if number > previous + 1:
            for missing in range(previous + 1, min(number, previous + 11)):
                report.add("DIG011", str(pages[i]), missing=missing, before=pages[i - 1].name,
                           after=pages[i].name)
        else:
            report.add("DIG012", str(pages[i]), file=pages[i].name, number=number,
                       previous=previous)
