"""The whole access path over real HTTP against a running ``khoso serve`` (web + worker), as
issue #14 says it is done: an agency system uploads bags and gets its receipt; a reader searches
without diacritics, downloads a public document with a Range request whose bytes match the
stored SHA-256; a mode 02 document is refused until an archivist approves the reader's request;
a mode 03 document never appears; a corrupted replica is never served and gets flagged; the DIP
validates; the access register lists each step."""

from __future__ import annotations

import hashlib
import io
import time
import zipfile

import pytest

from preservation.catalog.models import PremisEvent, StoredCopy
from preservation.packaging.dip.package import check_dip
from tests.support.api_submissions import zipped_sip
from tests.support.cli import cli_env, run
from tests.support.live import live_khoso
from tests.support.pki import minimal_pdf
from tests.support.sips import ORGAN

PASSWORD = "Mật-khẩu-Đủ-Dài-2026"
TITLES = {"01": "Hồ sơ về việc thành lập Đảng ủy xã Nghi Phong năm 2001",
          "02": "Hồ sơ về việc cấp đất cho Đảng ủy xã Nghi Thái năm 2001",
          "03": "Hồ sơ mật về Đảng ủy xã Nghi Xuân năm 2001"}
CODES = {"01": "H49.64.33.2001.201", "02": "H49.64.33.2001.202", "03": "H49.64.33.2001.203"}


def account(env: dict[str, str], name: str, role: str, *extra: str) -> str:
    """An account made with the CLI, as an administrator does, and its API token."""
    from click.testing import CliRunner

    from access_api.cli import main

    added = CliRunner().invoke(main, ["user", "add", name, "--role", role, "--password-stdin",
                                      *extra], input=PASSWORD + "\n", env=env,
                               catch_exceptions=False)
    assert added.exit_code == 0, added.output
    issued = run(env, "user", "token", name, "--expires", "30d")
    assert issued.exit_code == 0, issued.output
    return issued.stdout.strip().splitlines()[-1]


def wait_job(live, token: str, job: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = live.json("GET", f"/api/v1/jobs/{job}", token=token)
        assert status == 200, body
        if body["state"] not in ("queued", "running"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"job {job} still {body['state']}: {live.log.read_text()[-3000:]}")


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_whole_access_path_over_http(khoso, tmp_path):
    env = cli_env(khoso)
    agency = account(env, "van-thu-nghi-loc", "agency_submitter", "--agency", ORGAN)
    reader = account(env, "doc-gia", "reader")
    archivist = account(env, "luu-tru-vien", "archivist")
    officer = account(env, "bao-quan", "preservation_officer")

    with live_khoso(khoso, tmp_path) as live:
        # 1. the agency system uploads three bags (one per access mode) and follows each job
        docs: dict[str, str] = {}
        for mode, code in CODES.items():
            bag = zipped_sip(tmp_path / f"sip-{mode}", file_code=code,
                             hoso={"mode": mode, "title": TITLES[mode]},
                             contents={"tai-lieu-1.pdf": minimal_pdf(f"Quyết định {code}")})
            status, body = live.json("POST", "/api/v1/submissions", token=agency,
                                     body=bag.read_bytes(),
                                     headers={"Content-Type": "application/zip"})
            assert status == 202, body
            job = wait_job(live, agency, body["job"])
            assert job["state"] == "accepted", job
            assert job["progress"] == 1 and job["objid"]
            status, receipt = live.json("GET", f"/api/v1/jobs/{body['job']}/receipt",
                                        token=agency)
            assert status == 200 and receipt["objid"] == job["objid"], receipt
            assert all(len(f["sha256"]) == 64 for f in receipt["files"])
            status, headers, pdf = live.call("GET", f"/api/v1/jobs/{body['job']}/receipt.pdf",
                                             token=agency)
            assert status == 200 and pdf.startswith(b"%PDF")
            docs[mode] = f"{code}.0000001"
        # another agency's reader never sees the agency's jobs
        assert live.json("GET", f"/api/v1/jobs/{body['job']}", token=reader)[0] in (403, 404)

        # 2. corrupt the first replica of the public PDF before anyone reads it
        public_doc = docs["01"]
        status, doc = live.json("GET", f"/api/v1/documents/{public_doc}", token=reader)
        assert status == 200, doc
        pdf_file = next(f for f in doc["files"] if f["name"].endswith(".pdf"))
        stored = next(p for p in khoso.replica("replica1").rglob(pdf_file["name"])
                      if hashlib.sha256(p.read_bytes()).hexdigest() == pdf_file["sha256"])
        original = stored.read_bytes()
        stored.write_bytes(original[:-10] + b"rotten!!!!")

        # 3. a reader searches without diacritics: public and conditional hồ sơ, never the secret
        status, found = live.json("GET", "/api/v1/search?q=dang%20uy%20nghi", token=reader)
        assert status == 200, found
        seen = {h["fileCode"].removeprefix(f"{khoso.settings.archive_code}.")
                for h in found["hits"]}
        assert CODES["01"] in seen and CODES["02"] in seen and CODES["03"] not in seen, found
        assert "03" not in found["facets"]["mode"]
        assert live.json("GET", f"/api/v1/documents/{docs['03']}", token=reader)[0] == 404
        assert live.json("GET", f"/api/v1/records/{CODES['03']}", token=reader)[0] == 404

        # 4. the public PDF with a Range request: the bytes match the stored SHA-256, served from
        #    the good replica; the rotten copy is flagged
        url = pdf_file["download_url"]
        status, headers, part = live.call("GET", url, token=reader,
                                          headers={"Range": "bytes=0-99"})
        assert status == 206 and part == original[:100], (status, headers)
        status, headers, whole = live.call("GET", url, token=reader)
        assert status == 200 and hashlib.sha256(whole).hexdigest() == pdf_file["sha256"]
        assert whole == original and headers["ETag"].strip('"') == pdf_file["sha256"]
        with khoso.catalog.session() as s:
            flagged = s.query(StoredCopy).filter(StoredCopy.location == "replica1",
                                                 StoredCopy.last_check_result == "mismatch").all()
            assert flagged, "the rotten replica was not flagged"
            assert s.query(PremisEvent).filter(PremisEvent.event_type == "fixity check",
                                               PremisEvent.outcome == "failure").count()

        # 5. mode 02: metadata yes, content no, until an archivist approves the reader's request
        status, conditional = live.json("GET", f"/api/v1/documents/{docs['02']}", token=reader)
        assert status == 200, conditional
        conditional_url = conditional["files"][0]["download_url"]
        assert live.call("GET", conditional_url, token=reader)[0] == 403
        status, request = live.json("POST", "/api/v1/access-requests", token=reader, json_body={
            "documents": [docs["02"]], "purpose": "01",
            "researchTopic": "Lịch sử Đảng bộ huyện Nghi Lộc"})
        assert status == 201 and request["status"] == "pending", request
        assert live.call("GET", conditional_url, token=reader)[0] == 403
        status, decided = live.json("POST", f"/api/v1/access-requests/{request['id']}/approve",
                                    token=archivist, json_body={"reason": "Đủ điều kiện",
                                                                "valid_days": 30})
        assert status == 200 and decided["status"] == "approved", decided
        status, _, content = live.call("GET", conditional_url, token=reader)
        assert status == 200 and hashlib.sha256(content).hexdigest() == \
            conditional["files"][0]["sha256"]

        # 6. a DIP of the approved request, built by the worker, validates
        status, dip = live.json("POST", "/api/v1/dips", token=reader,
                                json_body={"request": request["id"]})
        assert status == 202, dip
        deadline = time.monotonic() + 180
        while (state := live.json("GET", f"/api/v1/dips/{dip['dip']}", token=reader)[1])[
                "state"] in ("queued", "building") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert state["state"] == "ready", state
        status, headers, package = live.call("GET", f"/api/v1/dips/{dip['dip']}/download",
                                             token=reader)
        assert status == 200, package[:500]
        with zipfile.ZipFile(io.BytesIO(package)) as z:
            z.extractall(tmp_path / "dip")
        check_dip(next(p for p in (tmp_path / "dip").iterdir() if p.is_dir()))

        # 7. the access register lists each step, with who and why
        status, register = live.json("GET", "/api/v1/reports/so_khai_thac?format=json",
                                     token=archivist)
        assert status == 200, register
        mine = [e for e in register["items"] if e["actor"] == "doc-gia"]
        actions = {e["action"] for e in mine}
        assert {"view", "download", "request", "dip"} <= actions, mine
        assert live.json("GET", "/api/v1/reports/so_khai_thac", token=reader)[0] == 403
        # the officer sees the flagged copy in the audit summary
        status, summary = live.json("GET", "/api/v1/audit/summary", token=officer)
        assert status == 200, summary
