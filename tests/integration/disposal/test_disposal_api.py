"""The destruction workflow end to end through the API on two filesystem locations and one S3
location: scan, hold, case, council, signed decision, execution; destruction proven by listing
every location afterwards; each wrong-order action refused with its code."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import subprocess

import pytest
import sqlalchemy as sa

from access_api.app import create_app
from access_api.services import dips
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.delivery import cache_for
from access_api.services.dips import zip_path
from access_api.services.reports import REPORTS
from access_api.services.reports.spec import ReportParams
from preservation.catalog.models import (
    AuditEntry,
    Dip,
    DisposalCase,
    Package,
    PremisEvent,
    RecordFile,
    SearchEntry,
)
from preservation.settings import StorageLocation
from tests.integration.disposal.conftest import DUPLICATE, EXPIRED, HELD, PERMANENT, World
from tests.support.pki import make_root, make_signer, minimal_pdf, sign_pdf

pytestmark = pytest.mark.integration
ARCHIVE = "TTLTNA"


def code(file_code: str) -> str:
    return f"{ARCHIVE}.{file_code}"


def post(world: World, user: str, path: str, body=None, **kw):
    return world.client.post(f"/api/v1/disposal{path}", json=body, headers=world.as_(user), **kw)


def problem_codes(resp) -> list[str]:
    doc = resp.get_json()
    return [doc["code"], *(i["code"] for i in doc.get("issues", []))]


def entity_keys(world: World, file_code: str) -> dict[str, list[str]]:
    return {name: [k for k in keys if f"/{code(file_code)}/" in k]
            for name, keys in world.every_key().items()}


def open_case(world: World, records: list[str], proposer: str = "quan-tri-1") -> str:
    resp = post(world, proposer, "/cases", {
        "title": "Hủy tài liệu hết giá trị năm 2026", "explanation": "Bản thuyết minh: hết hạn.",
        "records": records, "council": ["hd-1", "hd-2"]})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def endorse(world: World, case_id: str) -> None:
    for member in ("hd-1", "hd-2"):
        resp = post(world, member, f"/cases/{case_id}/opinions",
                    {"opinion": "agree", "comment": "Đồng ý hủy"})
        assert resp.status_code == 200, resp.get_json()


def decide(world: World, case_id: str, user: str = "quan-tri-2", data: bytes | None = None):
    return world.client.post(
        f"/api/v1/disposal/cases/{case_id}/decision?number=12/QĐ-SNV&date=2026-12-07",
        data=world.signed_decision() if data is None else data,
        headers={**world.as_(user), "Content-Type": "application/pdf"})


def test_destruction_end_to_end(world: World, tmp_path):
    # appraisal: expired and duplicate listed, permanent never; idempotent
    resp = post(world, "luu-tru", "/scan")
    assert resp.status_code == 200, resp.get_json()
    scanned = resp.get_json()
    assert sorted(scanned["codes"]) == sorted(code(c) for c in (EXPIRED, DUPLICATE, HELD))
    assert scanned["expired"] == 2 and scanned["duplicates"] == 1
    listing = world.client.get("/api/v1/disposal/listing", headers=world.as_("luu-tru")).get_json()
    reasons = {i["code"]: (i["reason"], i["duplicate_of"]) for i in listing["items"]}
    assert reasons[code(DUPLICATE)] == ("duplicate_sha256", code(PERMANENT))
    assert reasons[code(EXPIRED)][0] == "expired"
    assert all(i["status"] == "Xem xét hủy" for i in listing["items"])

    # a legal hold takes the hồ sơ out of the list; the next scan skips it
    hold = post(world, "luu-tru", "/holds", {"record": HELD, "reason": "Đang thanh tra"})
    assert hold.status_code == 201, hold.get_json()
    again = post(world, "luu-tru", "/scan").get_json()
    assert again["listed"] == 0 and again["skipped_held"] == 1
    listed = world.client.get("/api/v1/disposal/listing", headers=world.as_("luu-tru")).get_json()
    assert code(HELD) not in {i["code"] for i in listed["items"]} and listed["total"] == 2

    # the case; wrong records refused with their codes
    case_id = open_case(world, [EXPIRED, DUPLICATE])
    assert problem_codes(post(world, "luu-tru", f"/cases/{case_id}/records",
                              {"record": EXPIRED}))[0] == "DES005"
    held = post(world, "luu-tru", f"/cases/{case_id}/records", {"record": HELD})
    assert held.status_code == 409 and problem_codes(held)[0] == "DES004"
    permanent = post(world, "luu-tru", f"/cases/{case_id}/records", {"record": PERMANENT})
    assert permanent.status_code == 409 and problem_codes(permanent)[0] == "DES003"
    twice = post(world, "luu-tru", "/cases", {"title": "t", "explanation": "e",
                                              "records": [EXPIRED], "council": ["hd-1"]})
    assert twice.status_code == 422 and "DES005" in problem_codes(twice)

    # wrong order: execute before a decision, decide before the council, outsiders
    unapproved = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert unapproved.status_code == 409 and problem_codes(unapproved)[0] == "DES017"
    early = decide(world, case_id)
    assert early.status_code == 409 and problem_codes(early)[0] == "DES012"
    outsider = post(world, "luu-tru", f"/cases/{case_id}/opinions", {"opinion": "agree"})
    assert outsider.status_code == 403 and problem_codes(outsider)[0] == "DES009"
    assert post(world, "doc-gia", "/scan").status_code == 403
    endorse(world, case_id)

    # the decision: never the proposer, a signed PDF that validates
    own = decide(world, case_id, user="quan-tri-1")
    assert own.status_code == 403 and problem_codes(own)[0] == "DES010"
    assert post(world, "luu-tru", f"/cases/{case_id}/decision?number=1&date=2026-12-07",
                data=b"%PDF-1.7").status_code == 403  # an archivist never decides
    unsigned = decide(world, case_id, data=minimal_pdf("khong ky"))
    assert unsigned.status_code == 422 and "DES015" in problem_codes(unsigned)
    garbage = decide(world, case_id, data=b"\x00" * 5000)
    assert garbage.status_code == 422 and "DES014" in problem_codes(garbage)
    broken = decide(world, case_id, data=b"%PDF-1.7\n" + b"\xff" * 4000)
    assert broken.status_code == 422 and set(problem_codes(broken)) & {"DES014", "DES015"}
    stranger_ca, stranger_key = make_root("Ai đó")
    cert, key = make_signer("Người lạ", stranger_ca, stranger_key)
    untrusted = decide(world, case_id, data=sign_pdf(minimal_pdf("x"), cert, key, stranger_ca))
    assert untrusted.status_code == 422 and "DES016" in problem_codes(untrusted)
    huge = decide(world, case_id, data=b"%PDF-" + b"0" * (21 * 2**20))
    assert huge.status_code == 413
    approved = decide(world, case_id)
    assert approved.status_code == 200, approved.get_json()
    decision = approved.get_json()["decisions"][0]
    assert approved.get_json()["status"] == "approved" and "Giám đốc Sở Nội vụ" in decision["signer"]
    twice = decide(world, case_id)
    assert twice.status_code == 409 and problem_codes(twice)[0] == "DES011"

    before = world.every_key()
    assert all(entity_keys(world, EXPIRED)[n] for n in before), "every location holds the AIP"
    permanent_keys = entity_keys(world, PERMANENT)
    with world.khoso.catalog.session() as s:
        doomed = {rf.id for rf in s.scalars(sa.select(RecordFile).where(sa.or_(
            RecordFile.file_code.in_([EXPIRED, DUPLICATE]),
            RecordFile.arc_file_code.in_([code(EXPIRED), code(DUPLICATE)]))))}
        assert len(doomed) == 2
        objids = set(s.scalars(sa.select(Package.objid).where(Package.record_file_id.in_(doomed))))
        assert s.scalar(sa.select(sa.func.count()).select_from(SearchEntry)
                        .where(SearchEntry.objid.in_(objids)))

    # a DIP and a delivery-cache file derived from the hồ sơ, to be removed with it
    ctx = ServiceContext(world.khoso.settings, world.khoso.catalog)
    staff = Identity("luu-tru", frozenset({UserRole.ARCHIVIST}))
    queued = dips.request_dip(ctx, staff, documents=[f"{EXPIRED}.0000001"],
                              send=lambda c, job: "task")
    assert dips.build(ctx, queued.dip).state == "ready" and zip_path(ctx, queued.dip).exists()
    served = world.client.get(f"/api/v1/documents/{EXPIRED}.0000001/files/tai-lieu-1.pdf",
                              headers=world.as_("luu-tru"))
    assert served.status_code == 200
    cached = cache_for(ctx).data_path(hashlib.sha256(served.data).hexdigest())
    assert cached.exists()

    # execution
    done = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert done.status_code == 200, done.get_json()
    case = done.get_json()
    assert case["status"] == "executed" and case["executed_by"] == "luu-tru"
    stones = {t["code"]: t for t in case["tombstones"]}
    assert set(stones) == {code(EXPIRED), code(DUPLICATE)}
    assert stones[code(EXPIRED)]["locations"].keys() == before.keys()
    assert all(len(f["sha256"]) == 64 for f in stones[code(EXPIRED)]["files"])
    assert stones[code(EXPIRED)]["decision"]["number"] == "12/QĐ-SNV"

    # destruction proven by listing every location afterwards
    for file_code in (EXPIRED, DUPLICATE):
        assert entity_keys(world, file_code) == {n: [] for n in before}, file_code
    assert entity_keys(world, PERMANENT) == permanent_keys  # the kept one untouched
    after = world.every_key()
    prefix = case["record_key"]
    for name, keys in after.items():
        mine = sorted(k[len(prefix):] for k in keys if k.startswith(prefix))
        # and one state file per change of the case before its execution (storage.disposal_state)
        states = [m for m in mine if m.startswith("state-")]
        assert [int(m.split("-")[1]) for m in states] == [1, 2, 3, 4, 5], (name, states)
        assert sorted(set(mine) - set(states)) == sorted([
            "bien-ban-huy.pdf", "case.json", f"quyet-dinh-{decision['sha256'][:16]}.pdf"]), name
    storages = __import__("access_api.services.base", fromlist=["x"]).build_storages(
        world.khoso.settings)
    for storage in storages.values():
        with storage.open(prefix + "case.json") as f:
            kept = json.loads(f.read())
        assert {t["code"] for t in kept["tombstones"]} == set(stones)
        assert [m["opinion"] for m in kept["council"]] == ["agree", "agree"]
        assert kept["case"]["explanation"] == "Bản thuyết minh: hết hạn."
        assert len(kept["events"]) == len(objids)
    pdf = tmp_path / "bb.pdf"
    with storages["offsite"].open(prefix + "bien-ban-huy.pdf") as f:
        pdf.write_bytes(f.read())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "BIÊN BẢN VỀ VIỆC HỦY TÀI LIỆU HẾT GIÁ TRỊ" in text and "12/QĐ-SNV" in text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text

    assert not zip_path(ctx, queued.dip).exists() and not cached.exists()
    with world.khoso.catalog.session() as s:
        assert s.get(Dip, queued.dip).state == "removed"
        assert {rf.state for rf in s.scalars(sa.select(RecordFile).where(
            RecordFile.id.in_(doomed)))} == {"destroyed"}
        assert not s.scalar(sa.select(sa.func.count()).select_from(SearchEntry)
                            .where(SearchEntry.objid.in_(objids)))
        events = s.scalars(sa.select(PremisEvent).where(PremisEvent.event_type == "deletion"))
        assert {e.object_identifier for e in events} == objids
        actions = set(s.scalars(sa.select(AuditEntry.action).where(
            AuditEntry.action.like("disposal.%"))))
        assert {"disposal.scan", "disposal.hold.place", "disposal.case.create",
                "disposal.case.opinion", "disposal.case.decide",
                "disposal.case.execute"} <= actions

    # the destruction file as a report: its rows are the tombstones
    spec = REPORTS["ho_so_huy"]
    rows = list(spec.rows(ctx, ReportParams(hoso=case_id)))
    assert {r[1] for r in rows} == set(stones)
    assert all(r[5] == len(stones[r[1]]["files"]) for r in rows)
    preamble = spec.preamble(ctx, ReportParams(hoso=case_id))
    assert any("12/QĐ-SNV" in line for line in preamble)

    # after: executing or deciding again, adding a destroyed record
    assert problem_codes(post(world, "luu-tru", f"/cases/{case_id}/execute"))[0] == "DES028"
    gone = post(world, "luu-tru", "/cases", {"title": "t", "explanation": "e",
                                             "records": [EXPIRED], "council": ["hd-1"]})
    assert gone.status_code == 422 and "DES006" in problem_codes(gone)
    assert world.client.get(f"/api/v1/catalog/records/{EXPIRED}",
                            headers=world.as_("luu-tru")).status_code == 404


def test_execution_after_the_deadline_needs_a_new_decision(world: World):
    post(world, "luu-tru", "/scan")
    case_id = open_case(world, [EXPIRED])
    endorse(world, case_id)
    assert decide(world, case_id).status_code == 200
    with world.khoso.catalog.session() as s:
        s.get(DisposalCase, case_id).deadline = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    late = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert late.status_code == 409 and problem_codes(late)[0] == "DES018"
    assert entity_keys(world, EXPIRED)["replica1"], "nothing deleted"
    renewed = decide(world, case_id, data=world.signed_decision("Quyet dinh moi"))
    assert renewed.status_code == 200 and len(renewed.get_json()["decisions"]) == 2
    assert post(world, "luu-tru", f"/cases/{case_id}/execute").status_code == 200
    assert entity_keys(world, EXPIRED) == {n: [] for n in ("replica1", "replica2", "offsite")}


def test_an_object_lock_blocks_before_anything_is_deleted(world: World):
    post(world, "luu-tru", "/scan")
    case_id = open_case(world, [EXPIRED, DUPLICATE])
    endorse(world, case_id)
    assert decide(world, case_id).status_code == 200
    locked_key = sorted(entity_keys(world, DUPLICATE)["offsite"])[-1]
    until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=3)
    world.s3.put_object_retention(Bucket=world.bucket, Key=locked_key,
                                  Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until})
    before = world.every_key()
    resp = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert resp.status_code == 409, resp.get_json()
    problem = resp.get_json()
    assert problem["code"] == "DES019" and until.date().isoformat() in problem["message"]
    assert "offsite" in problem["message"]
    assert world.every_key() == before, "no partial destruction"
    with world.khoso.catalog.session() as s:
        assert s.get(DisposalCase, case_id).status == "approved"


def test_a_failing_location_is_a_503_and_a_retry_finishes(world: World):
    """A location that cannot be listed (its bucket gone) is the archive's fault: 503 DES020,
    nothing recorded; once the location answers again, executing again finishes."""
    post(world, "luu-tru", "/scan")
    case_id = open_case(world, [EXPIRED])
    endorse(world, case_id)
    assert decide(world, case_id).status_code == 200
    settings = world.khoso.settings
    offsite = settings.location("offsite")
    broken = dataclasses.replace(settings, storage_locations=(
        settings.location("replica1"), settings.location("replica2"),
        StorageLocation("offsite", f"s3://khoso-missing-{case_id[:8]}", offsite.options)))
    client = create_app(broken, world.khoso.catalog).test_client()
    resp = client.post(f"/api/v1/disposal/cases/{case_id}/execute", headers=world.as_("luu-tru"))
    assert resp.status_code == 503, resp.get_json()
    assert resp.get_json()["code"] == "DES020" and "offsite" in resp.get_json()["message"]
    assert all(entity_keys(world, EXPIRED).values()), "nothing deleted anywhere"
    with world.khoso.catalog.session() as s:
        assert s.get(DisposalCase, case_id).status == "approved"
    done = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert done.status_code == 200, done.get_json()
    assert entity_keys(world, EXPIRED) == {n: [] for n in ("replica1", "replica2", "offsite")}


@pytest.mark.parametrize("case_id", ["nope", "0" * 36, "x" * 5000, "%00"])
def test_bad_case_ids_are_not_found(world: World, case_id):
    resp = world.client.get(f"/api/v1/disposal/cases/{case_id}", headers=world.as_("luu-tru"))
    assert resp.status_code == 404 and resp.get_json()["code"] == "DES001"


def test_a_retry_after_the_destruction_file_failed_in_one_location_finishes(world: World,
                                                                            monkeypatch):
    """case.json is written once in every location: the retry must write the same bytes where
    the first attempt already wrote it (nothing in it may depend on the attempt's time)."""
    from storage.errors import os_error
    from storage.s3 import S3Storage

    post(world, "luu-tru", "/scan")
    case_id = open_case(world, [EXPIRED])
    endorse(world, case_id)
    assert decide(world, case_id).status_code == 200
    put = S3Storage.put
    failed: list[str] = []

    def put_failing_once(self, key, stream, **kwargs):
        if key.endswith("/case.json") and not failed:  # offsite is written last
            failed.append(key)
            raise os_error(key, self.name, "put", OSError(5, "Input/output error"))
        return put(self, key, stream, **kwargs)

    monkeypatch.setattr(S3Storage, "put", put_failing_once)
    first = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert first.status_code == 503 and first.get_json()["code"] == "DES020", first.get_json()
    with world.khoso.catalog.session() as s:
        assert s.get(DisposalCase, case_id).status == "approved"
    done = post(world, "luu-tru", f"/cases/{case_id}/execute")
    assert done.status_code == 200, done.get_json()
    assert failed and done.get_json()["status"] == "executed"
    kept = set()
    for storage in __import__("access_api.services.base", fromlist=["x"]).build_storages(
            world.khoso.settings).values():
        with storage.open(failed[0]) as f:
            kept.add(f.read())
    assert len(kept) == 1


def test_a_decision_over_its_limit_names_that_limit_not_the_upload_setting(world: World):
    """The decision PDF's 20 MiB limit is fixed: KHOSO_MAX_UPLOAD_BYTES (uploads) does not
    change it, so its 413 says to send a smaller file rather than to raise that setting."""
    from access_api.services.disposal.cases import MAX_DECISION_BYTES

    case_id = "5d0c6a3e-8f21-4b7a-9e55-2c1d0f3b4a69"  # refused before the case is looked up
    resp = decide(world, case_id, data=b"%PDF-1.7\n" + b"0" * MAX_DECISION_BYTES)
    doc = resp.get_json()
    assert resp.status_code == 413 and doc["code"] == "API004", doc
    assert f"{MAX_DECISION_BYTES} bytes (20 MiB) of a file sent to POST " \
           f"/api/v1/disposal/cases/{case_id}/decision" in doc["message_en"]
    assert "send a smaller file" in doc["message_en"].lower()
    assert "KHOSO_MAX_UPLOAD_BYTES does not apply" in doc["message_en"]
    assert "tệp gửi đến POST" in doc["message"] and "Hãy gửi tệp nhỏ hơn" in doc["message"]
