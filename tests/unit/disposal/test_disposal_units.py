"""The pure pieces of disposal: the biên bản PDF (Vietnamese text, same facts give the same
bytes), the destruction file's keys and their parsing, lock states, and a rebuild leaving
destruction files out of the strays."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

import pytest

from access_api.services.disposal.minutes import render
from access_api.services.disposal.record import case_key, decision_key, dump, minutes_key
from preservation.packaging.aip.layout import parse_disposal_key
from storage.keys import validate_key
from storage.memory import MemoryStorage
from storage.rebuild import sort_keys
from storage.retention import Retention, retention_of

CASE = "3f1c2a7e-8c1b-4f43-9a53-2c1e5d0b7a15"
NOW = dt.datetime(2026, 12, 7, 12, tzinfo=dt.UTC)


def document(title: str = "Hồ sơ về việc xây dựng trụ sở năm 2001") -> dict:
    stone = {"code": "TTLTNA.H49.64.33.2001.170", "title": title, "start_date": "02/01/2001",
             "end_date": "28/12/2001", "maintenance": "06", "retention_years": None,
             "files": [{"sha256": f"{i:064x}", "path": f"data/{i}.pdf"} for i in range(8)]}
    return {"archive": "TTLTNA", "archive_name": "Trung tâm Lưu trữ tỉnh",
            "case": {"id": CASE, "title": "Hủy tài liệu hết giá trị năm 2026"},
            "decision": {"number": "12/QĐ-SNV", "date": "2026-12-07", "signer": "Giám đốc",
                         "sha256": "ab" * 32},
            "executed_at": NOW.isoformat(), "executed_by": "luu-tru",
            "locations": ["offsite", "replica1"], "tombstones": [stone]}


def test_minutes_render_vietnamese_and_the_same_bytes_twice(tmp_path):
    first, second = render(document()), render(document())
    assert first == second and first.startswith(b"%PDF-")
    assert render(document("Khác")) != first
    path = tmp_path / "bb.pdf"
    path.write_bytes(first)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    for words in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                  "BIÊN BẢN VỀ VIỆC HỦY TÀI LIỆU HẾT GIÁ TRỊ", "12/QĐ-SNV",
                  "Hồ sơ về việc xây dựng trụ sở năm 2001", "(+2)",
                  "ĐẠI DIỆN ĐƠN VỊ THỰC HIỆN HỦY"):
        assert words in text, words


def test_markup_in_a_title_is_printed_not_interpreted():
    pdf = render(document("<b>tiêu đề</b> & <font size=99>x</font>"))
    assert pdf.startswith(b"%PDF-")


def test_destruction_file_keys_are_valid_and_parse_back():
    keys = [case_key("TTLTNA", CASE), minutes_key("TTLTNA", CASE),
            decision_key("TTLTNA", CASE, "ab" * 32)]
    for key in keys:
        assert validate_key(key) == key and parse_disposal_key(key) == CASE
    assert parse_disposal_key("TTLTNA/P623/X/v1/data/a.pdf") is None
    assert parse_disposal_key("TTLTNA/_disposal/") is None
    listing = sort_keys([*keys, "TTLTNA/stray.bin"])
    assert sorted(listing.disposal) == sorted(keys) and listing.stray == ["TTLTNA/stray.bin"]


def test_case_json_is_stable_and_keeps_vietnamese():
    data = dump({"b": "Hội đồng", "a": [1, 2]})
    assert data == dump({"a": [1, 2], "b": "Hội đồng"}) and "Hội đồng".encode() in data


@pytest.mark.parametrize(("retention", "locked"), [
    (Retention(), False),
    (Retention(until=NOW + dt.timedelta(seconds=1)), True),
    (Retention(until=NOW), False),
    (Retention(until=NOW - dt.timedelta(days=1)), False),
    (Retention(legal_hold=True), True),
    (Retention(until=NOW - dt.timedelta(days=1), legal_hold=True), True),
])
def test_lock_states(retention, locked):
    assert retention.locked(NOW) is locked


def test_a_location_without_locks_never_reports_one():
    storage = MemoryStorage("m")
    storage.put("TTLTNA/P1/C/v1/data/a", io.BytesIO(b"x"))
    assert retention_of(storage, "TTLTNA/P1/C/v1/data/a") == Retention()
