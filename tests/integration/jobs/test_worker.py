"""Jobs through Celery with real brokers and worker subprocesses.

A worker killed with SIGKILL in the middle of an ingest leads to a retried job and exactly one
AIP on every broker (SQLite, Redis, RabbitMQ), with nothing left in staging; with the embedded
SQLite broker, a job queued while no worker runs is done when one starts (queued jobs survive a
restart).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest.jobs import submit
from preservation.catalog.models import Job, Package
from preservation.jobs import make_celery
from tests.integration.conftest import big_pdf, make_sip

ROOT = Path(__file__).parents[3]


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "access_api.cli", "worker"], cwd=ROOT,
                            env={**os.environ, **env}, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


def job_status(catalog, job_id: str) -> str:
    with catalog.session() as s:
        return s.get(Job, job_id).status


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def worker_env(khoso, broker: str) -> dict[str, str]:
    s = khoso.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("KHOSO_") or
           k.startswith("KHOSO_TEST_")}
    env.update({
        "KHOSO_DATA_DIR": str(s.data_dir), "KHOSO_DATABASE_URL": s.database_url,
        "KHOSO_CLAMD": s.clamd, "KHOSO_ARCHIVE_CODE": s.archive_code,
        "KHOSO_STORAGE_LOCATIONS": ",".join(f"{loc.name}={loc.url}"
                                            for loc in s.storage_locations),
        "KHOSO_BROKER_URL": broker, "KHOSO_JOB_VISIBILITY_TIMEOUT": "4",
        "KHOSO_CLAMD_MANAGED": "false"})
    return env


def aip_count(khoso) -> int:
    with khoso.catalog.session() as s:
        return s.scalar(sa.select(sa.func.count(Package.id)).where(Package.kind == "AIP"))


@pytest.fixture(params=["sqlite", "redis", "amqp"])
def broker(request, tmp_path) -> str:
    """Each broker the README offers, empty: the embedded SQLite one, Redis, RabbitMQ."""
    if request.param == "sqlite":
        return f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    if request.param == "redis":
        import redis as redis_client

        url = request.getfixturevalue("redis_url")
        redis_client.Redis.from_url(url).flushdb()
        return url
    url = request.getfixturevalue("amqp_url")
    from kombu import Connection

    with Connection(url) as conn:  # what an earlier run left (no worker consumes it now)
        conn.default_channel.queue_delete("khoso", if_unused=True)
    return url


def staged(khoso, job_id: str) -> list[Path]:
    return [p for name in ("replica1", "replica2")
            for p in (khoso.replica(name) / "_staging" / job_id).glob("*")]


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_worker_killed_mid_ingest_gives_a_retried_job_and_one_aip(khoso, broker, tmp_path):
    """SIGKILL a worker mid-ingest on each broker: another worker runs the job again once its
    lease has run out, exactly one AIP results and nothing the dead attempt staged is left."""
    big = big_pdf(256 * 2**20)  # a scan slow enough to be killed in
    bag = make_sip(tmp_path / "sip", contents={"tai-lieu-1.pdf": big})
    env = worker_env(khoso, broker)
    settings = khoso.settings.__class__(**{**khoso.settings.__dict__, "broker_url": broker,
                                           "job_visibility_timeout": 4})
    log = tmp_path / "worker.log"
    first = start_worker(env, log)
    try:
        job_id = submit(khoso.catalog, make_celery(settings), bag, "tester")
        wait_for(lambda: job_status(khoso.catalog, job_id) == "running", 60, "job start")
        wait_for(lambda: staged(khoso, job_id), 60, "a staged copy")  # the 195 MB of the issue
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        assert job_status(khoso.catalog, job_id) == "running"
        second = start_worker(env, log)
        try:
            wait_for(lambda: job_status(khoso.catalog, job_id) in ("succeeded", "failed"), 180,
                     "the retried job")
        finally:
            second.terminate()
            second.wait(30)
    finally:
        if first.poll() is None:
            first.kill()
    with khoso.catalog.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "succeeded", (job.result, log.read_text(errors="replace")[-3000:])
        assert job.attempts == 2
    assert aip_count(khoso) == 1
    for name in ("replica1", "replica2"):
        versions = {p.parent for p in khoso.replica(name).glob("*/*/*/v1")}
        assert len(versions) == 1
    assert not staged(khoso, job_id)
    assert not (khoso.settings.data_dir / "staging" / job_id).exists()


@pytest.mark.integration
def test_embedded_broker_keeps_queued_jobs_until_a_worker_starts(khoso, tmp_path):
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    bag = make_sip(tmp_path / "sip")
    settings = khoso.settings.__class__(**{**khoso.settings.__dict__, "broker_url": broker})
    job_id = submit(khoso.catalog, make_celery(settings), bag, "tester")
    time.sleep(0.5)
    assert job_status(khoso.catalog, job_id) == "queued"  # nobody is working: it waits
    worker = start_worker(worker_env(khoso, broker), tmp_path / "worker.log")
    try:
        wait_for(lambda: job_status(khoso.catalog, job_id) == "succeeded", 90, "the queued job")
    finally:
        worker.terminate()
        worker.wait(30)
    assert aip_count(khoso) == 1
