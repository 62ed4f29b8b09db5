"""Metadata extraction through the API on a real catalog and real storage: run on the stored
OCR text or on text sent, read the proposal, confirm with corrections (a new AIP version whose
EAD holds them), and every bad input refused with its code and nothing changed."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import sqlalchemy as sa

from access_api.app import create_app
from access_api.services import extraction as service
from access_api.services.base import ServiceContext
from preservation.catalog.models import (
    AuditEntry,
    Document,
    ExtractionProposal,
    Package,
    PremisEvent,
    SearchEntry,
)
from preservation.catalog.vocab import DocumentKind
from tests.support.catalog_api import Api, make_api
from tests.support.sips import make_sip

PAGE = """UBND TỈNH NGHỆ AN CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
UBND HUYỆN NGHI LỘC Độc lập - Tự do - Hạnh phúc

Số: 45/QD-UBND Nghi Lộc, ngày O7 tháng 4 năm 2001

QUYẾT ĐỊNH
Về việc thành lập Hội đồng xác định giá trị tài liệu
"""


@pytest.fixture
def world(khoso, tmp_path):
    outcome = khoso.ingest(make_sip(tmp_path / "sip"))
    assert outcome.accepted
    api = make_api(khoso)
    with khoso.catalog.session() as s:
        docs = s.scalars(sa.select(Document).order_by(Document.id)).all()
        van_ban = next(d for d in docs if d.kind == DocumentKind.VAN_BAN)
        pic = next(d for d in docs if d.kind != DocumentKind.VAN_BAN)
        codes = (van_ban.arc_doc_code or van_ban.doc_code, pic.arc_doc_code or pic.doc_code)
    return api, outcome.objid, codes


def _post(api, url, role="archivist", **kw):
    return api.client.post(url, headers=api.headers(role), **kw)


def _refused(resp, code: str) -> None:
    """422 EXT012 naming ``code`` as its one issue, each message whole (no unfilled field)."""
    body = resp.get_json()
    assert resp.status_code == 422 and body["code"] == "EXT012", body
    assert [i["code"] for i in body["issues"]] == [code]
    assert code in body["message"] and code in body["message_en"]  # "first error: EXT001"
    for text in (body["message"], body["message_en"], body["issues"][0]["message"]):
        assert "?" not in text, text


def _set_ocr(khoso, code: str, text: str) -> None:
    """What the digitisation import does: the OCR text beside the document's search entry."""
    with khoso.catalog.session() as s:
        d = s.scalar(sa.select(Document).where(sa.or_(Document.arc_doc_code == code,
                                                      Document.doc_code == code)))
        entry = s.scalar(sa.select(SearchEntry).where(SearchEntry.document_id == d.id))
        entry.ocr_text = text


def _versions(khoso, objid: str) -> list[int]:
    with khoso.catalog.session() as s:
        return sorted(s.scalars(sa.select(Package.version).where(Package.objid == objid)))


def test_run_on_the_stored_ocr_text_then_confirm_with_a_correction(khoso, world):
    api, objid, (code, _pic) = world
    _set_ocr(khoso, code, PAGE)
    url = f"/api/v1/documents/{code}/extraction"
    resp = _post(api, url, json={})
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["status"] == "proposed" and body["source"] == "ocr"
    values = {k: v["value"] for k, v in body["fields"].items()}
    assert values == {"typeName": "02", "codeNumber": "45", "codeNotation": "QĐ-UBND",
                      "issuedDate": "07/04/2001",
                      # read in capitals, written as the catalog's agency writes it
                      "organName": "UBND huyện Nghi Lộc",
                      "subject": "Về việc thành lập Hội đồng xác định giá trị tài liệu"}
    assert "Nghi Lộc, ngày O7" in body["fields"]["issuedDate"]["evidence"]
    assert body["current"]["codeNumber"] == "1"  # the record as ingested
    assert api.get(url, role="archivist").get_json()["id"] == body["id"]

    resp = _post(api, f"{url}/confirm",
                 json={"corrections": {"organName": "Ủy ban nhân dân huyện Nghi Lộc"}})
    assert resp.status_code == 200, resp.get_json()
    done = resp.get_json()
    assert done["status"] == "corrected" and done["corrected"] == ["organName"]
    assert done["decidedBy"] == "u-archivist" and done["version"] == 2
    assert done["current"]["subject"] == values["subject"]
    assert done["current"]["organName"] == "Ủy ban nhân dân huyện Nghi Lộc"
    assert _versions(khoso, objid) == [1, 2]
    ead = api.get(f"/api/v1/documents/{code}?format=xml", role="archivist").get_data(as_text=True)
    assert "<codeNumber>45</codeNumber>" in ead and "<issuedDate>07/04/2001</issuedDate>" in ead
    assert "<organName>Ủy ban nhân dân huyện Nghi Lộc</organName>" in ead
    with khoso.catalog.session() as s:
        v2 = s.scalar(sa.select(Package.id).where(Package.objid == objid, Package.version == 2))
        events = s.scalars(sa.select(PremisEvent.event_type).where(
            PremisEvent.package_id == v2)).all()
        assert "metadata modification" in events
        actions = s.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)).all()
        assert actions[-1] == "extraction.corrected"
        assert actions.index("extraction.proposed") < actions.index("package.new_version")
    # settled: a second confirmation is a conflict and makes no version
    again = _post(api, f"{url}/confirm", json={})
    assert again.status_code == 409 and again.get_json()["code"] == "EXT004"
    assert _versions(khoso, objid) == [1, 2]


def test_text_in_the_body_and_a_confirmation_that_changes_nothing_makes_no_version(khoso, world):
    api, objid, (code, _pic) = world
    url = f"/api/v1/documents/{code}/extraction"
    first = _post(api, url, json={"text": PAGE}).get_json()
    second = _post(api, url, role="admin", json={"text": PAGE}).get_json()
    assert second["source"] == "text" and second["createdBy"] == "u-admin"
    with khoso.catalog.session() as s:
        assert s.get(ExtractionProposal, first["id"]).status == "superseded"
    keep = {"typeName": None, "codeNumber": None, "codeNotation": None, "issuedDate": None,
            "organName": None, "subject": None}
    done = _post(api, f"{url}/confirm", json={"corrections": keep}).get_json()
    assert done["status"] == "confirmed" and done["version"] is None
    assert _versions(khoso, objid) == [1]


def test_propose_for_document_is_what_the_digitisation_import_calls(khoso, world):
    _api, _objid, (code, _pic) = world
    view = service.propose_for_document(ServiceContext(khoso.settings, khoso.catalog), code, PAGE)
    assert view.status == "proposed" and view.created_by == "khoso-digitise"
    assert view.fields["codeNumber"]["value"] == "45"


def test_no_ocr_text_too_long_text_and_a_picture_are_refused_with_their_codes(khoso, world):
    api, _objid, (code, pic) = world
    resp = _post(api, f"/api/v1/documents/{code}/extraction", json={})
    _refused(resp, "EXT001")
    resp = _post(api, f"/api/v1/documents/{pic}/extraction", json={"text": PAGE})
    _refused(resp, "EXT010")
    small = Api(create_app(replace(khoso.settings, extraction_max_text=100),
                            khoso.catalog).test_client(), api.tokens)
    resp = _post(small, f"/api/v1/documents/{code}/extraction", json={"text": "x" * 101})
    _refused(resp, "EXT002")
    resp = _post(small, f"/api/v1/documents/{code}/extraction", json={"text": "x" * 70_000})
    assert resp.status_code == 413  # far over: refused before it is read
    resp = api.get(f"/api/v1/documents/{code}/extraction", role="archivist")
    assert resp.status_code == 404 and resp.get_json()["code"] == "EXT003"
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(ExtractionProposal)) == 0


@pytest.mark.parametrize(("corrections", "codes"), [
    ({"typeName": "99"}, ["EXT005"]),
    ({"issuedDate": "31/02/2001"}, ["EXT006"]),
    ({"issuedDate": "hôm qua", "subject": "x" * 501}, ["EXT006", "EXT007"]),
    ({"organName": "Sở\x00Nội vụ"}, ["EXT008"]),
])
def test_bad_corrections_are_all_reported_and_change_nothing(khoso, world, corrections, codes):
    api, objid, (code, _pic) = world
    url = f"/api/v1/documents/{code}/extraction"
    assert _post(api, url, json={"text": PAGE}).status_code == 201
    resp = _post(api, f"{url}/confirm", json={"corrections": corrections})
    body = resp.get_json()
    assert resp.status_code == 422 and body["code"] == "EXT009"
    assert sorted(i["code"] for i in body["issues"]) == codes
    assert body["message"] and body["message_en"]
    assert api.get(url, role="archivist").get_json()["status"] == "proposed"
    assert _versions(khoso, objid) == [1]


def test_unknown_correction_fields_and_wrong_types_are_refused(khoso, world):
    api, _objid, (code, _pic) = world
    url = f"/api/v1/documents/{code}/extraction"
    assert _post(api, url, json={"text": PAGE}).status_code == 201
    for body in ({"corrections": {"mode": "03"}}, {"corrections": {"subject": 5}},
                 {"corrections": "all"}, {"text": "no"}):
        resp = _post(api, f"{url}/confirm", json=body)
        assert resp.status_code == 422, body
    assert _post(api, url, json={"text": 12}).status_code == 422
    assert api.get(url, role="archivist").get_json()["status"] == "proposed"


def test_readers_and_agency_systems_may_not_see_or_confirm(khoso, world):
    api, _objid, (code, _pic) = world
    url = f"/api/v1/documents/{code}/extraction"
    assert _post(api, url, json={"text": PAGE}).status_code == 201
    for role in ("reader", "agency_submitter", "preservation_officer"):
        assert api.get(url, role=role).status_code == 403
        assert _post(api, f"{url}/confirm", role=role, json={}).status_code == 403
    assert api.get(url, role="anonymous").status_code == 401


def test_control_characters_and_lone_surrogates_in_the_text_are_not_kept(khoso, world):
    api, _objid, (code, _pic) = world
    text = PAGE.replace("Số: 45", "Số:\x00 45").replace("QUYẾT ĐỊNH", "QUYẾT ĐỊNH\ud800")
    body = "{\"text\": " + json.dumps(text) + "}"
    resp = _post(api, f"/api/v1/documents/{code}/extraction", data=body,
                 content_type="application/json")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    fields = resp.get_json()["fields"]
    assert fields["codeNumber"]["value"] == "45" and fields["typeName"]["value"] == "02"
    assert all("\x00" not in (f["evidence"] or "") and "\ud800" not in (f["evidence"] or "")
               for f in fields.values())


def test_a_document_in_no_stored_aip_cannot_be_confirmed_into_a_version(khoso, world):
    api, objid, (code, _pic) = world
    url = f"/api/v1/documents/{code}/extraction"
    assert _post(api, url, json={"text": PAGE}).status_code == 201
    with khoso.catalog.session() as s:  # as a catalog row left without its package would be
        d = s.scalar(sa.select(Document).where(sa.or_(Document.arc_doc_code == code,
                                                      Document.doc_code == code)))
        d.package_id = None
    resp = _post(api, f"{url}/confirm", json={})
    assert resp.status_code == 404 and resp.get_json()["code"] == "EXT011"
    assert api.get(url, role="archivist").get_json()["status"] == "proposed"
    assert _versions(khoso, objid) == [1]
