"""Rendered scans of Vietnamese administrative text (DejaVu Serif) for digitisation tests.

Each page is A4 at the requested resolution, 13 pt text, laid out as NĐ 30/2020 lays out the top
of a document; the text returned is exactly what was drawn (NFC), for CER scoring.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"
A4_INCHES = (8.27, 11.69)

PARAGRAPHS = [
    "ỦY BAN NHÂN DÂN TỈNH THÁI NGUYÊN",
    "Số: 1234/QĐ-UBND ngày 15 tháng 3 năm 2024",
    "QUYẾT ĐỊNH về việc phê duyệt kế hoạch số hóa tài liệu lưu trữ",
    "Căn cứ Luật Lưu trữ ngày 21 tháng 6 năm 2024; căn cứ Thông tư số 05/2025/TT-BNV "
    "của Bộ trưởng Bộ Nội vụ quy định về nghiệp vụ lưu trữ tài liệu số.",
    "Điều 1. Phê duyệt kế hoạch số hóa hồ sơ, tài liệu có thời hạn bảo quản vĩnh viễn "
    "của các cơ quan, tổ chức thuộc nguồn nộp lưu vào Lưu trữ lịch sử tỉnh.",
    "Điều 2. Giám đốc Sở Nội vụ chịu trách nhiệm hướng dẫn, kiểm tra việc thực hiện; "
    "bảo đảm an toàn tài liệu gốc trong quá trình số hóa.",
    "Điều 3. Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng Ủy ban nhân dân "
    "tỉnh và thủ trưởng các cơ quan có liên quan chịu trách nhiệm thi hành.",
]


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if font.getlength(trial) <= width or not current:
            current = trial
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def render_page(out: Path, page_no: int, *, dpi: int = 200, mode: str = "RGB",
                fmt: str | None = None, paragraphs: list[str] | None = None) -> str:
    """Write one page image to ``out`` and return the text drawn (lines joined by newlines)."""
    width, height = (round(A4_INCHES[0] * dpi), round(A4_INCHES[1] * dpi))
    img = Image.new("RGB", (width, height), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, size=round(13 * dpi / 72))
    margin = round(dpi * 0.9)
    # the first paragraph moved down: the top right corner is where the signature goes
    y = round(dpi * 1.4)
    drawn: list[str] = []
    for paragraph in (paragraphs or PARAGRAPHS) + [f"Trang {page_no}"]:
        for line in _wrap(unicodedata.normalize("NFC", paragraph), font, width - 2 * margin):
            draw.text((margin, y), line, font=font, fill=(20, 20, 30))
            drawn.append(line)
            y += round(font.size * 1.5)
        y += round(font.size * 0.5)
    if mode != "RGB":
        img = img.convert(mode)
    img.save(out, format=fmt, dpi=(dpi, dpi))
    return "\n".join(drawn)
