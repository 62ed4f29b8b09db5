"""The S3 server dies while an AIP is being written: no AIP is registered with a missing copy,
what was written is removed, the job stays queued, and a retry completes once S3 is back."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time

import boto3
import pytest
import sqlalchemy as sa
from botocore.config import Config

from access_api.services import build_services
from ingest.jobs import create_job, run_job
from preservation.catalog.models import Job, Package, StoredCopy
from preservation.errors import KhosoError
from tests.support.sips import big_pdf, make_sip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("moto_server did not start")


def s3(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))


@pytest.mark.integration
def test_s3_killed_mid_write_then_retry_completes(khoso, tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = start_moto(port)
    try:
        s3(endpoint).create_bucket(Bucket="khoso-a")
        r1 = khoso.replica("replica1")
        settings = khoso.settings.__class__(**{
            **khoso.settings.__dict__,
            "storage_locations": (
                khoso.settings.location("replica1"),
                khoso.settings.location("replica1").__class__(
                    "s3a", "s3://khoso-a", {"endpoint": endpoint, "region": "us-east-1"}))})
        bag = make_sip(tmp_path / "sip", contents={"tai-lieu-1.pdf": big_pdf(96 * 2**20)})
        job_id = create_job(khoso.catalog, bag, "tester")

        def kill_when_writing() -> None:
            client = s3(endpoint)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if client.list_multipart_uploads(Bucket="khoso-a").get("Uploads") or \
                            client.list_objects_v2(Bucket="khoso-a").get("KeyCount"):
                        break
                except Exception:  # noqa: BLE001 - the server may be busy
                    pass
                time.sleep(0.02)
            moto.send_signal(signal.SIGKILL)

        killer = threading.Thread(target=kill_when_writing)
        killer.start()
        with pytest.raises(KhosoError) as err:
            run_job(settings, khoso.catalog, job_id, services=build_services(settings))
        killer.join()
        assert getattr(err.value, "transient", False), err.value
        with khoso.catalog.session() as s:
            assert s.scalar(sa.select(sa.func.count(Package.id))) == 0
            assert s.scalar(sa.select(sa.func.count(StoredCopy.id))) == 0
            assert s.get(Job, job_id).status == "queued"
        assert not [p for p in r1.rglob("*") if p.is_file()]  # the filesystem copy was removed

        moto.wait(10)
        moto = start_moto(port)  # back, empty (moto keeps objects in memory)
        s3(endpoint).create_bucket(Bucket="khoso-a")
        outcome = run_job(settings, khoso.catalog, job_id, services=build_services(settings))
        assert outcome.accepted
        with khoso.catalog.session() as s:
            assert s.scalar(sa.select(sa.func.count(Package.id))) == 1
            assert {c.location for c in s.scalars(sa.select(StoredCopy))} == {"replica1", "s3a"}
            assert s.get(Job, job_id).attempts == 2
        keys = s3(endpoint).list_objects_v2(Bucket="khoso-a")["KeyCount"]
        assert keys == len([p for p in r1.rglob("*") if p.is_file()])
    finally:
        moto.kill()
        moto.wait(10)
