"""Jobs through Celery with real brokers and worker subprocesses.

A worker killed with SIGKILL in the middle of an ingest leads to a retried job and exactly one
AIP on every broker (SQLite, Redis, RabbitMQ), with nothing left in staging; with the embedded
SQLite broker, a job queued while no worker runs is done when one starts (queued jobs survive a
restart).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from ingest.jobs import submit
from preservation.catalog.models import Job, Package
from preservation.jobs import make_celery
from tests.support.sips import big_pdf, make_sip
from tests.support.workers import job_status, start_worker, wait_for, worker_env


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
    from amqp.exceptions import ChannelError
    from kombu import Connection

    deadline = time.monotonic() + 60
    while True:  # what an earlier run left; a consumer a killed worker left goes with its link
        with Connection(url) as conn:
            try:
                conn.default_channel.queue_delete("khoso", if_unused=True)
                return url
            except ChannelError as exc:
                if "in use" not in str(exc) or time.monotonic() > deadline:
                    raise
        time.sleep(1)


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


@pytest.mark.integration
def test_jobs_whose_lease_ran_out_are_sent_again_or_given_up(khoso):
    """The sweeper on its own, on both catalogs: a dead worker's job is queued and sent again
    with what it staged removed; after LOST_LIMIT dead runs it is given up (JOB061, a system
    fault: no package, no rejection); a live worker's job and a waiting one are left alone."""
    import io

    from access_api.services import build_storages
    from ingest.jobs import LOST_LIMIT, create_job, recover_jobs
    from storage.staging import discard, staging_key

    storages = list(build_storages(khoso.settings).values())
    bag = make_sip(khoso.tmp / "sip")
    now = time.time()
    jobs = {name: create_job(khoso.catalog, bag, "tester") for name in
            ("dead", "dying", "alive", "lost_message", "waiting")}
    rows = {"dead": ("running", now - 1, {"lost": 0}),
            "dying": ("running", now - 1, {"lost": LOST_LIMIT - 1}),
            "alive": ("running", now + 60, None),
            "lost_message": ("queued", now - 1, None),
            "waiting": ("queued", now + 60, None)}
    with khoso.catalog.session() as s:
        for name, (status, lease, result) in rows.items():
            job = s.get(Job, jobs[name])
            job.status, job.lease_until, job.result, job.attempts = status, lease, result, 1
    for name in ("dead", "dying", "alive"):
        for storage in storages:
            storage.put(staging_key(jobs[name], 0), io.BytesIO(b"x" * 1000), lock=False)
            # what a put killed mid-write leaves: a temporary file ``list`` does not show
            partial = storage.root / "_staging" / jobs[name] / ".khoso-tmp-dead-1-0"
            partial.write_bytes(b"y" * 1000)
        (khoso.settings.data_dir / "staging" / jobs[name]).mkdir(parents=True)
    sent: list[str] = []

    def send(job_id: str) -> str:
        sent.append(job_id)
        return f"task-{len(sent)}"

    done = recover_jobs(khoso.catalog, 4, send, lambda job_id: discard(storages, job_id),
                        khoso.settings.data_dir / "staging")
    assert done == {"requeued": [jobs["dead"]], "resent": [jobs["lost_message"]],
                    "abandoned": [jobs["dying"]]}
    assert sorted(sent) == sorted([jobs["dead"], jobs["lost_message"]])
    with khoso.catalog.session() as s:
        dead, dying = s.get(Job, jobs["dead"]), s.get(Job, jobs["dying"])
        assert dead.status == "queued" and dead.result["lost"] == 1 and dead.celery_task_id
        assert dying.status == "failed" and dying.result["error"]["code"] == "JOB061"
        assert "system fault" in dying.error and dying.finished_at is not None
        assert s.get(Job, jobs["alive"]).status == "running"
        assert s.get(Job, jobs["waiting"]).celery_task_id is None
        assert s.scalar(sa.select(sa.func.count(Package.id))) == 0  # nothing against the agency
    for name, gone in (("dead", True), ("dying", True), ("alive", False)):
        for storage in storages:
            assert (storage.root / "_staging" / jobs[name]).exists() is not gone, name
        assert (khoso.settings.data_dir / "staging" / jobs[name]).exists() is not gone, name
    assert not (khoso.settings.data_dir / "quarantine").exists()
    # a second sweep finds nothing more to do: the leases it set have not run out
    assert recover_jobs(khoso.catalog, 4, send, None, None) == {
        "requeued": [], "resent": [], "abandoned": []}


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_clamd_down_keeps_the_job_queued_and_it_is_retried_once_clamd_is_back(khoso, tmp_path):
    """clamd unreachable is the archive's fault: no rejection, no quarantine, the job stays
    queued and is retried with back-off; once a clamd answers, the same job is accepted."""
    from ingest import local_clamd

    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    private = local_clamd.configure(tmp_path / "clamd")  # configured, not started yet
    env = {**worker_env(khoso, broker), "KHOSO_CLAMD": private.address}
    settings = khoso.settings.__class__(**{**khoso.settings.__dict__, "broker_url": broker})
    bag = make_sip(tmp_path / "sip")
    log = tmp_path / "worker.log"
    worker = start_worker(env, log)
    try:
        job_id = submit(khoso.catalog, make_celery(settings), bag, "tester")

        def failed_once() -> bool:
            with khoso.catalog.session() as s:
                job = s.get(Job, job_id)
                return job.attempts >= 1 and job.status == "queued" and bool(job.result)
        wait_for(failed_once, 60, "the first attempt")
        with khoso.catalog.session() as s:
            job = s.get(Job, job_id)
            assert job.result["error"]["code"] == "CLAM061" and job.result["retry"] is True
            assert "clamd" in job.error and private.address in job.error
            assert s.scalar(sa.select(sa.func.count(Package.id))) == 0  # no rejected SIP
        assert not (khoso.settings.data_dir / "quarantine").exists()
        local_clamd.start(private)
        try:
            wait_for(lambda: job_status(khoso.catalog, job_id) in ("succeeded", "failed"), 90,
                     "the retry")
        finally:
            local_clamd.stop(private)
    finally:
        worker.terminate()
        worker.wait(30)
    with khoso.catalog.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "succeeded", (job.result, log.read_text(errors="replace")[-3000:])
        assert job.attempts >= 2
    assert aip_count(khoso) == 1


@pytest.mark.integration
def test_a_second_delivery_of_a_job_a_live_worker_runs_does_nothing(khoso):
    """Redis hands a job out again after the visibility timeout even while its worker still
    runs it (and RabbitMQ when the consumer times out): the second delivery must neither run
    it a second time at once nor touch the first run's workspace."""
    from access_api.services import build_services
    from ingest.jobs import create_job, run_job

    job_id = create_job(khoso.catalog, make_sip(khoso.tmp / "sip"), "tester")
    with khoso.catalog.session() as s:
        job = s.get(Job, job_id)
        job.status, job.attempts, job.lease_until = "running", 1, time.time() + 60
    workspace = khoso.settings.data_dir / "staging" / job_id
    workspace.mkdir(parents=True)
    (workspace / "in-progress").write_bytes(b"the live run's work")
    assert run_job(khoso.settings, khoso.catalog, job_id,
                   services=build_services(khoso.settings)) is None
    with khoso.catalog.session() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.attempts) == ("running", 1)
    assert (workspace / "in-progress").read_bytes() == b"the live run's work"
    assert aip_count(khoso) == 0
