"""Catalog reads over HTTP: fonds, hồ sơ and tài liệu by either code, the access policy by
mode for every role, AIP versions under their hồ sơ, the EAD as stored, and the VIEWs the
access register keeps."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa
from openapi_spec_validator import validate

from preservation.catalog.models import AccessEntry, AccessRequest, AccessRequestItem
from tests.support.catalog_api import ROLES, make_api, make_mode_sip
from tests.support.versions import retitle, update

PUBLIC, CONDITIONAL, SECRET = "H49.64.33.2001.101", "H49.64.33.2001.102", "H49.64.33.2001.103"
ARC = "TTLTNA."
STAFF = {"admin", "archivist", "preservation_officer"}


@pytest.fixture
def archive(khoso):
    """Three hồ sơ of modes 01, 02 and 03 (their documents of the same mode), and a client
    with a token per role."""
    objids = {}
    for code, mode in ((PUBLIC, "01"), (CONDITIONAL, "02"), (SECRET, "03")):
        outcome = khoso.ingest(make_mode_sip(khoso.tmp / code, code, mode=mode,
                                             doc_modes=(mode, mode)))
        assert outcome.accepted, outcome.report
        objids[code] = outcome.objid
    api = make_api(khoso)
    api.objids = objids
    return api


def views(khoso, actor="u-reader"):
    with khoso.catalog.session() as s:
        return [(e.action, e.object_type, e.object_id, e.detail) for e in s.scalars(
            sa.select(AccessEntry).where(AccessEntry.actor == actor).order_by(AccessEntry.id))]


def test_the_openapi_document_names_every_catalog_path_and_stays_valid(archive):
    spec = archive.client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    for path in ("/api/v1/fonds", "/api/v1/fonds/{fond_code}", "/api/v1/records/{file_code}",
                 "/api/v1/documents/{doc_code}"):
        assert path in spec["paths"], path


@pytest.mark.parametrize("role,records", [
    ("anonymous", 2), ("reader", 2), ("agency_submitter", 3), ("archivist", 3), ("admin", 3),
    ("preservation_officer", 3)])
def test_fonds_count_only_the_records_the_caller_may_see(archive, role, records):
    page = archive.get("/api/v1/fonds?page=1&size=10", role).get_json()
    assert page["total"] == 1 and page["page"] == 1 and page["size"] == 10
    (fonds,) = page["items"]
    assert fonds["fondCode"] == "P623" and fonds["records"] == records
    one = archive.get("/api/v1/fonds/P623", role).get_json()
    assert set(one) >= {"fondCode", "fondName", "status", "fondHistory", "archivesTime",
                        "totalDoc", "classificationScheme", "language", "riskRecovery",
                        "description"}
    assert one["records"] == records and one["fondName"] == "Phông UBND huyện Nghi Lộc"


def test_fonds_paging_past_the_end_and_bad_paging(archive):
    page = archive.get("/api/v1/fonds?page=5&size=1").get_json()
    assert page == {"total": 1, "page": 5, "size": 1, "items": []}
    for query in ("page=0", "size=0", "size=1001", "page=abc"):
        resp = archive.get(f"/api/v1/fonds?{query}")
        assert resp.status_code == 422 and resp.get_json()["code"] == "API001", query
    resp = archive.get("/api/v1/fonds/P999")
    assert resp.status_code == 404 and resp.get_json()["code"] == "GEN002"


def test_a_record_by_either_code_with_its_tt05_fields_documents_and_versions(khoso, archive):
    by_arc = archive.get(f"/api/v1/records/{ARC}{PUBLIC}").get_json()
    by_sip = archive.get(f"/api/v1/records/{PUBLIC}").get_json()
    assert by_arc == by_sip
    assert by_arc["arcFileCode"] == ARC + PUBLIC and by_arc["mode"] == "01"
    assert by_arc["title"].startswith("Hồ sơ về việc") and by_arc["language"] == ["01"]
    assert by_arc["startDate"] == "2001-01-02" and by_arc["maintenance"] == "01"
    assert by_arc["fondCode"] == "P623" and by_arc["objid"] == archive.objids[PUBLIC]
    assert [d["docCode"] for d in by_arc["documents"]] == [
        f"{ARC}{PUBLIC}.0000001", f"{ARC}{PUBLIC}.0000002"]
    assert [d["mode"] for d in by_arc["documents"]] == ["01", "01"]
    (v1,) = by_arc["versions"]
    assert v1["version"] == 1 and v1["status"] == "active"
    assert dt.datetime.fromisoformat(v1["created_at"]).tzinfo is not None
    assert [e[:3] for e in views(khoso)] == [("view", "record", ARC + PUBLIC)] * 2


def test_superseded_versions_are_listed_under_the_record_and_the_newest_ead_is_served(
        khoso, archive):
    objid = archive.objids[PUBLIC]
    ead_url = f"/api/v1/records/{PUBLIC}?format=xml"
    old = archive.get(ead_url).data
    outcome = update(khoso, objid, package_ead=retitle(old, "Hồ sơ đã sửa tiêu đề"))
    assert outcome.accepted, outcome.report
    body = archive.get(f"/api/v1/records/{PUBLIC}").get_json()
    assert body["title"] == "Hồ sơ đã sửa tiêu đề"
    assert [(v["version"], v["status"]) for v in body["versions"]] == [
        (1, "superseded"), (2, "active")]
    xml = archive.get(ead_url)
    assert xml.status_code == 200 and xml.mimetype == "application/xml"
    assert "Hồ sơ đã sửa tiêu đề".encode() in xml.data
    stored = (khoso.replica("replica2") / outcome.key_prefix / "data/metadata/descriptive/EAD.xml")
    assert xml.data == stored.read_bytes()
    fonds = archive.get("/api/v1/fonds/P623", "archivist").get_json()
    assert fonds["records"] == 3  # a new version is not a new hồ sơ


@pytest.mark.parametrize("role", ["anonymous", *ROLES])
def test_a_secret_record_and_its_documents_exist_only_for_staff_and_its_agency(archive, role):
    visible = role in STAFF or role == "agency_submitter"
    for url in (f"/api/v1/records/{SECRET}", f"/api/v1/records/{ARC}{SECRET}",
                f"/api/v1/documents/{SECRET}.0000001", f"/api/v1/records/{SECRET}?format=xml",
                f"/api/v1/documents/{ARC}{SECRET}.0000001?format=xml"):
        resp = archive.get(url, role)
        assert resp.status_code == (200 if visible else 404), (url, role)
        if not visible:
            assert resp.get_json()["code"] == "GEN002"


def test_an_agency_sees_its_own_secret_records_but_not_another_agencys(khoso):
    code = "H49.64.33.2001.104"
    assert khoso.ingest(make_mode_sip(khoso.tmp / "s", code, mode="03")).accepted
    api = make_api(khoso, other_agency=True)
    assert api.get(f"/api/v1/records/{code}", "agency_submitter").status_code == 404
    assert api.get("/api/v1/fonds/P623", "agency_submitter").get_json()["records"] == 0


def test_conditional_documents_show_metadata_and_say_a_request_is_needed(khoso, archive):
    url = f"/api/v1/documents/{CONDITIONAL}.0000001"
    body = archive.get(url).get_json()
    assert body["effectiveMode"] == "02" and body["mode"] == "02"
    assert body["access"] == "request_required"
    (f,) = body["files"]
    assert f["name"] == "tai-lieu-1.pdf" and f["mime"] == "application/pdf"
    assert f["puid"] and len(f["sha256"]) == 64 and f["size"] > 0
    assert f["download_url"] == f"/api/v1/documents/{ARC}{CONDITIONAL}.0000001/files/tai-lieu-1.pdf"
    assert archive.get(url, "archivist").get_json()["access"] == "granted"
    with khoso.catalog.session() as s:
        s.add(AccessRequest(requester="u-reader", purpose="01", purpose_content="nghiên cứu",
                            status="approved",
                            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=3),
                            items=[AccessRequestItem(doc_code=f"{ARC}{CONDITIONAL}.0000001")]))
    assert archive.get(url).get_json()["access"] == "granted"
    last = views(khoso)[-1]
    assert last[:3] == ("view", "document", f"{ARC}{CONDITIONAL}.0000001")


def test_a_document_by_either_code_with_the_fields_of_its_kind(archive):
    pdf = archive.get(f"/api/v1/documents/{PUBLIC}.0000001").get_json()
    assert pdf == archive.get(f"/api/v1/documents/{ARC}{PUBLIC}.0000001").get_json()
    assert pdf["kind"] == "doc" and pdf["subject"] == "Quyết định số 1"
    assert pdf["docCode"] == f"{ARC}{PUBLIC}.0000001" and pdf["arcFileCode"] == ARC + PUBLIC
    assert pdf["issuedDate"] == "2001-03-15" and pdf["docOrdinal"] == 1
    assert pdf["files"][0]["copy_url"].endswith("/tai-lieu-1.pdf/copy")
    pic = archive.get(f"/api/v1/documents/{PUBLIC}.0000002").get_json()
    assert pic["kind"] == "pic" and pic["imageTitle"] == "Ảnh buổi lễ 2"
    assert pic["arcDocCode"] == pic["docCode"] == f"{ARC}{PUBLIC}.0000002"
    assert pic["files"][0]["copy_url"] is None  # marked copies are made of PDFs only


def test_the_document_ead_is_the_stored_one_verified(khoso, archive):
    resp = archive.get(f"/api/v1/documents/{PUBLIC}.0000002?format=xml")
    assert resp.status_code == 200 and resp.mimetype == "application/xml"
    (stored,) = khoso.replica("replica1").glob(
        "TTLTNA/P623/*101/v1/data/representations/rep1/metadata/descriptive/EAD_pic_*.xml")
    assert resp.data == stored.read_bytes()
    assert hashlib.sha256(resp.data).hexdigest()


@pytest.mark.parametrize("url", [
    "/api/v1/records/NOPE", "/api/v1/records/TTLTNA.NOPE", "/api/v1/documents/X.0000001",
    "/api/v1/records/%E1%BA%A0%00", "/api/v1/documents/..%2F..%2Fetc", "/api/v1/records/a/b/c",
    "/api/v1/fonds/P%00", "/api/v1/documents/%00.0000001", "/api/v1/records/" + "x" * 5000])
def test_unknown_codes_are_not_found_with_a_code(archive, url):
    resp = archive.get(url)
    assert resp.status_code == 404 and resp.get_json()["code"] in ("GEN002", "API002")


def test_a_bad_format_is_refused_with_a_code(archive):
    resp = archive.get(f"/api/v1/records/{PUBLIC}?format=pdf")
    assert resp.status_code == 422 and resp.get_json()["code"] == "API001"
    assert resp.get_json()["issues"][0]["path"] == "query.format"


def test_staff_views_are_not_in_the_access_register(khoso, archive):
    for role in STAFF:
        assert archive.get(f"/api/v1/records/{SECRET}", role).status_code == 200
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(AccessEntry.id))) == 0


def test_the_role_matrix_rows(archive):
    from tests.integration.api.matrix_catalog import ROWS

    for method, url, expected in ROWS:
        for role, status in expected.items():
            resp = archive.client.open(url, method=method, headers=archive.headers(role))
            assert resp.status_code == status, (method, url, role)
