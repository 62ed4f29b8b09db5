"""Files over HTTP: verified delivery (a copy that fails its SHA-256 is never served, not even
partly, and is flagged for repair), ranges, ETags, HEAD, names, the access policy and the
register, and dissemination copies marked BẢN SAO."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import unicodedata
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from access_api.services import build_storages
from preservation.catalog.models import (
    AccessEntry,
    AccessRequest,
    AccessRequestItem,
    AuditEntry,
    PremisEvent,
    StoredCopy,
)
from storage.audit import run_audit
from tests.support.catalog_api import make_api, make_mode_sip, page_texts, pdf_pages

CODE, CONDITIONAL, SECRET = "H49.64.33.2001.201", "H49.64.33.2001.202", "H49.64.33.2001.203"
ARC = "TTLTNA."
VN_NAME = "Quyết định thành lập.pdf"  # NFC, as the AIP stores it
BODY = pdf_pages(3, "Quyet dinh")
URL = f"/api/v1/documents/{CODE}.0000001/files/{quote(VN_NAME)}"
PNG_URL = f"/api/v1/documents/{CODE}.0000002/files/anh.png"


@pytest.fixture
def archive(khoso):
    for code, mode in ((CODE, "01"), (CONDITIONAL, "02"), (SECRET, "03")):
        sip = make_mode_sip(khoso.tmp / code, code, mode=mode, doc_modes=(mode, mode),
                            names=(VN_NAME, "anh.png"), contents={VN_NAME: BODY})
        outcome = khoso.ingest(sip)
        assert outcome.accepted, outcome.report
    return make_api(khoso)


def stored(khoso, replica, code=CODE, name=VN_NAME):
    (path,) = khoso.replica(replica).glob(f"TTLTNA/P623/*{code}/v1/data/representations/rep1/"
                                          f"data/{name}")
    return path


def entries(khoso, action=None):
    with khoso.catalog.session() as s:
        query = sa.select(AccessEntry).order_by(AccessEntry.id)
        if action:
            query = query.where(AccessEntry.action == action)
        return list(s.scalars(query))


def corrupt(path, data=b"rotted bytes"):
    os.chmod(path, 0o644)
    path.write_bytes(data)


def test_a_download_is_the_verified_file_with_its_etag_and_is_registered(khoso, archive):
    resp = archive.get(URL)
    assert resp.status_code == 200 and resp.data == BODY
    digest = hashlib.sha256(BODY).hexdigest()
    assert resp.headers["ETag"] == f'"{digest}"' and resp.headers["Accept-Ranges"] == "bytes"
    assert int(resp.headers["Content-Length"]) == len(BODY)
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" + quote(VN_NAME, safe="") in resp.headers["Content-Disposition"]
    (entry,) = entries(khoso)
    assert (entry.actor, entry.action, entry.object_id) == ("u-reader", "download",
                                                            f"{ARC}{CODE}.0000001")
    assert entry.detail["sha256"] == digest and entry.detail["name"] == VN_NAME
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).where(
            AuditEntry.action == "access.download")) == 1


@pytest.mark.parametrize("spec,status,part", [
    ("bytes=0-0", 206, (0, 1)), ("bytes=-500", 206, (len(BODY) - 500, len(BODY))),
    ("bytes=500-", 206, (500, len(BODY))), ("bytes=10-19", 206, (10, 20)),
    (f"bytes=-{len(BODY) + 100}", 206, (0, len(BODY))),  # a suffix longer than the file
    (f"bytes=0-{len(BODY) + 100}", 206, (0, len(BODY))),  # an end past the end
    ("bytes=0-1,5-6", 200, (0, len(BODY))),  # several ranges: the whole file
    ("bytes=abc", 200, (0, len(BODY))), ("pages=1-2", 200, (0, len(BODY))),
    ("bytes=9-3", 200, (0, len(BODY))),  # malformed: ignored
])
def test_ranges(khoso, archive, spec, status, part):
    resp = archive.get(URL, Range=spec)
    assert resp.status_code == status, spec
    assert resp.data == BODY[part[0]:part[1]]
    if status == 206:
        assert resp.headers["Content-Range"] == f"bytes {part[0]}-{part[1] - 1}/{len(BODY)}"
        assert entries(khoso)[-1].detail["range"] == f"{part[0]}-{part[1] - 1}"


@pytest.mark.parametrize("spec", ["bytes=99999-", "bytes=99999-100000"])
def test_an_unsatisfiable_range_is_416_with_a_code_and_no_bytes(khoso, archive, spec):
    spec = spec.replace("99999", str(len(BODY)))
    resp = archive.get(URL, Range=spec)
    assert resp.status_code == 416 and resp.get_json()["code"] == "ACS003"
    assert resp.headers["Content-Range"] == f"bytes */{len(BODY)}"
    assert entries(khoso) == []


def test_if_range_and_if_none_match(khoso, archive):
    etag = f'"{hashlib.sha256(BODY).hexdigest()}"'
    assert archive.get(URL, Range="bytes=0-9", **{"If-Range": etag}).status_code == 206
    other = archive.get(URL, Range="bytes=0-9", **{"If-Range": '"other"'})
    assert other.status_code == 200 and other.data == BODY
    before = len(entries(khoso))
    for given in (etag, f"W/{etag}", f'"x", {etag}', "*"):
        resp = archive.get(URL, **{"If-None-Match": given})
        assert resp.status_code == 304 and resp.data == b"" and resp.headers["ETag"] == etag
    assert archive.get(URL, **{"If-None-Match": '"x"'}).status_code == 200
    assert len(entries(khoso)) == before + 1  # a 304 sends nothing and registers nothing


def test_head_gives_the_headers_and_reads_nothing(khoso, archive):
    resp = archive.head(URL)
    assert resp.status_code == 200 and resp.data == b""
    assert int(resp.headers["Content-Length"]) == len(BODY)
    assert resp.headers["ETag"].strip('"') == hashlib.sha256(BODY).hexdigest()
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert entries(khoso) == []
    assert not (khoso.settings.data_dir / "cache" / "files").exists() or not any(
        (khoso.settings.data_dir / "cache" / "files").rglob("*.json"))


def test_inline_is_a_reading_copy_registered_as_a_view(khoso, archive):
    resp = archive.get(URL + "?disposition=inline")
    assert resp.status_code == 200 and resp.headers["Content-Disposition"].startswith("inline;")
    assert [e.action for e in entries(khoso)] == ["view"]
    bad = archive.get(URL + "?disposition=print")
    assert bad.status_code == 422 and bad.get_json()["code"] == "API001"


@pytest.mark.parametrize("name,status,code", [
    ("..", 400, "ACS002"), (".", 400, "ACS002"), ("a%5Cb.pdf", 400, "ACS002"),
    ("a%00b.pdf", 400, "ACS002"), ("%0A", 400, "ACS002"),
    ("..%2F..%2Fetc%2Fpasswd", 404, "GEN002"), ("tai-lieu-9.pdf", 404, "GEN002"),
    ("METS.xml", 404, "GEN002"), ("EAD_doc_tai-lieu-1.xml", 404, "GEN002"),
    ("anh.png", 404, "GEN002"),  # another document's file
])
def test_hostile_and_unknown_names(khoso, archive, name, status, code):
    resp = archive.get(f"/api/v1/documents/{CODE}.0000001/files/{name}")
    assert resp.status_code == status and resp.get_json()["code"] == code, name
    assert entries(khoso) == []


def test_a_decomposed_name_is_the_same_file(archive):
    nfd = unicodedata.normalize("NFD", VN_NAME)
    assert nfd != VN_NAME
    resp = archive.get(f"/api/v1/documents/{CODE}.0000001/files/{quote(nfd)}")
    assert resp.status_code == 200 and resp.data == BODY


@pytest.mark.parametrize("role,status", [
    ("anonymous", 401), ("reader", 403), ("agency_submitter", 200), ("archivist", 200),
    ("admin", 200), ("preservation_officer", 200)])
def test_conditional_content_needs_a_request(khoso, archive, role, status):
    url = f"/api/v1/documents/{CONDITIONAL}.0000001/files/{quote(VN_NAME)}"
    resp = archive.get(url, role)
    assert resp.status_code == status
    if status == 403:
        assert resp.get_json()["code"] == "ACS001"
        assert archive.get(url + "/copy", role).status_code == 403


def test_an_approved_request_opens_conditional_content_and_is_registered(khoso, archive):
    url = f"/api/v1/documents/{CONDITIONAL}.0000001/files/{quote(VN_NAME)}"
    with khoso.catalog.session() as s:
        request = AccessRequest(requester="u-reader", purpose="01", purpose_content="nghiên cứu",
                                status="approved",
                                expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                                items=[AccessRequestItem(doc_code=f"{ARC}{CONDITIONAL}.0000001")])
        s.add(request)
        s.flush()
        request_id = request.id
    resp = archive.get(url)
    assert resp.status_code == 200 and resp.data == BODY
    (entry,) = entries(khoso)
    assert entry.request_id == request_id and entry.purpose == "nghiên cứu"
    with khoso.catalog.session() as s:
        s.get(AccessRequest, request_id).expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(1)
    assert archive.get(url).status_code == 403


@pytest.mark.parametrize("role,status", [
    ("anonymous", 401), ("reader", 404), ("agency_submitter", 200), ("archivist", 200)])
def test_secret_content_is_not_found_for_those_who_may_not_see_it(archive, role, status):
    url = f"/api/v1/documents/{SECRET}.0000001/files/{quote(VN_NAME)}"
    resp = archive.get(url, role)
    assert resp.status_code == status
    if status == 404:
        assert resp.get_json()["code"] == "GEN002"
        assert archive.get(url + "/copy", role).status_code == 404


def test_a_corrupt_replica_is_never_served_and_is_flagged_then_repaired(khoso, archive):
    bad = stored(khoso, "replica1")
    corrupt(bad)
    resp = archive.get(URL)
    assert resp.status_code == 200 and resp.data == BODY  # from replica2
    with khoso.catalog.session() as s:
        copy = s.scalar(sa.select(StoredCopy).where(StoredCopy.location == "replica1",
                                                    StoredCopy.key.like(f"%{CODE}/v1")))
        assert copy.last_check_result == "mismatch" and "AUD001" in copy.last_check_detail
        (event,) = s.scalars(sa.select(PremisEvent).where(
            PremisEvent.stored_copy_id == copy.id, PremisEvent.event_type == "fixity check"))
        assert event.outcome == "failure"
        assert event.outcome_data["mismatch"] == 1
        flagged = s.scalar(sa.select(AuditEntry).where(
            AuditEntry.action == "delivery.copy_flagged"))
        assert flagged.actor == "u-reader" and flagged.detail["location"] == "replica1"
    # the check is in the package's event history in every location (a rebuild keeps it)
    for replica in ("replica1", "replica2"):
        history = "".join(p.read_text() for p in khoso.replica(replica).glob(
            f"TTLTNA/P623/*{CODE}/_events/*.jsonl"))
        assert '"fixity check"' in history and '"failure"' in history
    # the copy known bad is read last from now on: a second reader is not served from it
    shutil.rmtree(khoso.settings.data_dir / "cache" / "files")
    assert archive.get(URL).data == BODY
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).where(
            PremisEvent.stored_copy_id == copy.id, PremisEvent.event_type == "fixity check")) == 1
    # the next audit (of copies due, which a copy known bad is) restores it
    report = run_audit(khoso.catalog, build_storages(khoso.settings), repair=True)
    assert report.repaired == 1
    assert bad.read_bytes() == BODY
    with khoso.catalog.session() as s:
        assert s.get(StoredCopy, copy.id).last_check_result == "ok"


def test_when_no_copy_is_intact_nothing_is_sent(khoso, archive):
    for replica in ("replica1", "replica2"):
        corrupt(stored(khoso, replica), BODY[:-1] + b"X")
    resp = archive.get(URL)
    assert resp.status_code == 503 and resp.get_json()["code"] == "ACS004"
    assert resp.headers["Retry-After"] and b"Quyet" not in resp.data
    assert archive.get(URL, Range="bytes=0-9").status_code == 503
    assert entries(khoso) == []  # nothing was delivered
    with khoso.catalog.session() as s:
        results = s.scalars(sa.select(StoredCopy.last_check_result).where(
            StoredCopy.key.like(f"%{CODE}/v1")))
        assert set(results) == {"mismatch"}
    assert not any((khoso.settings.data_dir / "cache" / "files").rglob(
        hashlib.sha256(BODY).hexdigest()))


def test_a_missing_object_is_flagged_missing(khoso, archive):
    stored(khoso, "replica1").unlink()
    assert archive.get(URL).data == BODY
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(StoredCopy.last_check_result).where(
            StoredCopy.location == "replica1", StoredCopy.key.like(f"%{CODE}/v1"))) == "missing"


def test_a_tampered_cache_file_is_detected_and_fetched_again(khoso, archive):
    assert archive.get(URL).data == BODY
    digest = hashlib.sha256(BODY).hexdigest()
    (cached,) = (khoso.settings.data_dir / "cache" / "files").rglob(digest)
    corrupt(cached, b"X" * len(BODY))
    resp = archive.get(URL)
    assert resp.status_code == 200 and resp.data == BODY
    assert cached.read_bytes() == BODY
    with khoso.catalog.session() as s:
        (entry,) = s.scalars(sa.select(AuditEntry).where(
            AuditEntry.action == "delivery.cache_discarded"))
        assert "changed" in entry.detail["reason"]
        # the replicas were fine: no copy is flagged
        assert set(s.scalars(sa.select(StoredCopy.last_check_result))) == {"ok"}


def test_rot_a_stat_cannot_see_is_found_when_the_cached_file_is_verified_again(khoso, archive):
    assert archive.get(URL).data == BODY
    digest = hashlib.sha256(BODY).hexdigest()
    (cached,) = (khoso.settings.data_dir / "cache" / "files").rglob(digest)
    corrupt(cached, BODY[:-1] + b"!")
    st = os.stat(cached)  # as if the disk rotted it: the recorded stat still matches …
    meta = cached.with_name(f"{digest}.json")
    record = json.loads(meta.read_text())
    record.update(ino=st.st_ino, ctime_ns=st.st_ctime_ns, mtime_ns=st.st_mtime_ns,
                  verified_at=record["verified_at"] - 25 * 3600)  # … but it is a day old
    meta.write_text(json.dumps(record))
    resp = archive.get(URL)
    assert resp.status_code == 200 and resp.data == BODY


def test_a_copy_is_marked_on_every_page_and_the_original_is_untouched(khoso, archive):
    before = {r: stored(khoso, r).read_bytes() for r in ("replica1", "replica2")}
    resp = archive.get(URL + "/copy")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    texts = page_texts(resp.data)
    assert len(texts) == 3
    today = dt.datetime.now(dt.UTC).date().strftime("%d/%m/%Y")
    for i, text in enumerate(texts, 1):
        assert "BẢN SAO" in text and f"Quyet dinh {i}" in text
        assert khoso.settings.archive_name in text and today in text
    assert {r: stored(khoso, r).read_bytes() for r in ("replica1", "replica2")} == before
    assert before["replica1"] == BODY
    (entry,) = entries(khoso)
    assert entry.action == "copy" and entry.detail["pages"] == 3


def test_a_copy_of_a_file_that_is_not_a_pdf_is_refused(khoso, archive):
    resp = archive.get(PNG_URL + "/copy")
    assert resp.status_code == 409 and resp.get_json()["code"] == "ACS005"
    assert archive.get(PNG_URL).status_code == 200
    assert [e.action for e in entries(khoso)] == ["download"]


def encrypted_pdf() -> bytes:
    import io

    import pikepdf

    out = io.BytesIO()
    with pikepdf.open(io.BytesIO(BODY)) as pdf:
        pdf.save(out, encryption=pikepdf.Encryption(owner="chủ", user="đọc"))
    return out.getvalue()


def test_an_encrypted_pdf_cannot_be_copied_and_nothing_is_registered(khoso):
    code = "H49.64.33.2001.204"
    sip = make_mode_sip(khoso.tmp / "s", code, names=("hong.pdf", "anh.png"),
                        contents={"hong.pdf": encrypted_pdf()})
    outcome = khoso.ingest(sip)
    assert outcome.accepted, outcome.report
    api = make_api(khoso)
    resp = api.get(f"/api/v1/documents/{code}.0000001/files/hong.pdf/copy")
    assert resp.status_code == 409 and resp.get_json()["code"] == "ACS006"
    assert entries(khoso) == []


def test_files_need_an_account(archive):
    for url in (URL, URL + "/copy"):
        resp = archive.get(url, "anonymous")
        assert resp.status_code == 401 and resp.get_json()["code"] == "AUTH003"


def test_dates_never_stand_for_the_etag(khoso, archive):
    resp = archive.get(URL, **{"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
    assert resp.status_code == 200 and resp.data == BODY and "Last-Modified" not in resp.headers
    dated = archive.get(URL, Range="bytes=0-9", **{"If-Range": "Fri, 01 Jan 2100 00:00:00 GMT"})
    assert dated.status_code == 200 and dated.data == BODY
    assert [e.action for e in entries(khoso)] == ["download", "download"]


def test_a_file_larger_than_the_whole_cache_is_verified_served_and_not_kept(khoso, archive):
    from dataclasses import replace

    from access_api.services.base import Identity, ServiceContext, UserRole
    from access_api.services.delivery import deliver
    from access_api.services.files import locate

    ctx = ServiceContext(replace(khoso.settings, delivery_cache_bytes=len(BODY) - 1),
                         khoso.catalog)
    reader = Identity("u-reader", frozenset({UserRole.READER}))
    target = locate(ctx, reader, CODE + ".0000001", VN_NAME)
    delivered = deliver(ctx, reader, target.file)
    with delivered.file as f:
        assert not delivered.cached and f.read() == BODY
    cache = khoso.settings.data_dir / "cache"
    assert not list((cache / "files").rglob("*")) and not list((cache / "tmp").iterdir())


def test_a_cache_folder_that_cannot_be_written_is_the_archives_503_and_flags_nothing(
        khoso, archive):
    """The archive's own disk failing (here: its cache folder is a file) is never taken for
    damaged copies: 503 with a code, no copy flagged, nothing sent."""
    cache = khoso.settings.data_dir / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    cache.write_text("not a folder")
    try:
        resp = archive.get(URL)
    finally:
        cache.unlink()
    assert resp.status_code == 503 and resp.get_json()["code"] == "ACS004", resp.get_data()
    assert resp.headers["Retry-After"] and entries(khoso) == []
    with khoso.catalog.session() as s:
        assert "mismatch" not in set(s.scalars(sa.select(StoredCopy.last_check_result)))
