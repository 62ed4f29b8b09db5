"""Digitisation folders as a scanning room hands them over: a hồ sơ sheet and one folder of page
images per document, the pages rendered from known Vietnamese text (24-bit RGB, 200 dpi), so
a test can measure what OCR read back against what was printed."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from tests.support.sheets import HOSO

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")
FILE_CODE = "H49.64.33.2001.161"
PAPER_CODE = "TTLTNA.K1.G02.H03.161"

# what each page says: two documents, two and three pages
TEXTS: list[list[str]] = [
    ["QUYẾT ĐỊNH thành lập Sở Nội vụ tỉnh Nghệ An\nCăn cứ Luật Tổ chức chính quyền địa phương",
     "Điều 1. Thành lập Sở Nội vụ trên cơ sở\ntổ chức lại Ban Tổ chức chính quyền tỉnh"],
    ["TỜ TRÌNH về việc kiện toàn bộ máy hành chính\nỦy ban nhân dân huyện Nghi Lộc kính trình",
     "Phương án sắp xếp các phòng chuyên môn\nthuộc Ủy ban nhân dân cấp huyện",
     "Nơi nhận: Thường trực Hội đồng nhân dân\nLưu văn thư, hồ sơ lưu trữ"],
]


def render_page(path: Path, text: str, *, dpi: int = 200, mode: str = "RGB",
                fmt: str | None = None) -> Path:
    """A page of 6.2 x 3 inches with ``text`` in 16 pt serif, black on white, below the top
    inch (where the digitising archive's signature goes, top right of the first page)."""
    size = int(16 * dpi / 72)
    img = Image.new(mode, (int(6.2 * dpi), int(3 * dpi)), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(FONT), size)
    y = int(1.0 * dpi)
    for line in text.splitlines():
        draw.text((int(0.3 * dpi), y), line, fill="black", font=font)
        y += int(size * 1.6)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, format=fmt, dpi=(dpi, dpi))
    return path


def rows(file_code: str = FILE_CODE, count: int = 2, *, paper: str | None = PAPER_CODE
         ) -> list[dict[str, str]]:
    hoso = dict(HOSO, fileCode=file_code, confidenceLevel="",
                title="Hồ sơ thành lập Sở Nội vụ (bản số hóa)")
    if paper is not None:
        hoso["paperFileCode"] = paper
    docs = []
    for i in range(1, count + 1):
        docs.append({"kind": "doc", "file": f"tai-lieu-{i}", "docCode": f"{file_code}.{i:07d}",
                     "docId": f"{file_code}.{i}", "maintenance": "01", "typeName": "02",
                     "codeNumber": str(100 + i), "codeNotation": "QĐ-UBND",
                     "issuedDate": "15/03/2001", "organName": "UBND tỉnh Nghệ An",
                     "subject": f"Văn bản số hóa thứ {i}", "language": "01", "mode": "01",
                     "riskRecovery": "0"})
    return [hoso, *docs]


def write_sheet(path: Path, table: list[dict[str, str]]) -> Path:
    columns = list(dict.fromkeys(k for r in table for k in r))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, columns)
        writer.writeheader()
        writer.writerows(table)
    return path


def make_folder(root: Path, file_code: str = FILE_CODE, texts: list[list[str]] | None = None,
                *, paper: str | None = PAPER_CODE, suffixes: tuple[str, ...] = (".png", ".tif",
                                                                                 ".jpg")) -> Path:
    """The folder ``root``: ``hoso.csv`` and ``tai-lieu-N/NNN.ext`` (formats alternating)."""
    texts = TEXTS if texts is None else texts
    root.mkdir(parents=True, exist_ok=True)
    write_sheet(root / "hoso.csv", rows(file_code, len(texts), paper=paper))
    n = 0
    for i, pages in enumerate(texts, 1):
        for j, text in enumerate(pages, 1):
            suffix = suffixes[n % len(suffixes)]
            n += 1
            render_page(root / f"tai-lieu-{i}" / f"{j:03d}{suffix}", text)
    return root
