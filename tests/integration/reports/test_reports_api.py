"""``GET /api/v1/reports``, ``/reports/{name}`` and ``/dashboard`` through the app: the files
open, their headers name them, the roles of each report hold, bad input gets its code and
every run is in the audit log."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from access_api.services.reports import REPORTS
from preservation.catalog.models import AuditEntry, Package, RecordFile, StoredCopy
from tests.support.catalog_api import make_api
from tests.support.reports import build_world, json_doc, pdf_text, xlsx_rows
from tests.support.sips import FOND

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def world(khoso):
    built = build_world(khoso)
    return built, make_api(khoso)


def test_list_shows_each_role_its_reports(world):
    _, api = world
    archivist = {r["name"] for r in api.get("/api/v1/reports", "archivist").json["items"]}
    assert {"muc_luc_ho_so", "so_khai_thac", "nhat_ky_sao_luu"} <= archivist
    officer = {r["name"] for r in api.get("/api/v1/reports", "preservation_officer").json["items"]}
    assert "bien_ban_kiem_tra" in officer and "muc_luc_ho_so" not in officer
    assert api.get("/api/v1/reports", "reader").json["items"] == []
    assert api.get("/api/v1/reports", None).status_code == 401
    item = next(r for r in api.get("/api/v1/reports", "admin").json["items"]
                if r["name"] == "muc_luc_ho_so")
    assert item["title"] == "Mục lục hồ sơ" and item["required"] == ["fonds"]
    assert set(REPORTS) == {r["name"] for r in api.get("/api/v1/reports", "admin").json["items"]}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_format_with_its_type_and_name(world, khoso, tmp_path):
    _, api = world
    url = f"/api/v1/reports/muc_luc_ho_so?fonds={FOND}"
    got = api.get(url + "&format=xlsx", "archivist")
    assert got.status_code == 200 and got.mimetype == XLSX
    assert got.headers["Content-Disposition"] == 'attachment; filename="muc_luc_ho_so.xlsx"'
    labels = [c.label("vi") for c in REPORTS["muc_luc_ho_so"].columns]
    rows = xlsx_rows(got.data, labels)
    with khoso.catalog.session() as s:
        held = sorted(s.scalars(sa.select(RecordFile.file_code)
                                .where(RecordFile.state != "destroyed")))
    assert [r[1] for r in rows] == held
    pdf = api.get(url + "&format=pdf", "archivist")
    assert pdf.mimetype == "application/pdf"
    assert int(pdf.headers["Content-Length"]) == len(pdf.data)
    assert "MỤC LỤC HỒ SƠ" in pdf_text(pdf.data, tmp_path)
    text = api.get(url + "&format=csv", "archivist")
    assert text.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert len(list(csv.reader(io.StringIO(text.data.decode("utf-8-sig"))))) == len(held) + 1
    doc = json_doc(api.get(url, "archivist").data)
    assert [r["file_code"] for r in doc["rows"]] == held
    english = json_doc(api.get(url + "&lang=en", "archivist").data)
    assert english["title"] == "List of files (mục lục hồ sơ)"
    with khoso.catalog.session() as s:
        runs = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "report.generated")
                         ).all()
    assert [(e.actor, e.object_id, e.detail["format"]) for e in runs][:2] == [
        ("u-archivist", "muc_luc_ho_so", "xlsx"), ("u-archivist", "muc_luc_ho_so", "pdf")]
    assert runs[0].detail["fonds"] == FOND and runs[0].detail["rows"] == len(held)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_access_register_keeps_its_paged_json_and_prints(world, tmp_path):
    _, api = world
    paged = api.get("/api/v1/reports/so_khai_thac?size=10", "archivist")
    assert paged.json["total"] == 1 and paged.json["items"][0]["action"] == "download"
    printed = api.get("/api/v1/reports/so_khai_thac?format=pdf", "archivist")
    assert printed.status_code == 200 and "SỔ KHAI THÁC SỬ DỤNG" in pdf_text(printed.data,
                                                                              tmp_path)
    sheet = api.get("/api/v1/reports/so_khai_thac?format=xlsx&from=2000-01-01", "admin")
    assert sheet.status_code == 200 and sheet.mimetype == XLSX


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("url", "status", "code"), [
    ("/api/v1/reports/khong_co", 404, "RPT001"),
    ("/api/v1/reports/muc_luc_ho_so", 422, "RPT010"),
    ("/api/v1/reports/muc_luc_ho_so?fonds=KHONG", 404, "RPT006"),
    ("/api/v1/reports/muc_luc_van_ban?hoso=KHONG", 404, "RPT007"),
    ("/api/v1/reports/so_khai_thac?format=json&from=2024-02-30", 422, "API001"),
    ("/api/v1/reports/danh_muc_co_thoi_han?from=2024-02-30", 422, "RPT010"),
    ("/api/v1/reports/danh_muc_co_thoi_han?from=2024-02-02&to=2024-02-01", 422, "RPT010"),
    ("/api/v1/reports/danh_muc_vinh_vien?hoso=X", 422, "RPT010"),
    ("/api/v1/reports/muc_luc_ho_so?fonds=P623&format=docx", 422, "API001"),
    ("/api/v1/reports/muc_luc_ho_so?fonds=P623&fondz=1", 422, "API001"),
    ("/api/v1/reports/muc_luc_ho_so?fonds=" + "P" * 101, 422, "API001"),
    ("/api/v1/reports/muc_luc_van_ban?hoso=..%2F..%2Fetc%2Fpasswd", 404, "RPT007"),
    ("/api/v1/reports/%2E%2E%2Fmuc_luc_ho_so", 404, "API002"),
    ("/api/v1/reports/muc_luc_ho_so?fonds=P623&lang=fr", 422, "API001"),
])
def test_bad_input_has_its_code(world, url, status, code):
    _, api = world
    got = api.get(url, "admin")
    assert (got.status_code, got.json["code"]) == (status, code), got.json
    assert got.json["message"] and got.json["message_en"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_roles_of_each_report(world):
    _, api = world
    url = f"/api/v1/reports/muc_luc_ho_so?fonds={FOND}"
    assert api.get(url, "reader").status_code == 403
    assert api.get(url, "preservation_officer").status_code == 403
    assert api.get(url, None).status_code == 401
    assert api.get("/api/v1/reports/bien_ban_kiem_tra", "preservation_officer").status_code == 200
    assert api.get("/api/v1/reports/bien_ban_kiem_tra", "agency_submitter").status_code == 403


def test_dashboard_figures_match_the_catalog(world, khoso):
    _, api = world
    got = api.get("/api/v1/dashboard", "archivist")
    assert got.status_code == 200
    board = got.json
    # held hồ sơ: the ingested one (born digital) and the limited-term one (digitised); the
    # destroyed and the transferred ones are no longer held
    with khoso.catalog.session() as s:
        ingested = s.scalar(sa.select(RecordFile.confidence_level)
                            .where(RecordFile.arc_file_code.is_not(None)))
    assert ingested == "01"
    assert board["records"] == {"total": 2, "born_digital": 1, "digitised": 1, "mixed": 0,
                                "unrecorded": 0, "share_born_digital": 0.5,
                                "share_digitised": 0.5}
    # permanent: the ingested one (ended 2001) and the transferred one (ended 2015): both due
    assert board["transfers"] == {"years": 3, "permanent": 2, "due": 2, "transferred": 1,
                                  "share": 0.5}
    with khoso.catalog.session() as s:
        copies = s.scalars(sa.select(StoredCopy)).all()
        aips = s.scalars(sa.select(Package).where(Package.kind == "AIP")).all()
    assert board["fixity"]["copies"] == len(copies) == 2
    assert board["fixity"]["ok"] == 2 and board["fixity"]["share_ok"] == 1.0
    assert board["storage_bytes"] == sum(c.size for c in copies)
    assert [loc["location"] for loc in board["locations"]] == ["replica1", "replica2"]
    assert len(board["growth"]) == 12
    assert board["growth"][-1]["packages"] == len(aips)
    assert board["growth"][-1]["bytes"] == sum(p.total_size for p in aips)
    assert api.get("/api/v1/dashboard", "reader").status_code == 403
    assert api.get("/api/v1/dashboard", "preservation_officer").status_code == 200
