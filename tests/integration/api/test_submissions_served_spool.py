"""Bodies past waitress's ``inbuf_overflow`` (512 KiB) sent to a running ``khoso serve``, with
a Content-Length and chunked: waitress spools each to a temporary file, the archive copies it
to staging in the kernel (its debug line says so) and stages exactly the bytes sent; a small
body still goes through the stream."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys

import pytest

from preservation.catalog.models import Job
from tests.integration.jobs.test_serve import free_port
from tests.support.api_submissions import token_for
from tests.support.workers import ROOT, wait_for, worker_env

pytestmark = pytest.mark.integration

COPIED = "copied from the server's spool file"


def post(port: int, token: dict[str, str], body, chunked: bool) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/api/v1/submissions", body=body, encode_chunked=chunked,
                     headers={**token, "Content-Type": "application/zip"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_large_bodies_are_staged_from_waitresss_spool_byte_for_byte(khoso, tmp_path):
    port = free_port()
    env = {**worker_env(khoso, f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"),
           "KHOSO_PORT": str(port), "KHOSO_HOST": "127.0.0.1"}
    admin = token_for(khoso, "quan-tri", "admin")
    log = tmp_path / "serve.log"
    serve = subprocess.Popen([sys.executable, "-m", "access_api.cli", "-v", "serve",
                              "--no-worker"], cwd=ROOT, env=env, stdout=log.open("ab"),
                             stderr=subprocess.STDOUT)
    staging = khoso.settings.data_dir / "submissions"
    try:
        def up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False

        wait_for(up, 60, "khoso serve")
        big = b"PK\x03\x04" + os.urandom(3 << 20)
        status, answer = post(port, admin, big, chunked=False)
        assert status == 202, answer
        chunks = [big[i:i + 100_000] for i in range(0, len(big), 100_000)]
        status, chunked = post(port, admin, iter(chunks), chunked=True)
        assert status == 202, chunked
        assert log.read_text(errors="replace").count(COPIED) == 2
        small = b"PK\x03\x04" + os.urandom(100_000)
        status, streamed = post(port, admin, small, chunked=False)
        assert status == 202, streamed
        assert log.read_text(errors="replace").count(COPIED) == 2  # read from memory
        with khoso.catalog.session() as s:
            sources = {job_id: s.get_one(Job, job_id).payload["source"]
                       for job_id in (answer["job"], chunked["job"], streamed["job"])}
        assert open(sources[answer["job"]], "rb").read() == big
        assert open(sources[chunked["job"]], "rb").read() == big
        assert open(sources[streamed["job"]], "rb").read() == small
        assert sorted(p.suffix for p in staging.iterdir()) == [".zip"] * 3  # no .part left
    finally:
        serve.terminate()
        serve.wait(60)
