"""The whole submission path over real sockets against a running ``khoso serve`` and its worker,
on both catalogs: an agency system uploads a bag with tus (one PATCH cut off mid-body and
resumed from ``HEAD``), polls its job through its steps to acceptance and fetches its receipt
as JSON and PDF; a broken bag sent in one chunked request ends rejected with its issues."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import subprocess
import sys
import time

import pytest

from tests.integration.jobs.test_serve import free_port
from tests.support.api_submissions import pdf_text, token_for, zipped_sip
from tests.support.bags import zip_bytes
from tests.support.sips import ORGAN
from tests.support.workers import ROOT, wait_for, worker_env

pytestmark = pytest.mark.integration


class Api:
    def __init__(self, port: int, token: dict[str, str]) -> None:
        self.port, self.token = port, token

    def call(self, method: str, path: str, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers={**self.token, **(headers or {})},
                         encode_chunked=body is not None and not isinstance(body, bytes))
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def json(self, path: str):
        status, _, data = self.call("GET", path)
        assert status == 200, data
        return json.loads(data)

    def poll(self, job_id: str, seen: list[tuple[str, str | None, float]]) -> dict:
        def done() -> bool:
            job = self.json(f"/api/v1/jobs/{job_id}")
            seen.append((job["state"], job["step"], job["progress"]))
            return job["state"] in ("accepted", "rejected", "failed")

        wait_for(done, 240, f"job {job_id}")
        return self.json(f"/api/v1/jobs/{job_id}")


def cut_patch(port: int, path: str, token: dict[str, str], offset: int, total: int,
              part: bytes) -> None:
    """A PATCH announcing ``total`` bytes whose connection closes after ``part``."""
    head = [f"PATCH {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Tus-Resumable: 1.0.0",
            "Content-Type: application/offset+octet-stream", f"Upload-Offset: {offset}",
            f"Content-Length: {total}", *(f"{k}: {v}" for k, v in token.items()), "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall("\r\n".join(head).encode() + part)


def test_an_agency_uploads_polls_and_gets_its_receipt_from_a_running_khoso(khoso, tmp_path):
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    port = free_port()
    env = {**worker_env(khoso, broker), "KHOSO_PORT": str(port), "KHOSO_HOST": "127.0.0.1"}
    agency = token_for(khoso, "he-thong-ubnd", "agency_submitter", ORGAN)
    data = zipped_sip(tmp_path / "sip").read_bytes()
    log = tmp_path / "serve.log"
    serve = subprocess.Popen([sys.executable, "-m", "access_api.cli", "serve"], cwd=ROOT,
                             env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        def up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(up, 60, "khoso serve")
        api = Api(port, agency)
        status, headers, _ = api.call("OPTIONS", "/api/v1/uploads")
        assert status == 204 and headers["Tus-Version"] == "1.0.0"
        name = base64.b64encode(b"sip.zip").decode()
        status, headers, body = api.call("POST", "/api/v1/uploads", headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
            "Upload-Metadata": f"filename {name},filetype "
                               f"{base64.b64encode(b'application/zip').decode()}"})
        assert status == 201, body
        url = headers["Location"]
        half = len(data) // 2
        status, headers, _ = api.call("PATCH", url, data[:half], {
            "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": "0"})
        assert status == 204 and headers["Upload-Offset"] == str(half)
        cut_patch(port, url, agency, half, len(data) - half, data[half:half + 1000])
        time.sleep(0.5)
        status, headers, _ = api.call("HEAD", url, headers={"Tus-Resumable": "1.0.0"})
        offset = int(headers["Upload-Offset"])
        assert status == 200 and half <= offset < len(data)
        status, headers, _ = api.call("PATCH", url, data[offset:], {
            "Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream",
            "Upload-Offset": str(offset)})
        assert status == 204 and headers["Upload-Offset"] == str(len(data))
        job_id = headers["Khoso-Job"]
        seen: list[tuple[str, str | None, float]] = []
        job = api.poll(job_id, seen)
        assert job["state"] == "accepted", (job, log.read_text(errors="replace")[-3000:])
        assert all(0 <= p <= 1 for _, _, p in seen)
        assert [p for _, _, p in seen] == sorted(p for _, _, p in seen)  # never backwards
        receipt = api.json(f"/api/v1/jobs/{job_id}/receipt")
        assert receipt["objid"] == job["objid"] and receipt["agency"]["code"] == ORGAN
        status, headers, pdf = api.call("GET", f"/api/v1/jobs/{job_id}/receipt.pdf")
        assert status == 200 and headers["Content-Type"] == "application/pdf"
        text = pdf_text(pdf)
        assert "BIÊN BẢN GIAO NHẬN TÀI LIỆU LƯU TRỮ ĐIỆN TỬ" in text
        assert all(f["sha256"] in text for f in receipt["files"])

        broken = zip_bytes([("bag/bagit.txt", b"BagIt-Version: 1.0\n"),
                            ("bag/../../oops.txt", b"x")])
        status, headers, body = api.call("POST", "/api/v1/submissions",
                                         iter([broken[:100], broken[100:]]),
                                         {"Content-Type": "application/zip"})
        assert status == 202, body
        rejected = api.poll(json.loads(body)["job"], [])
        assert rejected["state"] == "rejected" and rejected["issues"]
        assert rejected["step"] == "unpack_safely"
        listed = api.json("/api/v1/jobs?state=rejected")
        assert [j["id"] for j in listed["items"]] == [rejected["id"]]
    finally:
        serve.terminate()
        serve.wait(60)
