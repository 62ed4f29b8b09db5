"""Access requests, DIPs and the access register over HTTP, on both catalogs: the request
workflow and its wrong-order actions, expiry, a DIP built by the worker task, validated against
METS 1.12 + CSIP and our DIP XSDs and downloaded, refusals, a corrupted replica never packaged,
hostile bodies, the register in JSON and CSV, and the role matrix."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from lxml import etree

from access_api.app import create_app
from access_api.services import dips
from access_api.services.base import ServiceContext, UserRole
from preservation.accounts import create_user, issue_token
from preservation.catalog import access_register
from preservation.catalog.models import (
    AccessEntry,
    AccessRequest,
    AuditEntry,
    Bitstream,
    Dip,
    Document,
    Job,
    PremisEvent,
    RecordFile,
    StoredCopy,
)
from preservation.packaging.dip.package import check_dip
from tests.integration.api.matrix_dissemination import ROLES, ROWS
from tests.support.cli import cli_env, run
from tests.support.sheets import FILE_CODE
from tests.support.sips import make_sip

# the catalog's codes (archival: the archive's code first); modes 02, 01, 03 below
DOC1, DOC2, DOC3 = (f"TTLTNA.{FILE_CODE}.{i:07d}" for i in (1, 2, 3))
METS_NS = "http://www.loc.gov/METS/"
CSIP_NS = "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"
USERS = {"admin": ("quan-tri", UserRole.ADMIN), "archivist": ("luu-tru", UserRole.ARCHIVIST),
         "archivist2": ("luu-tru-2", UserRole.ARCHIVIST),
         "agency_submitter": ("van-thu", UserRole.AGENCY_SUBMITTER),
         "preservation_officer": ("bao-quan", UserRole.PRESERVATION_OFFICER),
         "reader": ("doc-gia", UserRole.READER), "reader2": ("doc-gia-2", UserRole.READER)}


@dataclass
class Archive:
    khoso: object
    client: object
    tokens: dict[str, str]

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who != "anonymous" else {}

    def call(self, method: str, path: str, who: str, body=None, **kw):
        return self.client.open(path, method=method, headers=self.h(who), json=body, **kw)

    @property
    def ctx(self) -> ServiceContext:
        return ServiceContext(self.khoso.settings, self.khoso.catalog)

    def file_request(self, who: str = "reader", docs=(DOC1, DOC2), **extra) -> dict:
        resp = self.call("POST", "/api/v1/access-requests", who, {
            "documents": list(docs), "purpose": "01", "purposeContent": "Nghiên cứu lịch sử",
            "feeObjectType": "01", "researchTopic": "Tổ chức bộ máy Sở Nội vụ", **extra})
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()

    def approved(self, who: str = "reader", docs=(DOC1, DOC2), days: int = 3) -> dict:
        req = self.file_request(who, docs)
        resp = self.call("POST", f"/api/v1/access-requests/{req['id']}/approve", "archivist",
                         {"reason": "Đủ điều kiện", "valid_days": days})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()

    def build(self, body: dict, who: str = "reader") -> dict:
        resp = self.call("POST", "/api/v1/dips", who, body)
        assert resp.status_code == 202, resp.get_json()
        queued = resp.get_json()
        try:
            dips.run_job(self.ctx, queued["job"])
        except Exception:  # noqa: BLE001 - the failure is on the DIP, checked by the caller
            pass
        return queued


@pytest.fixture
def archive(khoso, tmp_path) -> Archive:
    outcome = khoso.ingest(make_sip(tmp_path / "sip", count=3))
    assert outcome.accepted
    tokens = {}
    with khoso.catalog.session() as s:
        for mode, code in (("02", DOC1), ("01", DOC2), ("03", DOC3)):
            s.execute(sa.update(Document).where(sa.or_(
                Document.doc_code == code, Document.arc_doc_code == code)).values(mode=mode))
        for role, (name, user_role) in USERS.items():
            user = create_user(s, name, "mật-khẩu-đủ-dài-1", [user_role.value])
            tokens[role] = issue_token(s, user, "t").token
    client = create_app(khoso.settings, khoso.catalog).test_client()
    return Archive(khoso, client, tokens)


def _codes(body: dict) -> list[str]:
    return [i["code"] for i in body["issues"]]


def _register(khoso, step: str | None = None) -> list[AccessEntry]:
    with khoso.catalog.session() as s:
        rows = list(s.scalars(sa.select(AccessEntry).order_by(AccessEntry.id)))
        s.expunge_all()
    return [r for r in rows if step is None or r.detail.get("step") == step]


# -- the request workflow -------------------------------------------------------------------

def test_a_reader_files_a_request_and_an_archivist_approves_it(archive):
    req = archive.file_request()
    assert req["status"] == "pending" and req["requester"] == "doc-gia"
    assert req["documents"] == [DOC1, DOC2] and req["purpose"] == "01"
    assert req["feeObjectType"] == "01" and req["researchTopic"] == "Tổ chức bộ máy Sở Nội vụ"
    created = dt.datetime.fromisoformat(req["requestDate"])
    assert created.utcoffset() is not None
    due = dt.date.fromisoformat(req["due_by"])
    assert due.weekday() < 5 and 6 <= (due - created.date()).days <= 10

    assert archive.call("GET", f"/api/v1/access-requests/{req['id']}", "reader").status_code == 200
    other = archive.call("GET", f"/api/v1/access-requests/{req['id']}", "reader2")
    assert other.status_code == 404 and other.get_json()["code"] == "GEN002"
    # the agency's docCode (without the archive's code) names the same document
    assert archive.file_request("reader2", [DOC2.removeprefix("TTLTNA.")])["documents"] == [DOC2]
    mine = archive.call("GET", "/api/v1/access-requests", "reader").get_json()
    assert mine["total"] == 1 and mine["items"][0]["id"] == req["id"]
    everyone = archive.call("GET", "/api/v1/access-requests?status=pending", "archivist")
    assert everyone.get_json()["total"] == 2
    assert archive.call("GET", "/api/v1/access-requests?mine=1", "archivist").get_json()[
        "total"] == 0
    page = archive.call("GET", "/api/v1/access-requests?page=2&size=1", "admin").get_json()
    assert page["total"] == 2 and len(page["items"]) == 1

    expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).replace(microsecond=0)
    resp = archive.call("POST", f"/api/v1/access-requests/{req['id']}/approve", "archivist",
                        {"reason": "Đủ điều kiện", "expires_at": expires.isoformat()})
    done = resp.get_json()
    assert resp.status_code == 200 and done["status"] == "approved"
    assert done["decided_by"] == "luu-tru" and done["due_by"] is None and not done["expired"]
    assert dt.datetime.fromisoformat(done["expires_at"]) == expires
    with archive.khoso.catalog.session() as s:
        assert access_register.approved_request_for(s, "doc-gia", DOC1) == req["id"]
        audit = s.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.object_id == req["id"])).all()
    assert audit.count("access.request") == 2
    steps = [(e.actor, e.detail["step"]) for e in _register(archive.khoso)
             if e.object_id == req["id"]]
    assert steps == [("doc-gia", "filed"), ("luu-tru", "approved")]


def test_wrong_order_actions_are_refused_with_a_code(archive):
    req = archive.file_request()
    path = f"/api/v1/access-requests/{req['id']}"
    # refuse without a reason, or a blank one
    resp = archive.call("POST", f"{path}/refuse", "archivist", {})
    assert resp.status_code == 422 and resp.get_json()["code"] == "API001"
    resp = archive.call("POST", f"{path}/refuse", "archivist", {"reason": "   "})
    assert resp.status_code == 422 and _codes(resp.get_json()) == ["REQ006"]
    # deciding as a reader, an agency, a preservation officer
    for who in ("reader", "reader2", "agency_submitter", "preservation_officer"):
        resp = archive.call("POST", f"{path}/approve", who, {})
        assert resp.status_code == 403 and resp.get_json()["code"] == "AUTH004", who
    # withdrawing someone else's request
    assert archive.call("POST", f"{path}/withdraw", "reader2").status_code == 404
    resp = archive.call("POST", f"{path}/withdraw", "archivist")
    assert resp.status_code == 403 and resp.get_json()["code"] == "REQ008"
    # approve, then approve again, refuse, withdraw: all 409
    assert archive.call("POST", f"{path}/approve", "archivist", {}).status_code == 200
    for action, body in (("approve", {}), ("refuse", {"reason": "muộn"}), ("withdraw", None)):
        who = "reader" if action == "withdraw" else "archivist2"
        resp = archive.call("POST", f"{path}/{action}", who, body)
        assert resp.status_code == 409 and resp.get_json()["code"] == "REQ005", action
        assert resp.get_json()["message_en"].startswith(f"Access request {req['id']} is ")
    # an archivist's own request: another archivist decides, never they
    own = archive.file_request("archivist", [DOC2])
    resp = archive.call("POST", f"/api/v1/access-requests/{own['id']}/approve", "archivist", {})
    assert resp.status_code == 403 and resp.get_json()["code"] == "REQ004"
    resp = archive.call("POST", f"/api/v1/access-requests/{own['id']}/refuse", "archivist2",
                        {"reason": "Không thuộc phạm vi"})
    assert resp.status_code == 200 and resp.get_json()["status"] == "refused"
    assert resp.get_json()["reason"] == "Không thuộc phạm vi"
    # withdraw while pending, then nothing more
    third = archive.file_request("reader2", [DOC2])
    resp = archive.call("POST", f"/api/v1/access-requests/{third['id']}/withdraw", "reader2")
    assert resp.status_code == 200 and resp.get_json()["status"] == "withdrawn"
    resp = archive.call("POST", f"/api/v1/access-requests/{third['id']}/approve", "admin", {})
    assert resp.status_code == 409 and resp.get_json()["code"] == "REQ005"
    steps = {e.detail["step"] for e in _register(archive.khoso)}
    assert steps == {"filed", "approved", "refused", "withdrawn"}


def test_period_of_use_is_checked_and_an_expired_approval_stops_counting(archive):
    req = archive.file_request()
    path = f"/api/v1/access-requests/{req['id']}/approve"
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    for body in ({"expires_at": past}, {"expires_at": future, "valid_days": 2},
                 {"expires_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=900)).isoformat()}):
        resp = archive.call("POST", path, "archivist", body)
        assert resp.status_code == 422 and _codes(resp.get_json()) == ["REQ007"], body
    # a time without its offset is refused: read as UTC it kept mode 02 open 7 hours past a
    # midnight meant in Hà Nội
    naive = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(tzinfo=None).isoformat()
    for body in ({"valid_days": 0}, {"valid_days": "ba"}, {"expires_at": "mai"},
                 {"expires_at": naive}):
        resp = archive.call("POST", path, "archivist", body)
        assert resp.status_code == 422 and resp.get_json()["code"] == "API001", body
    assert archive.call("POST", path, "archivist", {"valid_days": 1}).status_code == 200
    with archive.khoso.catalog.session() as s:
        s.get_one(AccessRequest, req["id"]).expires_at = (
            dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    shown = archive.call("GET", f"/api/v1/access-requests/{req['id']}", "reader").get_json()
    assert shown["status"] == "approved" and shown["expired"] is True
    with archive.khoso.catalog.session() as s:
        assert access_register.approved_request_for(s, "doc-gia", DOC1) is None
    resp = archive.call("POST", "/api/v1/dips", "reader", {"request": req["id"]})
    assert resp.status_code == 403 and resp.get_json()["code"] == "DIP004"


def test_hostile_request_bodies_leave_nothing_behind(archive):
    url = "/api/v1/access-requests"
    good = {"documents": [DOC2], "purpose": "01"}
    cases = [
        ({**good, "admin": True}, "API001", None),
        ({"documents": DOC2, "purpose": "01"}, "API001", None),
        ({"documents": [DOC2], "purpose": 1}, "API001", None),
        ({"documents": [], "purpose": "01"}, "API001", None),
        ({"documents": [DOC2] * 501, "purpose": "01"}, "API001", None),
        ({"documents": ["x" * 101], "purpose": "01"}, "API001", None),
        ({**good, "researchTopic": "đ" * 251}, "API001", None),
        ({**good, "purpose": "99"}, "API001", ["API008"]),
        ({**good, "feeObjectType": "11"}, "API001", ["API008"]),
        ({"documents": [DOC2, "KHONG.CO"], "purpose": "01"}, "REQ009", ["REQ002"]),
        ({"documents": [DOC3], "purpose": "01"}, "REQ009", ["REQ002"]),
        ({"documents": [DOC2, DOC2], "purpose": "01"}, "REQ009", ["REQ003"]),
        ([1, 2], "API001", None),
        ("chuỗi", "API001", None),
    ]
    for body, code, issues in cases:
        resp = archive.call("POST", url, "reader", body)
        assert resp.status_code == 422, (body, resp.get_json())
        problem = resp.get_json()
        assert problem["code"] == code and problem["message"] and problem["message_en"]
        if issues is not None:
            assert _codes(problem) == issues
    # a secret document and a missing one read exactly alike
    secret = archive.call("POST", url, "reader", {"documents": [DOC3], "purpose": "01"})
    missing = archive.call("POST", url, "reader", {"documents": ["KHONG.CO"], "purpose": "01"})
    assert secret.get_json()["issues"][0]["message_en"].replace(DOC3, "X") == \
        missing.get_json()["issues"][0]["message_en"].replace("KHONG.CO", "X")
    # not JSON at all
    resp = archive.client.post(url, data=b"\xff\xfe", headers={
        **archive.h("reader"), "Content-Type": "application/json"})
    assert resp.status_code in (400, 415, 422) and resp.get_json()["code"].startswith("API")
    with archive.khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(AccessRequest.id))) == 0
    assert _register(archive.khoso) == []
    # staff see mode 03 documents and may ask for them
    assert archive.call("POST", url, "archivist", {"documents": [DOC3], "purpose": "02"}
                        ).status_code == 201


# -- DIPs ---------------------------------------------------------------------------------------

def _content(khoso, name: str) -> bytes:
    return next(khoso.replica("replica2").rglob(name)).read_bytes()


def test_a_dip_is_built_validated_and_downloaded(archive, tmp_path):
    req = archive.approved()
    queued = archive.build({"request": req["id"]})
    assert queued["status_url"] == f"/api/v1/dips/{queued['dip']}"
    shown = archive.call("GET", queued["status_url"], "reader").get_json()
    assert shown["state"] == "ready", shown
    assert shown["documents"] == [DOC1, DOC2] and shown["request"] == req["id"]
    expires = dt.datetime.fromisoformat(shown["expires_at"])
    assert expires <= dt.datetime.fromisoformat(req["expires_at"])

    resp = archive.call("GET", f"{queued['status_url']}/download", "reader")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    data = resp.get_data()
    assert hashlib.sha256(data).hexdigest() == shown["sha256"] and len(data) == shown["size"]
    assert resp.headers["ETag"].strip('"') == shown["sha256"]
    path = tmp_path / "dip.zip"
    path.write_bytes(data)
    contents = check_dip(path)
    assert contents.report.errors == [], [i.to_dict() for i in contents.report.errors]
    assert contents.request is not None and contents.request.values["requestID"] == req["id"]
    assert contents.request.values["researchTopic"] == "Tổ chức bộ máy Sở Nội vụ"
    assert sorted(r.kind for r in contents.documents) == ["doc", "pic"]
    doc = next(r for r in contents.documents if r.kind == "doc")
    assert doc.values["arcDocCode"].startswith("TTLTNA.") and "organName" not in doc.values
    assert doc.values["mode"] == "02"

    with zipfile.ZipFile(path) as zf:
        top = contents.folder
        assert top == shown["objid"]
        root = etree.fromstring(zf.read(f"{top}/METS.xml"))
        header = root.find(f"{{{METS_NS}}}metsHdr")
        assert header.get(f"{{{CSIP_NS}}}OAISPACKAGETYPE") == "DIP"
        assert root.get("PROFILE") == "https://earkdip.dilcis.eu/profile/E-ARK-DIP.xml"
        assert root.get("TYPE") == "MIXED" and root.get("OBJID") == shown["objid"]
        assert header.find(f"{{{METS_NS}}}agent").get("ROLE") == "CREATOR"
        ead_doc = etree.fromstring(zf.read(next(
            n for n in zf.namelist() if "/EAD_doc_" in n)))
        assert len(ead_doc) == 20 and ead_doc[1].tag == "arcDocCode"
        for name in ("tai-lieu-1.pdf", "tai-lieu-2.png"):
            inside = zf.read(f"{top}/representations/rep1/data/{name}")
            assert inside == _content(archive.khoso, name)
        assert f"{top}/schemas/EAD_doc.xsd" in zf.namelist()
        assert not any(n.startswith(f"{top}/representations/rep1/data/tai-lieu-3") for n in
                       zf.namelist())

    # the owner only; staff too
    for who, status in (("reader2", 404), ("agency_submitter", 404), ("archivist", 200),
                        ("preservation_officer", 200), ("anonymous", 401)):
        got = archive.call("GET", f"{queued['status_url']}/download", who)
        assert got.status_code == status, who
    steps = [(e.actor, e.detail.get("step")) for e in _register(archive.khoso)
             if e.object_type == "dip"]
    assert ("doc-gia", "requested") in steps and ("doc-gia", "built") in steps
    assert steps.count(("doc-gia", "downloaded")) == 1
    with archive.khoso.catalog.session() as s:
        assert s.get_one(Job, queued["job"]).status == "succeeded"

    # after the request's period: refused to the reader, then removed from disk
    with archive.khoso.catalog.session() as s:
        s.get_one(Dip, queued["dip"]).expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(1)
    resp = archive.call("GET", f"{queued['status_url']}/download", "reader")
    assert resp.status_code == 403 and resp.get_json()["code"] == "DIP007"
    assert dips.purge_expired(archive.ctx) == [queued["dip"]]
    assert not dips.zip_path(archive.ctx, queued["dip"]).exists()
    resp = archive.call("GET", f"{queued['status_url']}/download", "archivist")
    assert resp.status_code == 409 and resp.get_json()["code"] == "DIP006"
    assert archive.call("GET", queued["status_url"], "reader").get_json()["state"] == "removed"


def test_dips_refused_for_unapproved_expired_or_others_requests(archive):
    pending = archive.file_request()
    resp = archive.call("POST", "/api/v1/dips", "reader", {"request": pending["id"]})
    assert resp.status_code == 409 and resp.get_json()["code"] == "DIP003"
    theirs = archive.approved("reader2")
    resp = archive.call("POST", "/api/v1/dips", "reader", {"request": theirs["id"]})
    assert resp.status_code == 404 and resp.get_json()["code"] == "GEN002"
    resp = archive.call("POST", "/api/v1/dips", "reader", {"request": "khong-co"})
    assert resp.status_code == 404
    # documents without a request: public ones only, unless staff
    resp = archive.call("POST", "/api/v1/dips", "reader", {"documents": [DOC2, DOC1]})
    assert resp.status_code == 403 and resp.get_json()["code"] == "DIP005"
    assert DOC1 in resp.get_json()["message"]
    resp = archive.call("POST", "/api/v1/dips", "reader", {"documents": [DOC3]})
    assert resp.status_code == 422 and _codes(resp.get_json()) == ["REQ002"]
    for body in ({}, {"request": theirs["id"], "documents": [DOC2]}, {"documents": []},
                 {"documents": [DOC2], "purpose": "04"}, {"request": 5}, {"dip": 1}):
        resp = archive.call("POST", "/api/v1/dips", "reader", body)
        assert resp.status_code == 422, body
    with archive.khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(Dip.id))) == 0
        assert s.scalar(sa.select(sa.func.count(Job.id)).where(Job.kind == "dip")) == 0
    # a public DIP for a reader, a staff DIP of anything, a staff DIP for the reader's request
    queued = archive.build({"documents": [DOC2], "purposeContent": "Tham khảo"})
    shown = archive.call("GET", queued["status_url"], "reader").get_json()
    assert shown["state"] == "ready" and shown["owner"] == "doc-gia"
    staff = archive.build({"documents": [DOC3]}, who="archivist")
    assert archive.call("GET", staff["status_url"], "archivist").get_json()["state"] == "ready"
    assert archive.call("GET", staff["status_url"], "reader").status_code == 404
    for_reader = archive.build({"request": theirs["id"]}, who="archivist")
    got = archive.call("GET", for_reader["status_url"], "reader2").get_json()
    assert got["owner"] == "doc-gia-2" and got["state"] == "ready"


def test_a_corrupted_replica_is_never_packaged_and_is_flagged(archive, tmp_path):
    original = _content(archive.khoso, "tai-lieu-2.png")
    bad = next(archive.khoso.replica("replica1").rglob("tai-lieu-2.png"))
    bad.write_bytes(b"\x89PNG thoi hong" + original[14:])
    queued = archive.build({"documents": [DOC2]})
    shown = archive.call("GET", queued["status_url"], "reader").get_json()
    assert shown["state"] == "ready"
    data = archive.call("GET", f"{queued['status_url']}/download", "reader").get_data()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        inside = next(n for n in zf.namelist() if n.endswith("/data/tai-lieu-2.png"))
        assert zf.read(inside) == original
    with archive.khoso.catalog.session() as s:
        job = s.get_one(Job, queued["job"])
        assert [i["code"] for i in job.result["issues"]] == ["DIP009"]
        copy = s.scalars(sa.select(StoredCopy).where(StoredCopy.location == "replica1")).one()
        assert copy.last_check_result == "mismatch"  # due first for the audit (queries)
        assert s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "delivery.copy_flagged", AuditEntry.object_id == str(copy.id))
        ).one().detail["location"] == "replica1"
        event = s.scalars(sa.select(PremisEvent).where(
            PremisEvent.stored_copy_id == copy.id, PremisEvent.outcome == "failure")).one()
        assert event.event_type == "fixity check"
        assert event.outcome_data["listed"] == [["mismatch", event.outcome_data["listed"][0][1]]]

    # the flagged copy is due: the next audit finds it and repairs it from the good one
    from access_api.services import audit
    from access_api.services.base import Identity

    audit.audit(archive.ctx, Identity.system("scheduler"), due_only=True, repair=True)
    assert bad.read_bytes() == original
    with archive.khoso.catalog.session() as s:
        copy = s.scalars(sa.select(StoredCopy).where(StoredCopy.location == "replica1")).one()
        assert copy.last_check_result == "ok"

    # no good copy anywhere: the job fails with the archive's code, nothing to download
    bad.write_bytes(b"hong")
    next(archive.khoso.replica("replica2").rglob("tai-lieu-2.png")).write_bytes(b"hong het")
    failed = archive.build({"documents": [DOC2]})
    shown = archive.call("GET", failed["status_url"], "reader").get_json()
    assert shown["state"] == "failed" and shown["error"]["code"] == "DIP008"
    assert shown["sha256"] is None and shown["download_url"] is None
    resp = archive.call("GET", f"{failed['status_url']}/download", "reader")
    assert resp.status_code == 409 and resp.get_json()["code"] == "DIP006"
    with archive.khoso.catalog.session() as s:
        assert s.get_one(Job, failed["job"]).status == "failed"
    assert not any(p.name.startswith(".build-") for p in dips.dips_dir(archive.ctx).iterdir())
    assert not dips.zip_path(archive.ctx, failed["dip"]).exists()


def test_the_worker_task_is_registered_and_builds(archive):
    from celery import Celery

    from access_api.services.wiring import register_dip

    sent: list[str] = []
    app = Celery("t", set_as_current=False)
    register_dip(app, archive.khoso.settings)
    queued = dips.request_dip(archive.ctx, _identity("doc-gia"), documents=[DOC2],
                              send=lambda ctx, job: sent.append(job) or "task-1")
    assert sent == [queued.job]
    assert app.tasks[dips.TASK].apply(args=[queued.job]).get() == {"dip": queued.dip,
                                                                   "state": "ready"}
    assert app.tasks[dips.TASK].apply(args=[queued.job]).get() is None  # delivered twice


def test_a_broker_that_cannot_take_the_job_is_a_503_and_leaves_nothing_queued(archive):
    def down(ctx, job):
        raise ConnectionError("broker down")

    with pytest.raises(Exception) as err:
        dips.request_dip(archive.ctx, _identity("doc-gia"), documents=[DOC2], send=down)
    assert err.value.code == "DIP010" and err.value.transient
    with archive.khoso.catalog.session() as s:
        dip = s.scalars(sa.select(Dip)).one()
        assert dip.state == "failed" and s.get_one(Job, dip.job_id).status == "failed"


def _identity(actor: str):
    from access_api.services.base import Identity

    return Identity(actor, frozenset({UserRole.READER}))


# -- the access register -------------------------------------------------------------------

def test_the_access_register_in_json_and_csv(archive):
    req = archive.approved()
    archive.build({"request": req["id"]})
    url = "/api/v1/reports/so_khai_thac"
    body = archive.call("GET", url, "archivist").get_json()
    assert body["register"] == "so_khai_thac" and body["total"] == len(body["items"]) >= 4
    first = body["items"][0]
    assert (first["actor"], first["action"], first["object_type"]) == (
        "doc-gia", "request", "access_request")
    assert first["object_id"] == req["id"] and first["request_id"] == req["id"]
    assert first["title"] == "Tổ chức bộ máy Sở Nội vụ" and first["purpose"]
    assert dt.datetime.fromisoformat(first["at"]).utcoffset() == dt.timedelta(hours=7)
    assert any(i["action"] == "dip" and i["detail"].get("step") == "built"
               for i in body["items"])
    page = archive.call("GET", f"{url}?page=2&size=1", "admin").get_json()
    assert page["total"] == body["total"] and page["items"][0]["no"] == 2
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    assert archive.call("GET", f"{url}?from={tomorrow}", "archivist").get_json()["total"] == 0
    assert archive.call("GET", f"{url}?to=2020-01-01", "archivist").get_json()["total"] == 0
    for bad in ("from=hom-qua", "format=xml", "size=0", "to=2020-01-01T25:00"):
        resp = archive.call("GET", f"{url}?{bad}", "archivist")
        assert resp.status_code == 422 and resp.get_json()["code"] == "API001", bad

    resp = archive.call("GET", f"{url}?format=csv", "archivist")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    text = resp.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][:3] == ["STT", "Thời gian", "Người khai thác"]
    assert len(rows) == body["total"] + 1 and rows[1][3] == "Yêu cầu khai thác"
    for who, status in (("reader", 403), ("preservation_officer", 403), ("anonymous", 401)):
        assert archive.call("GET", url, who).status_code == status

    env = cli_env(archive.khoso)
    out = run(env, "report", "register", "so_khai_thac", "--format", "json",
              "--from", (dt.date.today() - dt.timedelta(days=1)).isoformat())
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["register"] == "so_khai_thac" and len(data["rows"]) == body["total"]
    out = run(env, "report", "register", "so_khai_thac", "--to", "2020-01-01")
    assert out.exit_code == 0 and out.stdout.count("\n") == 1


# -- the role matrix -------------------------------------------------------------------------

def test_the_role_matrix(archive):
    for method, path, expected in ROWS:
        assert set(expected) == set(ROLES), path
        for role, status in expected.items():
            resp = archive.call(method, path, role)
            assert resp.status_code == status, (method, path, role, resp.get_json())
            if status >= 400:
                assert resp.get_json()["code"]


def test_bitstreams_of_a_document_are_its_content_files_only(archive):
    with archive.khoso.catalog.session() as s:
        doc = s.scalars(sa.select(Document).where(Document.doc_code == DOC1)).one()
        paths = s.scalars(sa.select(Bitstream.path).where(Bitstream.document_id == doc.id)).all()
    assert [p.rsplit("/", 1)[-1] for p in paths] == ["tai-lieu-1.pdf"]


def test_the_service_checks_the_tt05_codes_for_callers_other_than_http(archive):
    from access_api.services import access_requests
    from preservation.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        access_requests.create(archive.ctx, _identity("doc-gia"), documents=[DOC2],
                               purpose="99", fee_object_type="11")
    assert err.value.code == "REQ009"
    assert [(i.code, i.path) for i in err.value.report.issues] == [
        ("REQ001", "purpose"), ("REQ001", "feeObjectType")]
    assert "01, 02, 03" in err.value.report.issues[0].message("vi")


def test_a_real_worker_builds_the_dip_asked_for_over_http(archive, tmp_path):
    from tests.support.workers import start_worker, wait_for, worker_env

    khoso = archive.khoso
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    settings = khoso.settings.__class__(**{**khoso.settings.__dict__, "broker_url": broker})
    client = create_app(settings, khoso.catalog).test_client()
    req = archive.approved()
    resp = client.post("/api/v1/dips", json={"request": req["id"]}, headers=archive.h("reader"))
    assert resp.status_code == 202
    url = resp.get_json()["status_url"]
    assert client.get(url, headers=archive.h("reader")).get_json()["state"] == "queued"
    log = tmp_path / "worker.log"
    worker = start_worker(worker_env(khoso, broker), log)
    try:
        wait_for(lambda: client.get(url, headers=archive.h("reader")).get_json()["state"]
                 in ("ready", "failed"), 90, "the DIP job")
    finally:
        worker.terminate()
        worker.wait(30)
    shown = client.get(url, headers=archive.h("reader")).get_json()
    assert shown["state"] == "ready", (shown, log.read_text(errors="replace")[-3000:])
    data = client.get(shown["download_url"], headers=archive.h("reader")).get_data()
    assert hashlib.sha256(data).hexdigest() == shown["sha256"]


def test_a_lost_dip_job_is_sent_again_and_given_up_after_three_dead_workers(archive):
    queued = dips.request_dip(archive.ctx, _identity("doc-gia"), documents=[DOC2],
                              send=lambda ctx, job: "lost")
    sent: list[str] = []

    def send(ctx, job):
        sent.append(job)
        return "again"

    assert dips.recover_jobs(archive.ctx, send) == []  # its lease has not run out
    with archive.khoso.catalog.session() as s:
        s.get_one(Job, queued.job).lease_until = 1.0
    assert dips.recover_jobs(archive.ctx, send) == [queued.job] and sent == [queued.job]
    assert dips.recover_jobs(archive.ctx, send) == []  # re-leased: sent once
    with archive.khoso.catalog.session() as s:
        job = s.get_one(Job, queued.job)
        job.status, job.attempts, job.lease_until = "running", 3, 1.0
    assert dips.recover_jobs(archive.ctx, send) == []
    with archive.khoso.catalog.session() as s:
        assert s.get_one(Job, queued.job).status == "failed"
        dip = s.get_one(Dip, queued.dip)
        assert dip.state == "failed" and dip.error["code"] == "JOB061"


def test_a_dip_that_fails_its_own_check_is_not_handed_out(archive, monkeypatch):
    from preservation.issues import Report
    from preservation.packaging.dip.package import DipContents

    def broken(path):
        report = Report()
        report.add("DIP012", "representations/rep1/data/x.pdf", file="x.pdf")
        return DipContents(report=report)

    monkeypatch.setattr(dips, "check_dip", broken)
    queued = archive.build({"documents": [DOC2]})
    shown = archive.call("GET", queued["status_url"], "reader").get_json()
    assert shown["state"] == "failed" and shown["error"]["code"] == "DIP014"
    assert not dips.zip_path(archive.ctx, queued["dip"]).exists()
    with archive.khoso.catalog.session() as s:
        result = s.get_one(Job, queued["job"]).result
    assert [i["code"] for i in result["issues"]] == ["DIP012"]


def test_a_huge_body_is_refused_before_it_is_read(archive):
    body = json.dumps({"documents": ["X" * 90] * 20000, "purpose": "01"}).encode()
    for url in ("/api/v1/access-requests", "/api/v1/dips"):
        resp = archive.client.post(url, data=body, headers={
            **archive.h("reader"), "Content-Type": "application/json"})
        assert resp.status_code == 413 and resp.get_json()["code"] == "API004", url
        assert str(1 << 20) in resp.get_json()["message_en"]


# -- a DIP holds only what its reader may receive, at every step (issue #14) ------------------

def _set_mode(khoso, code: str, mode: str) -> None:
    with khoso.catalog.session() as s:
        s.execute(sa.update(Document).where(sa.or_(
            Document.doc_code == code, Document.arc_doc_code == code)).values(mode=mode))


def _queue(archive, body: dict, who: str = "reader") -> dict:
    resp = archive.call("POST", "/api/v1/dips", who, body)
    assert resp.status_code == 202, resp.get_json()
    return resp.get_json()


def _run(archive, queued: dict) -> dict:
    try:
        dips.run_job(archive.ctx, queued["job"])
    except Exception:  # noqa: BLE001 - the failure is on the DIP, checked below
        pass
    return archive.call("GET", queued["status_url"], "reader").get_json()


def test_a_document_reclassified_after_approval_never_reaches_the_readers_dip(archive):
    req = archive.approved()  # DOC1 (02) and DOC2 (01), approved for three days
    queued = _queue(archive, {"request": req["id"]})
    _set_mode(archive.khoso, DOC2, "03")  # a metadata correction between asking and building
    shown = _run(archive, queued)
    assert shown["state"] == "failed" and shown["error"]["code"] == "DIP211", shown
    assert DOC2 in shown["error"]["message"] and DOC1 not in shown["error"]["message"]
    assert "doc-gia" in shown["error"]["message_en"] and "mật" not in shown["error"]["message"]
    assert not dips.zip_path(archive.ctx, queued["dip"]).exists()
    with archive.khoso.catalog.session() as s:
        assert s.get_one(Job, queued["job"]).status == "failed"
    refused = [e for e in _register(archive.khoso, "refused") if e.object_id == queued["dip"]]
    assert [e.detail["refused"] for e in refused] == [[[DOC2, "not_allowed"]]]
    assert refused[0].request_id == req["id"] and refused[0].detail["owner"] == "doc-gia"

    # asked for by staff on the reader's behalf, or by the reader: refused before queuing
    with archive.khoso.catalog.session() as s:
        before = s.scalar(sa.select(sa.func.count(Dip.id)))
    for who in ("archivist", "reader"):
        resp = archive.call("POST", "/api/v1/dips", who, {"request": req["id"]})
        assert resp.status_code == 403 and resp.get_json()["code"] == "DIP211", who
        assert DOC2 in resp.get_json()["message"] and DOC2 in resp.get_json()["message_en"]
    with archive.khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(Dip.id))) == before
    assert len(_register(archive.khoso, "refused")) == 3

    # a secret hồ sơ makes its public document secret too
    _set_mode(archive.khoso, DOC2, "01")
    with archive.khoso.catalog.session() as s:
        doc = s.scalars(sa.select(Document).where(Document.arc_doc_code == DOC2)).one()
        rf_id = doc.record_file_id
        s.execute(sa.update(RecordFile).where(RecordFile.id == rf_id).values(mode="03"))
    resp = archive.call("POST", "/api/v1/dips", "archivist", {"request": req["id"]})
    assert resp.status_code == 403 and resp.get_json()["code"] == "DIP211"
    # staff's own DIP of the same documents is not the reader's: it is built
    staff = archive.build({"documents": [DOC1, DOC2]}, who="archivist")
    assert archive.call("GET", staff["status_url"], "archivist").get_json()["state"] == "ready"


def test_an_approval_that_ends_after_the_build_stops_the_readers_download(archive):
    req = archive.approved()
    queued = archive.build({"request": req["id"]})
    url = f"{queued['status_url']}/download"
    assert archive.call("GET", url, "reader").status_code == 200
    # the approval's period ends (the DIP's own expiry, set when it was asked for, has not)
    with archive.khoso.catalog.session() as s:
        s.get_one(AccessRequest, req["id"]).expires_at = (
            dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    resp = archive.call("GET", url, "reader")
    assert resp.status_code == 403 and resp.get_json()["code"] == "DIP213", resp.get_json()
    assert req["id"] in resp.get_json()["message"] and "hết hạn" in resp.get_json()["message"]
    assert "expired" in resp.get_json()["message_en"]
    assert archive.call("GET", url, "archivist").status_code == 200  # staff: any DIP
    # the request withdrawn from under it (not approved any more)
    with archive.khoso.catalog.session() as s:
        row = s.get_one(AccessRequest, req["id"])
        row.expires_at, row.status = dt.datetime.now(dt.UTC) + dt.timedelta(days=1), "refused"
    resp = archive.call("GET", url, "reader")
    assert resp.status_code == 403 and resp.get_json()["code"] == "DIP213"
    # still approved and unexpired, but a document turned 03 after the build
    with archive.khoso.catalog.session() as s:
        s.get_one(AccessRequest, req["id"]).status = "approved"
    assert archive.call("GET", url, "reader").status_code == 200
    _set_mode(archive.khoso, DOC1, "03")
    resp = archive.call("GET", url, "reader")
    assert resp.status_code == 403 and resp.get_json()["code"] == "DIP212"
    assert DOC1 in resp.get_json()["message"] and DOC2 not in resp.get_json()["message"]
    steps = [(e.actor, e.detail.get("step"), e.detail.get("code"))
             for e in _register(archive.khoso) if e.object_id == queued["dip"]]
    assert steps.count(("doc-gia", "downloaded", None)) == 2
    assert [s for s in steps if s[1] == "download_refused"] == [
        ("doc-gia", "download_refused", "DIP213"), ("doc-gia", "download_refused", "DIP213"),
        ("doc-gia", "download_refused", "DIP212")]


def test_a_public_dip_with_a_document_turned_secret_or_destroyed_is_refused(archive):
    # asked for while public, turned 03 before the worker builds it
    queued = _queue(archive, {"documents": [DOC2]})
    _set_mode(archive.khoso, DOC2, "03")
    shown = _run(archive, queued)
    assert shown["state"] == "failed" and shown["error"]["code"] == "DIP211"
    assert DOC2 in shown["error"]["message"]
    assert not dips.zip_path(archive.ctx, queued["dip"]).exists()
    # built while public, turned 03 before the reader downloads it
    _set_mode(archive.khoso, DOC2, "01")
    built = archive.build({"documents": [DOC2]})
    url = f"{built['status_url']}/download"
    assert archive.call("GET", url, "reader").status_code == 200
    _set_mode(archive.khoso, DOC2, "03")
    resp = archive.call("GET", url, "reader")
    assert resp.status_code == 403 and resp.get_json()["code"] == "DIP212"
    # a document whose hồ sơ was destroyed while its DIP waited for the worker
    _set_mode(archive.khoso, DOC2, "01")
    waiting = _queue(archive, {"documents": [DOC2]})
    with archive.khoso.catalog.session() as s:
        doc = s.scalars(sa.select(Document).where(Document.arc_doc_code == DOC2)).one()
        s.get_one(RecordFile, doc.record_file_id).state = "destroyed"
    shown = _run(archive, waiting)
    assert shown["state"] == "failed" and shown["error"]["code"] == "DIP211"
    reasons = [e.detail["refused"] for e in _register(archive.khoso, "refused")
               if e.object_id == waiting["dip"]]
    assert reasons == [[[DOC2, "destroyed"]]]
