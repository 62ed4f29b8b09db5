"""The renderers on a synthetic sheet (no catalog): the PDF's text comes out of pdftotext with
its diacritics, its header row is on every page and its pages are numbered; the XLSX opens in
openpyxl with typed cells; the CSV has its BOM; the JSON parses."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import subprocess
import unicodedata
from pathlib import Path

import pytest
from openpyxl import load_workbook

from access_api.services.reports.render_pdf import fonts, write_pdf
from access_api.services.reports.render_text import write_csv, write_json
from access_api.services.reports.render_xlsx import write_xlsx
from access_api.services.reports.sheet import Sheet
from access_api.services.reports.spec import Column
from preservation.errors import Unavailable
from preservation.issues import Text

FONT_DIR = "/usr/share/fonts/truetype/liberation2"
COLUMNS = (Column("no", Text("STT", "No."), 6, "center"),
           Column("code", Text("Số ký hiệu hồ sơ", "File code"), 12),
           Column("title", Text("Tiêu đề hồ sơ", "Title"), 40),
           Column("papers", Text("Số tờ", "Sheets"), 8, "right"),
           Column("when", Text("Ngày", "Date"), 10, "center", wrap=False))
TITLE = "Hồ sơ về việc cấp giấy chứng nhận quyền sử dụng đất ở xã Nghi Thuận, huyện Nghi Lộc"


def rows(count: int):
    for i in range(1, count + 1):
        yield [i, f"HS-{i:06d}", f"{TITLE} số {i}", i * 3, dt.date(2024, 1, 1 + i % 28)]


def sheet(count: int, **kw) -> Sheet:
    return Sheet("muc_luc_ho_so", kw.pop("title", "Mục lục hồ sơ"),
                 "Trung tâm Lưu trữ lịch sử tỉnh Nghệ An", COLUMNS, rows(count),
                 ("Phông: Ủy ban nhân dân huyện Nghi Lộc",), **kw)


def pdf_text(path: Path, *extra: str) -> str:
    return subprocess.run(["pdftotext", *extra, str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_pdf_heading_header_on_every_page_and_page_numbers(tmp_path):
    out = tmp_path / "r.pdf"
    with out.open("wb") as f:
        assert write_pdf(sheet(120), f, font_dir=FONT_DIR) == 120
    pages = pdf_text(out).split("\f")[:-1]
    assert len(pages) >= 3
    first = unicodedata.normalize("NFC", pages[0])
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "TRUNG TÂM LƯU TRỮ LỊCH SỬ TỈNH NGHỆ AN", "MỤC LỤC HỒ SƠ",
                     "Phông: Ủy ban nhân dân huyện Nghi Lộc"):
        assert expected in first
    for n, page in enumerate(pages, 1):
        page = unicodedata.normalize("NFC", page)
        assert "Tiêu đề hồ sơ" in page and f"Trang {n}" in page
    everything = unicodedata.normalize("NFC", pdf_text(out))
    assert all(f"HS-{i:06d}" in everything for i in range(1, 121))  # no row lost at a break
    assert "Nghi Thuận" in everything and "quyền sử dụng đất" in everything
    png = subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(out)],
                         check=True, capture_output=True).stdout
    assert png.startswith(b"\x89PNG")


def test_pdf_signature_blocks_and_an_empty_report(tmp_path):
    out = tmp_path / "b.pdf"
    with out.open("wb") as f:
        write_pdf(sheet(0, signers=("Người lập biên bản", "Phụ trách bộ phận lưu trữ"),
                        place="Vinh"), f, font_dir=FONT_DIR)
    text = unicodedata.normalize("NFC", pdf_text(out))
    assert "(Không có dữ liệu)" in text
    assert "NGƯỜI LẬP BIÊN BẢN" in text and "PHỤ TRÁCH BỘ PHẬN LƯU TRỮ" in text
    assert "(Ký, ghi rõ họ tên)" in text and "Vinh, ngày" in text


def test_pdf_long_unbroken_code_wraps_inside_its_cell(tmp_path):
    long = Sheet("x", "Danh mục", "Kho", COLUMNS[:3],
                 iter([[1, "TTLTNA.P623.2024.00000000001234567890", "Tiêu đề"]]))
    out = tmp_path / "w.pdf"
    with out.open("wb") as f:
        write_pdf(long, f, font_dir=FONT_DIR)
    text = pdf_text(out, "-raw").replace("\n", "")
    assert "TTLTNA.P623.2024.00000000001234567890" in text


def test_pdf_without_its_font_is_503_rpt012(tmp_path):
    with pytest.raises(Unavailable) as caught:
        fonts(str(tmp_path))
    assert caught.value.code == "RPT012" and "LiberationSerif" in caught.value.message("vi")


def test_xlsx_opens_with_heading_header_and_typed_rows(tmp_path):
    out = tmp_path / "r.xlsx"
    with out.open("wb") as f:
        assert write_xlsx(sheet(50, signers=("Người lập",)), f) == 50
    ws = load_workbook(out).active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    flat = [v for r in values for v in r if v is not None]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat and "MỤC LỤC HỒ SƠ" in flat
    header = next(i for i, r in enumerate(values) if r[0] == "STT")
    assert values[header][:4] == ["STT", "Số ký hiệu hồ sơ", "Tiêu đề hồ sơ", "Số tờ"]
    data = values[header + 1: header + 51]
    assert [r[0] for r in data] == list(range(1, 51))
    assert data[9][1:4] == ["HS-000010", f"{TITLE} số 10", 30] and data[9][4] == "11/01/2024"
    assert ws.print_title_rows == f"${header + 1}:${header + 1}"
    assert "NGƯỜI LẬP" in flat


def test_csv_has_a_bom_and_vietnamese_headers(tmp_path):
    buf = io.BytesIO()
    assert write_csv(sheet(3), buf) == 3
    raw = buf.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert lines[0] == ["STT", "Số ký hiệu hồ sơ", "Tiêu đề hồ sơ", "Số tờ", "Ngày"]
    assert lines[2] == ["2", "HS-000002", f"{TITLE} số 2", "6", "03/01/2024"]


def test_json_rows_keyed_by_column(tmp_path):
    buf = io.BytesIO()
    assert write_json(sheet(2, lang="en"), buf) == 2
    doc = json.loads(buf.getvalue())
    assert doc["count"] == 2 and doc["report"] == "muc_luc_ho_so"
    assert doc["columns"][1] == {"key": "code", "label": "File code"}
    assert doc["rows"][1] == {"no": 2, "code": "HS-000002", "title": f"{TITLE} số 2",
                              "papers": 6, "when": "2024-01-03"}
    empty = io.BytesIO()
    write_json(sheet(0), empty)
    assert json.loads(empty.getvalue())["rows"] == []
