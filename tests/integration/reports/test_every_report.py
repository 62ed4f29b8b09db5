"""Every registered report (``REPORTS``: ours and, once merged, the other areas') renders in
every format from a catalog that has data; the XLSX, CSV and PDF hold the same rows as the
JSON, and the catalog lists hold exactly the catalog's rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from access_api.services.base import Identity
from access_api.services.reports import REPORTS, service
from access_api.services.reports.sheet import text
from tests.support.reports import LIMITED_TITLE, build_world, json_doc, pdf_text, xlsx_rows

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def shown(value):
    """A JSON cell as the other formats print it (an ISO date as dd/mm/yyyy)."""
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        return text(dt.date.fromisoformat(value))
    return text(value)


@pytest.fixture
def world(khoso):
    return build_world(khoso)


@pytest.fixture
def every_world(khoso):
    return build_world(khoso, every_area=True)


def rendered(world, name: str, fmt: str, **extra) -> bytes:
    out = io.BytesIO()
    spec = REPORTS[name]
    service.render(world.ctx, Identity.system("tester"), name, fmt, out,
                   **{**world.given(spec), **extra})
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_in_every_format(every_world, name, tmp_path):
    world = every_world
    spec = REPORTS[name]
    labels = [c.label("vi") for c in spec.columns]
    doc = json_doc(rendered(world, name, "json"))
    assert doc["count"] == len(doc["rows"]) > 0, f"{name}: the world gives it no rows"
    assert [c["label"] for c in doc["columns"]] == labels
    data = rendered(world, name, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == labels
    expected = lines[1:]

    sheet_rows = xlsx_rows(rendered(world, name, "xlsx"), labels)
    assert [[text(v) for v in r] for r in sheet_rows] == expected

    keys = [c.key for c in spec.columns]
    assert len(doc["rows"]) == len(expected)
    for row, printed in zip(doc["rows"], expected, strict=True):
        assert all(text(row.get(k)) == cell or shown(row.get(k)) == cell
                   for k, cell in zip(keys, printed, strict=True)), (row, printed)

    page = pdf_text(rendered(world, name, "pdf"), tmp_path)
    assert spec.title.vi.upper() in page and "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in page
    assert "Trang 1" in page
    for signer in spec.signers:
        assert signer.vi.upper() in page


def test_muc_luc_ho_so_lists_the_fonds_held_records(world):
    doc = json_doc(rendered(world, "muc_luc_ho_so", "json"))
    codes = [r["file_code"] for r in doc["rows"]]
    # sorted by code; the destroyed one is not in the list, the transferred one is, marked
    assert codes == ["H49.64.33.2012.03", "H49.64.33.2015.07", world.file_code]
    assert doc["rows"][0]["note"] == "Đã nộp lưu"
    assert doc["rows"][2]["arc_file_code"] == world.arc_file_code
    assert doc["rows"][1]["retention"] == "30 năm" and doc["rows"][1]["title"] == LIMITED_TITLE
    assert "Tổng số hồ sơ: 3" in doc["preamble"]


def test_muc_luc_van_ban_lists_the_documents_of_the_hoso(world):
    doc = json_doc(rendered(world, "muc_luc_van_ban", "json"))
    assert [r["subject"] for r in doc["rows"]] == ["Quyết định số 1", "Ảnh buổi lễ 2"]
    assert doc["rows"][0]["number"] == "1/QĐ-UBND" and doc["rows"][0]["issued"] == "2001-03-15"
    by_file_code = json_doc(rendered(world, "muc_luc_van_ban", "json", hoso=world.file_code))
    assert by_file_code["rows"] == doc["rows"]


def test_limited_term_and_permanent_lists(world):
    limited = json_doc(rendered(world, "danh_muc_co_thoi_han", "json"))
    assert [r["title"] for r in limited["rows"]] == [LIMITED_TITLE]
    assert limited["rows"][0]["expires"] == "2045-12-31"
    later = json_doc(rendered(world, "danh_muc_co_thoi_han", "json", since="2046-01-01"))
    assert later["rows"] == []
    permanent = json_doc(rendered(world, "danh_muc_vinh_vien", "json", fonds="P623"))
    assert [r["file_code"] for r in permanent["rows"]] == ["H49.64.33.2012.03", world.file_code]


def test_registers_follow_the_period(world):
    backups = json_doc(rendered(world, "nhat_ky_sao_luu", "json"))
    assert backups["count"] >= 2  # one copy per replica at ingest, one repair
    assert json_doc(rendered(world, "nhat_ky_sao_luu", "json", until="2000-01-01"))["rows"] == []
    incidents = json_doc(rendered(world, "bien_ban_xu_ly_su_co", "json"))
    assert incidents["count"] == 1 and "tai-lieu-1.pdf" in incidents["rows"][0]["object"]
    access = json_doc(rendered(world, "so_khai_thac", "json"))
    assert [r["action"] for r in access["rows"]] == ["Tải tệp"]
    assert access["rows"][0]["title"].startswith("Hồ sơ về việc thành lập Sở Nội vụ")


def test_a_file_code_in_two_fonds_needs_the_fonds(world, khoso):
    import sqlalchemy as sa

    from preservation.catalog import registry
    from preservation.catalog.models import ArchiveBody, RecordFile
    from preservation.errors import KhosoError, NotFound

    with khoso.catalog.session() as s:
        body = s.scalars(sa.select(ArchiveBody)).first()
        other = registry.add_fonds(s, body, registry.FondsInput("P700", "Phông Sở Tư pháp"))
        for fonds_id in (other.id, s.scalar(sa.select(RecordFile.fonds_id).limit(1))):
            s.add(RecordFile(fonds_id=fonds_id, file_code="HS-TRUNG", title="Hồ sơ trùng mã",
                             maintenance="01", mode="01", start_date="2001-01-01",
                             end_date="2001-12-31"))
    with pytest.raises(KhosoError) as caught:
        rendered(world, "muc_luc_van_ban", "json", hoso="HS-TRUNG")
    assert caught.value.code == "RPT008" and "P623, P700" in caught.value.message("vi")
    doc = json_doc(rendered(world, "muc_luc_van_ban", "json", hoso="HS-TRUNG", fonds="P700"))
    assert doc["rows"] == [] and any("Phông Sở Tư pháp" in line for line in doc["preamble"])
    with pytest.raises(NotFound) as missing:
        rendered(world, "muc_luc_van_ban", "json", hoso=world.arc_file_code, fonds="P700")
    assert missing.value.code == "RPT007"
