"""Resumable uploads (tus 1.0.0 core, creation, termination) on both catalogs: a bag sent in
pieces, a connection cut half-way and resumed from what ``HEAD`` says, the last byte queuing
the ingest; every malformed header refused with its code; uploads private to their creator and
gone once expired."""

from __future__ import annotations

import base64
import datetime as dt
import os
import time

import pytest
import sqlalchemy as sa

from preservation.catalog.models import Job, Upload
from tests.support.api_submissions import (
    OTHER_ORGAN,
    client,
    run_queued,
    streamed,
    token_for,
    zipped_sip,
)
from tests.support.sips import ORGAN

pytestmark = pytest.mark.integration
TUS = {"Tus-Resumable": "1.0.0"}
OFFSET = "application/offset+octet-stream"


def meta(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(c, headers, length: int, **values: str):
    return c.post("/api/v1/uploads", headers={**headers, **TUS, "Upload-Length": str(length),
                                              "Upload-Metadata": meta(**values)})


def patch(c, url, headers, offset: int, data=b"", **kw):
    return c.patch(url, data=data, headers={**headers, **TUS, "Content-Type": OFFSET,
                                             "Upload-Offset": str(offset)}, **kw)


def upload_files(khoso) -> list[str]:
    folder = khoso.settings.data_dir / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_options_says_what_the_server_speaks(khoso):
    r = client(khoso).options("/api/v1/uploads")
    assert r.status_code == 204
    assert r.headers["Tus-Version"] == "1.0.0" and r.headers["Tus-Resumable"] == "1.0.0"
    assert int(r.headers["Tus-Max-Size"]) == khoso.settings.max_upload_bytes
    assert set(r.headers["Tus-Extension"].split(",")) == {"creation", "termination"}


def test_an_upload_cut_half_way_resumes_from_head_and_its_last_byte_queues_the_ingest(khoso):
    agency = token_for(khoso, "he-thong", "agency_submitter", ORGAN)
    c = client(khoso)
    bag = zipped_sip(khoso.tmp / "u")
    data = bag.read_bytes()
    r = create(c, agency, len(data), filetype="application/zip", filename="../../hồ sơ.zip")
    assert r.status_code == 201, r.get_json()
    url = r.headers["Location"]
    assert url.startswith("/api/v1/uploads/") and r.headers["Tus-Resumable"] == "1.0.0"
    assert r.get_json()["filename"] == "hồ sơ.zip" and r.get_json()["offset"] == 0
    half = len(data) // 2
    # the connection breaks after `half` bytes of a PATCH meant to carry everything
    cut = c.patch(url, headers={**agency, **TUS, "Content-Type": OFFSET, "Upload-Offset": "0"},
                  **streamed([data[i:i + 4096] for i in range(0, len(data), 4096)],
                             fail_after=half))
    assert cut.status_code == 400 and cut.get_json()["code"] == "SUB005"
    head = c.head(url, headers={**agency, **TUS})
    assert head.status_code == 200 and head.headers["Upload-Offset"] == str(half)
    assert head.headers["Upload-Length"] == str(len(data))
    assert head.headers["Cache-Control"] == "no-store"
    [name] = upload_files(khoso)
    assert (khoso.settings.data_dir / "uploads" / name).read_bytes() == data[:half]
    stale = patch(c, url, agency, 0, data)
    assert stale.status_code == 409 and stale.get_json()["code"] == "SUB010"
    assert stale.headers["Tus-Resumable"] == "1.0.0"
    step = patch(c, url, agency, half, data[half:half + 100])
    assert step.status_code == 204 and step.headers["Upload-Offset"] == str(half + 100)
    assert "Khoso-Job" not in step.headers
    last = patch(c, url, agency, half + 100, data[half + 100:])
    assert last.status_code == 204 and last.headers["Upload-Offset"] == str(len(data))
    job_id = last.headers["Khoso-Job"]
    shown = c.get(url, headers=agency).get_json()
    assert shown["job"] == job_id and shown["complete"] and shown["status_url"].endswith(job_id)
    assert upload_files(khoso) == []  # the bytes now belong to the job's staged copy
    again = patch(c, url, agency, len(data), b"")
    assert again.status_code == 409 and again.get_json()["code"] == "SUB011"
    with khoso.catalog.session() as s:
        job = s.get_one(Job, job_id)
        assert job.agency == ORGAN and job.payload["staged"]
    outcome = run_queued(khoso, job_id)
    assert outcome.accepted, outcome.report.to_dict()
    job = c.get(f"/api/v1/jobs/{job_id}", headers=agency).get_json()
    assert job["state"] == "accepted" and job["objid"] == outcome.objid
    assert c.get(f"/api/v1/jobs/{job_id}/receipt", headers=agency).status_code == 200


def test_malformed_creation_headers_are_refused_with_codes(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso, max_upload_bytes=10_000)
    cases = {
        None: (400, "SUB008"), "": (400, "SUB008"), "-5": (400, "SUB008"),
        "abc": (400, "SUB008"), "1e3": (400, "SUB008"), "0": (400, "SUB004"),
        "10001": (413, "API004"), "9" * 40: (400, "SUB008"), "99999999999999999999": (413, "API004"),
    }
    for length, (status, code) in cases.items():
        headers = {**admin, **TUS, **({"Upload-Length": length} if length is not None else {})}
        r = c.post("/api/v1/uploads", headers=headers)
        assert (r.status_code, r.get_json()["code"]) == (status, code), length
    for metadata in ("filename !!!notbase64", "a b c", "bad key x", ",", "k\té YQ==",
                     "filename " + base64.b64encode(b"\xff\xfe").decode(),
                     "filename YQ==,filename Yg==", "x" * 5000):
        r = c.post("/api/v1/uploads", headers={**admin, **TUS, "Upload-Length": "10",
                                                "Upload-Metadata": metadata})
        assert (r.status_code, r.get_json()["code"]) == (400, "SUB009"), metadata
    wrong = create(c, admin, 10, filetype="text/html")
    assert wrong.status_code == 415 and wrong.get_json()["code"] == "API005"
    version = c.post("/api/v1/uploads", headers={**admin, "Tus-Resumable": "0.2.2",
                                                  "Upload-Length": "10"})
    assert version.status_code == 412 and version.get_json()["code"] == "SUB012"
    assert version.headers["Tus-Version"] == "1.0.0"
    assert upload_files(khoso) == []
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(Upload.id))) == 0


def test_malformed_patches_are_refused_and_change_nothing(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso)
    url = create(c, admin, 10, filetype="application/zip").headers["Location"]
    wrong = c.patch(url, data=b"abc", headers={**admin, **TUS, "Content-Type": "application/zip",
                                               "Upload-Offset": "0"})
    assert wrong.status_code == 415 and wrong.get_json()["code"] == "API005"
    assert OFFSET in wrong.get_json()["message_en"]
    for offset in (None, "", "-1", "x", "11", "0x1"):
        headers = {**admin, **TUS, "Content-Type": OFFSET,
                   **({"Upload-Offset": offset} if offset is not None else {})}
        r = c.patch(url, data=b"abc", headers=headers)
        assert (r.status_code, r.get_json()["code"]) == (400, "SUB008"), offset
    mismatch = patch(c, url, admin, 3, b"abc")
    assert mismatch.status_code == 409 and mismatch.get_json()["code"] == "SUB010"
    past = patch(c, url, admin, 0, b"x" * 11)
    assert past.status_code == 413 and past.get_json()["code"] == "SUB014"
    past_chunked = c.patch(url, headers={**admin, **TUS, "Content-Type": OFFSET,
                                         "Upload-Offset": "0"}, **streamed([b"x" * 6] * 2))
    assert past_chunked.status_code == 413 and past_chunked.get_json()["code"] == "SUB014"
    head = c.head(url, headers=admin)
    assert head.headers["Upload-Offset"] == "0"
    [name] = upload_files(khoso)
    assert (khoso.settings.data_dir / "uploads" / name).read_bytes() == b""
    ok = patch(c, url, admin, 0, b"abcd")
    assert ok.status_code == 204 and ok.headers["Upload-Offset"] == "4"


def test_uploads_belong_to_their_creator_and_termination_removes_them(khoso):
    mine = token_for(khoso, "co-quan-nay", "agency_submitter", ORGAN)
    other = token_for(khoso, "co-quan-khac", "agency_submitter", OTHER_ORGAN)
    admin = token_for(khoso, "quan-tri", "admin")
    reader = token_for(khoso, "doc-gia", "reader")
    c = client(khoso)
    url = create(c, mine, 100, filetype="application/zip").headers["Location"]
    for who in (other, admin):
        assert c.get(url, headers=who).status_code == 404
        assert c.head(url, headers=who).status_code == 404
        assert patch(c, url, who, 0, b"x").status_code == 404
        assert c.delete(url, headers={**who, **TUS}).status_code == 404
    assert c.get(url, headers=reader).status_code == 403
    assert c.get(url).status_code == 401
    assert c.post("/api/v1/uploads", headers={**reader, **TUS, "Upload-Length": "5"}
                  ).status_code == 403
    for unknown in ("nope", "0" * 32, "0" * 300, "%2e%2e"):
        r = c.get(f"/api/v1/uploads/{unknown}", headers=mine)
        assert r.status_code == 404 and r.get_json()["code"] == "GEN002", unknown
    gone = c.delete(url, headers={**mine, **TUS})
    assert gone.status_code == 204 and gone.headers["Tus-Resumable"] == "1.0.0"
    assert c.get(url, headers=mine).status_code == 404
    assert upload_files(khoso) == []


def test_expired_uploads_are_unknown_and_cleaned(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso)
    url = create(c, admin, 100, filetype="application/zip").headers["Location"]
    assert patch(c, url, admin, 0, b"x" * 10).status_code == 204
    with khoso.catalog.session() as s:
        s.execute(sa.update(Upload).values(
            expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    assert c.head(url, headers=admin).status_code == 404
    assert patch(c, url, admin, 10, b"x").status_code == 404
    staging = khoso.settings.data_dir / "submissions"
    staging.mkdir(exist_ok=True)
    (staging / "dead.part").write_bytes(b"PK")  # a body a killed server was receiving
    os.utime(staging / "dead.part", (time.time() - 2 * 86400,) * 2)
    (staging / "live.part").write_bytes(b"PK")
    fresh = create(c, admin, 5, filetype="application/zip")  # creating one sweeps the expired
    assert fresh.status_code == 201
    assert upload_files(khoso) == [fresh.get_json()["id"]]
    assert sorted(p.name for p in staging.iterdir()) == ["live.part"]
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(Upload.id))) == 1


def test_the_other_agencys_bag_uploaded_is_refused_on_its_last_byte(khoso):
    other = token_for(khoso, "co-quan-khac", "agency_submitter", OTHER_ORGAN)
    c = client(khoso)
    data = zipped_sip(khoso.tmp / "o").read_bytes()
    url = create(c, other, len(data), filetype="application/zip").headers["Location"]
    r = patch(c, url, other, 0, data)
    assert r.status_code == 403 and r.get_json()["code"] == "SUB001"
    assert upload_files(khoso) == [] and c.get(url, headers=other).status_code == 404
    assert not list((khoso.settings.data_dir / "submissions").iterdir())
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count(Job.id))) == 0


def test_a_full_queue_keeps_the_complete_upload_for_a_later_try(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    data = zipped_sip(khoso.tmp / "f").read_bytes()
    c = client(khoso)
    url = create(c, admin, len(data), filetype="application/zip").headers["Location"]
    assert patch(c, url, admin, 0, data[:100]).status_code == 204
    full = client(khoso, max_queued_jobs=1)
    assert full.post("/api/v1/submissions", data=data, headers={
        **admin, "Content-Type": "application/zip"}).status_code == 202
    r = patch(full, url, admin, 100, data[100:])
    assert r.status_code == 503 and r.get_json()["code"] == "SUB003" and r.headers["Retry-After"]
    head = c.head(url, headers=admin)
    assert head.headers["Upload-Offset"] == str(len(data)) and "Khoso-Job" not in head.headers
    retried = patch(c, url, admin, len(data), b"")  # the queue has room again here
    assert retried.status_code == 204 and retried.headers["Khoso-Job"]
    assert run_queued(khoso, retried.headers["Khoso-Job"]).accepted is not None


def test_a_patch_body_is_read_into_one_buffer_not_a_bytes_object_per_chunk(khoso, monkeypatch):
    """The body is read with ``readinto`` into one reusable buffer: a ``read`` (a new bytes
    object per 1 MiB chunk) is never called, and every byte lands in the upload's file, also
    a body streamed in uneven pieces."""
    from access_api.api import submissions as api

    def no_bytes(self, size=-1, /):
        raise AssertionError("the body was read into a new bytes object")

    monkeypatch.setattr(api.Body, "read", no_bytes)
    admin = token_for(khoso, "quan-tri", "admin")
    c = client(khoso)
    data = os.urandom((3 << 20) + 12345)
    url = create(c, admin, len(data) + 1, filetype="application/zip").headers["Location"]
    half = (1 << 20) + 7
    first = patch(c, url, admin, 0, data[:half])
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(half)
    rest = c.patch(url, headers={**admin, **TUS, "Content-Type": OFFSET,
                                 "Upload-Offset": str(half)},
                   **streamed([data[half:half + 5], data[half + 5:]]))
    assert rest.status_code == 204 and rest.headers["Upload-Offset"] == str(len(data))
    [name] = upload_files(khoso)
    assert (khoso.settings.data_dir / "uploads" / name).read_bytes() == data
