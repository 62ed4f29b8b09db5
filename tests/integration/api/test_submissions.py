"""Submission over HTTP on both catalogs: a bag streamed to staging and queued as the CLI
queues it, the job followed through its steps, the receipt as JSON and PDF; every hostile or
broken body refused with a stable code and nothing staged left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from preservation.catalog.models import Bitstream, Job, Package
from preservation.catalog.vocab import JobStatus
from tests.support.api_submissions import (
    OTHER_ORGAN,
    client,
    pdf_text,
    run_queued,
    streamed,
    tarred_sip,
    token_for,
    zipped_sip,
)
from tests.support.bags import zip_bytes, zip_symlink
from tests.support.hostile import tar_bag, tar_link, zip_bag
from tests.support.sips import ORGAN, make_sip

pytestmark = pytest.mark.integration


def staged(khoso) -> list[str]:
    folder = khoso.settings.data_dir / "submissions"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def jobs(khoso) -> list[Job]:
    with khoso.catalog.session() as s:
        return list(s.scalars(sa.select(Job).order_by(Job.created_at)))


def post(c, path: Path | bytes, headers, content_type="application/zip", **kw):
    data = path.read_bytes() if isinstance(path, Path) else path
    return c.post("/api/v1/submissions", data=data,
                  headers={**headers, "Content-Type": content_type}, **kw)


def test_a_zip_bag_is_staged_under_the_archives_name_queued_ingested_and_receipted(khoso):
    agency = token_for(khoso, "he-thong-ubnd", "agency_submitter", ORGAN)
    c = client(khoso)
    bag = zipped_sip(khoso.tmp / "a")
    r = c.post("/api/v1/submissions", headers={
        **agency, "Content-Type": "application/zip",
        "Content-Disposition": 'attachment; filename="../../etc/passwd"'}, **streamed(bag))
    assert r.status_code == 202, r.get_json()
    job_id = r.get_json()["job"]
    assert r.get_json()["status_url"] == f"/api/v1/jobs/{job_id}"
    assert r.headers["Location"] == f"/api/v1/jobs/{job_id}"
    [name] = staged(khoso)
    assert name.endswith(".zip") and len(name) == 32 + 4  # the archive's name, not the client's
    [job] = jobs(khoso)
    assert job.payload["agency"] == ORGAN and job.payload["staged"] and job.agency == ORGAN
    assert job.created_by == "he-thong-ubnd" and job.status == JobStatus.QUEUED
    assert (khoso.settings.data_dir / "submissions" / name).read_bytes() == bag.read_bytes()
    shown = c.get(f"/api/v1/jobs/{job_id}", headers=agency).get_json()
    assert (shown["state"], shown["progress"], shown["receipt_url"]) == ("queued", 0.0, None)
    early = c.get(f"/api/v1/jobs/{job_id}/receipt", headers=agency)
    assert early.status_code == 409 and early.get_json()["code"] == "SUB013"
    assert c.get(f"/api/v1/jobs/{job_id}/receipt.pdf", headers=agency).status_code == 409

    outcome = run_queued(khoso, job_id)
    assert outcome.accepted, outcome.report.to_dict()
    assert staged(khoso) == []  # the worker removed its staged copy once done
    shown = c.get(f"/api/v1/jobs/{job_id}", headers=agency).get_json()
    assert shown["state"] == "accepted" and shown["progress"] == 1.0
    assert shown["objid"] == outcome.objid and shown["step"] == "store_aip"
    assert shown["created_at"].endswith("+00:00")
    receipt = c.get(f"/api/v1/jobs/{job_id}/receipt", headers=agency).get_json()
    assert receipt["objid"] == outcome.objid and receipt["agency"]["code"] == ORGAN
    assert receipt["arcFileCode"].startswith("TTLTNA") and receipt["archive"]["code"] == "TTLTNA"
    assert receipt["accepted_at"].endswith("+00:00")
    with khoso.catalog.session() as s:
        stored = {b.path: b.sha256 for b in s.scalars(sa.select(Bitstream).join(Package).where(
            Package.objid == outcome.objid))}
    assert {f["path"]: f["sha256"] for f in receipt["files"]} == stored
    assert receipt["total_files"] == len(stored)
    pdf = c.get(f"/api/v1/jobs/{job_id}/receipt.pdf", headers=agency)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data)
    for line in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                 "BIÊN BẢN GIAO NHẬN TÀI LIỆU LƯU TRỮ ĐIỆN TỬ", "UBND huyện Nghi Lộc",
                 receipt["arcFileCode"], outcome.objid):
        assert line in text, line
    assert all(sha in text for sha in stored.values())


def test_the_body_is_streamed_in_chunks_never_whole(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    bag = tarred_sip(khoso.tmp / "t", gz=True)
    args = streamed(bag)
    r = client(khoso).post("/api/v1/submissions",
                           headers={**admin, "Content-Type": "application/gzip"}, **args)
    assert r.status_code == 202, r.get_json()
    body = args["environ_overrides"]["wsgi.input"]
    assert body.sent == bag.stat().st_size and r.request.content_length is None
    assert body.biggest <= 1 << 20  # read a chunk at a time
    [name] = staged(khoso)
    assert name.endswith(".tar.gz")
    assert run_queued(khoso, r.get_json()["job"]).accepted


@pytest.mark.parametrize("content_type", [None, "application/json", "text/plain",
                                          "application/zipx", "multipart/form-data; boundary=x"])
def test_a_body_that_is_not_a_serialised_bag_by_type_is_415(khoso, content_type):
    admin = token_for(khoso, "quan-tri", "admin")
    headers = {**admin, **({"Content-Type": content_type} if content_type else {})}
    r = client(khoso).post("/api/v1/submissions", data=b"PK\x03\x04xx", headers=headers)
    assert r.status_code == 415 and r.get_json()["code"] == "API005"
    assert "application/zip" in r.get_json()["message_en"]
    assert staged(khoso) == [] and jobs(khoso) == []


def test_an_empty_body_is_refused(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso)
    r = post(c, b"", admin)
    assert r.status_code == 400 and r.get_json()["code"] == "SUB004"
    r = c.post("/api/v1/submissions", headers={**admin, "Content-Type": "application/x-tar"},
               **streamed([]))
    assert r.status_code == 400 and r.get_json()["code"] == "SUB004"
    assert staged(khoso) == [] and jobs(khoso) == []


def test_oversized_bodies_are_413_with_nothing_kept(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso, max_upload_bytes=4096)
    declared = post(c, b"PK\x03\x04" + b"x" * 5000, admin)
    assert declared.status_code == 413 and declared.get_json()["code"] == "API004"
    assert "4096" in declared.get_json()["message_en"]
    assert "set by the setting KHOSO_MAX_UPLOAD_BYTES" in declared.get_json()["message_en"]
    assert "đặt bằng thiết lập KHOSO_MAX_UPLOAD_BYTES" in declared.get_json()["message"]
    chunked = c.post("/api/v1/submissions", headers={**admin, "Content-Type": "application/zip"},
                     **streamed(b"x" * 1000 for _ in range(10)))
    assert chunked.status_code == 413 and chunked.get_json()["code"] == "API004"
    assert staged(khoso) == [] and jobs(khoso) == []


def test_a_body_cut_short_keeps_nothing(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    bag = zipped_sip(khoso.tmp / "cut")
    r = client(khoso).post("/api/v1/submissions",
                           headers={**admin, "Content-Type": "application/zip"},
                           **streamed(bag, fail_after=bag.stat().st_size // 2))
    assert r.status_code == 400 and r.get_json()["code"] == "SUB005"
    assert staged(khoso) == [] and jobs(khoso) == []


def test_roles_that_may_not_submit(khoso):
    c = client(khoso)
    bag = zipped_sip(khoso.tmp / "r")
    assert post(c, bag, {}).status_code == 401
    assert post(c, bag, {"Authorization": "Bearer nope"}).get_json()["code"] == "AUTH003"
    for role in ("reader", "preservation_officer"):
        r = post(c, bag, token_for(khoso, f"u-{role}", role))
        assert r.status_code == 403 and r.get_json()["code"] == "AUTH004"
    unbound = token_for(khoso, "khong-co-quan", "agency_submitter")
    r = post(c, bag, unbound)
    assert r.status_code == 403 and r.get_json()["code"] == "SUB002"
    assert staged(khoso) == [] and jobs(khoso) == []
    assert post(c, bag, token_for(khoso, "luu-tru-vien", "archivist")).status_code == 202


def test_the_other_agencys_bag_is_refused_at_submission_or_by_the_worker(khoso):
    other = token_for(khoso, "co-quan-khac", "agency_submitter", OTHER_ORGAN)
    c = client(khoso)
    r = post(c, zipped_sip(khoso.tmp / "z"), other)  # bag-info read from the zip directory
    assert r.status_code == 403 and r.get_json()["code"] == "SUB001"
    assert ORGAN in r.get_json()["message"] and OTHER_ORGAN in r.get_json()["message"]
    r = post(c, tarred_sip(khoso.tmp / "t"), other, "application/x-tar")  # a plain tar's head
    assert r.status_code == 403 and r.get_json()["code"] == "SUB001"
    assert staged(khoso) == [] and jobs(khoso) == []
    # a .tar.gz is not opened at submission: the worker refuses it from the job's agency
    r = post(c, tarred_sip(khoso.tmp / "g", gz=True), other, "application/gzip")
    assert r.status_code == 202
    outcome = run_queued(khoso, r.get_json()["job"])
    assert not outcome.accepted and "SUB001" in outcome.report.codes()
    shown = c.get(r.get_json()["status_url"], headers=other).get_json()
    assert shown["state"] == "rejected" and shown["step"] == "validate_sip"
    assert "SUB001" in {i["code"] for i in shown["issues"]}
    assert staged(khoso) == []  # quarantined with its report, the staged copy removed


@pytest.mark.parametrize("case", ["garbage", "truncated", "traversal", "absolute", "symlink",
                                  "tar-symlink"])
def test_hostile_archives_are_taken_then_rejected_with_codes(khoso, case, tmp_path):
    admin = token_for(khoso, "quan-tri", "admin")
    bag = make_sip(tmp_path / "b")
    kind = "application/zip"
    if case == "garbage":
        body = os.urandom(4096)
    elif case == "truncated":
        body = zip_bag(bag, tmp_path / "t.zip").read_bytes()[:-300]
    elif case == "traversal":
        body = zip_bag(bag, tmp_path / "x.zip", extra=[("bag/../../evil.txt", b"x")]).read_bytes()
    elif case == "absolute":
        body = zip_bag(bag, tmp_path / "x.zip", extra=[("/etc/evil.txt", b"x")]).read_bytes()
    elif case == "symlink":
        body = zip_bytes([("bag/bagit.txt", b"BagIt-Version: 1.0\n"),
                          (zip_symlink("bag/data/link", "/etc/passwd"), b"/etc/passwd")])
    else:
        kind = "application/x-tar"
        body = tar_bag(bag, tmp_path / "l.tar",
                       [tar_link("bag/data/link", "/etc/passwd", b"2")]).read_bytes()
    r = post(client(khoso), body, admin, kind)
    assert r.status_code == 202, r.get_json()
    outcome = run_queued(khoso, r.get_json()["job"])
    assert not outcome.accepted and outcome.failed_step in ("receive", "unpack_safely")
    shown = client(khoso).get(r.get_json()["status_url"], headers=admin).get_json()
    assert shown["state"] == "rejected" and shown["issues"]
    assert all(i["message"] and i["message_en"] for i in shown["issues"])
    assert staged(khoso) == []
    assert not (khoso.settings.data_dir.parent / "evil.txt").exists()


def test_a_full_queue_is_503_with_retry_after_and_nothing_staged(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso, max_queued_jobs=1)
    bag = zipped_sip(khoso.tmp / "q")
    assert post(c, bag, admin).status_code == 202
    r = post(c, bag, admin)
    assert r.status_code == 503 and r.get_json()["code"] == "SUB003"
    assert int(r.headers["Retry-After"]) > 0
    assert len(staged(khoso)) == 1 and len(jobs(khoso)) == 1


def test_a_broker_down_is_503_and_leaves_no_job_to_run(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso, broker_url="redis://127.0.0.1:1/0")
    r = post(c, zipped_sip(khoso.tmp / "b"), admin)
    assert r.status_code == 503 and r.get_json()["code"] == "SUB007"
    assert "Retry-After" in r.headers
    assert staged(khoso) == []
    assert [j.status for j in jobs(khoso)] == [JobStatus.CANCELLED]
    failed = client(khoso).get("/api/v1/jobs?state=failed", headers=admin).get_json()
    assert failed["total"] == 1 and failed["items"][0]["state"] == "failed"
    assert client(khoso).get("/api/v1/jobs?state=queued", headers=admin).get_json()["total"] == 0


def test_jobs_are_listed_paged_by_state_and_an_agency_sees_only_its_own(khoso):
    mine = token_for(khoso, "co-quan-nay", "agency_submitter", ORGAN)
    other = token_for(khoso, "co-quan-khac", "agency_submitter", OTHER_ORGAN)
    officer = token_for(khoso, "bao-quan", "preservation_officer")
    reader = token_for(khoso, "doc-gia", "reader")
    c = client(khoso)
    first = post(c, zipped_sip(khoso.tmp / "1"), mine).get_json()["job"]
    second = post(c, zipped_sip(khoso.tmp / "2", file_code="H49.64.33.2001.02"),
                  mine).get_json()["job"]
    assert run_queued(khoso, first).accepted
    listing = c.get("/api/v1/jobs?size=1", headers=mine).get_json()
    assert listing["total"] == 2 and len(listing["items"]) == 1 and listing["size"] == 1
    assert listing["items"][0]["id"] == second  # the newest first
    page2 = c.get("/api/v1/jobs?size=1&page=2", headers=mine).get_json()
    assert [j["id"] for j in page2["items"]] == [first]
    assert c.get("/api/v1/jobs?page=99", headers=mine).get_json()["items"] == []
    accepted = c.get("/api/v1/jobs?state=accepted", headers=mine).get_json()
    assert [j["id"] for j in accepted["items"]] == [first] and accepted["total"] == 1
    assert [j["id"] for j in c.get("/api/v1/jobs?state=queued", headers=mine)
            .get_json()["items"]] == [second]
    assert c.get("/api/v1/jobs?state=rejected", headers=mine).get_json()["total"] == 0
    assert c.get("/api/v1/jobs", headers=other).get_json()["total"] == 0
    for path in (f"/api/v1/jobs/{first}", f"/api/v1/jobs/{first}/receipt",
                 f"/api/v1/jobs/{first}/receipt.pdf"):
        r = c.get(path, headers=other)
        assert r.status_code == 404 and r.get_json()["code"] == "GEN002", path
    assert c.get("/api/v1/jobs", headers=officer).get_json()["total"] == 2
    assert c.get("/api/v1/jobs", headers=reader).status_code == 403
    assert c.get("/api/v1/jobs").status_code == 401
    for bad in ("state=finished", "page=0", "size=1001", "size=x", "page=-1", "sate=done"):
        r = c.get(f"/api/v1/jobs?{bad}", headers=officer)
        assert r.status_code == 422 and r.get_json()["code"] == "API001", bad
    assert c.get("/api/v1/jobs?state=done", headers=officer).get_json()["total"] == 0
    for unknown in ("nope", "0" * 36, "x" * 500, "%00"):
        r = c.get(f"/api/v1/jobs/{unknown}", headers=officer)
        assert r.status_code == 404 and r.get_json()["code"] == "GEN002", unknown


def test_the_worker_records_the_step_and_progress_of_a_running_job(khoso):
    """The recorder writes the step at once and progress as ticks come, and never over a job
    that has finished."""
    import time

    from ingest.jobs import StepRecorder, create_job

    job_id = create_job(khoso.catalog, khoso.tmp, "tester")
    with khoso.catalog.session() as s:
        s.get_one(Job, job_id).status = JobStatus.RUNNING
    recorder = StepRecorder(khoso.catalog, job_id, every=0.05)

    def row():
        with khoso.catalog.session() as s:
            job = s.get_one(Job, job_id)
            return job.step, job.progress

    try:
        recorder.step("scan_viruses", 4, 10)
        recorder.tick("scan", 5, 10)
        recorder.tick("store", 1, 10)  # another stage's count: progress never goes back
        deadline = time.monotonic() + 10
        while row() != ("scan_viruses", 0.45) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert row() == ("scan_viruses", 0.45)
        with khoso.catalog.session() as s:
            s.get_one(Job, job_id).status = JobStatus.SUCCEEDED
        recorder.step("store_aip", 9, 10)
        time.sleep(0.3)
        assert row() == ("scan_viruses", 0.45)
    finally:
        recorder.stop()


def test_receipts_need_a_role_that_sees_jobs(khoso):
    c = client(khoso)
    job = "0" * 36
    for path in (f"/api/v1/jobs/{job}/receipt", f"/api/v1/jobs/{job}/receipt.pdf"):
        assert c.get(path).status_code == 401
        assert c.get(path, headers=token_for(khoso, f"r{len(path)}", "reader")).status_code == 403
        assert c.get(path, headers=token_for(khoso, f"a{len(path)}", "archivist")
                     ).status_code == 404


def test_every_endpoint_answers_each_role_as_the_matrix_says(khoso):
    from tests.integration.api.matrix_submissions import ROWS
    from tests.support.api_submissions import all_roles

    heads = all_roles(khoso)
    c = client(khoso)
    for method, path, expected in ROWS:
        for role, status in expected.items():
            r = c.open(path, method=method, headers=heads[role])
            assert r.status_code == status, (method, path, role, r.get_data(as_text=True))
            if status >= 400 and method != "HEAD":
                assert r.get_json()["code"], (method, path, role)


def test_the_archives_own_staging_failing_is_503_never_a_rejection(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso)
    (khoso.settings.data_dir / "submissions").write_text("not a folder")
    (khoso.settings.data_dir / "uploads").write_text("not a folder")
    r = post(c, zipped_sip(khoso.tmp / "d"), admin)
    assert r.status_code == 503 and r.get_json()["code"] == "SUB006" and r.headers["Retry-After"]
    r = c.post("/api/v1/uploads", headers={**admin, "Tus-Resumable": "1.0.0",
                                            "Upload-Length": "10"})
    assert r.status_code == 503 and r.get_json()["code"] == "SUB006"
    assert jobs(khoso) == []
