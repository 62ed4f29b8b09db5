"""``POST /api/v1/migrations`` end to end: the job is queued on the embedded broker and a real
``khoso worker`` process runs it (task ``khoso.migrate_aip``), making v2 with the PDF/A."""

from __future__ import annotations

import dataclasses

import pytest

from access_api.app import create_app
from preservation.catalog.models import Job
from tests.support.migration import PDF, PDFA, ingest
from tests.support.officer import officer
from tests.support.workers import job_status, start_worker, wait_for, worker_env


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_worker_runs_the_queued_migration(khoso, tmp_path):
    objid, entity = ingest(khoso)
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    settings = dataclasses.replace(khoso.settings, broker_url=broker)
    client = create_app(settings, khoso.catalog).test_client()
    resp = client.post("/api/v1/migrations", json={"puid": "fmt/276"},
                       headers=officer(khoso.catalog))
    assert resp.status_code == 202, resp.get_json()
    (job_id,) = resp.get_json()["jobs"]
    assert job_status(khoso.catalog, job_id) == "queued"
    worker = start_worker(worker_env(khoso, broker), tmp_path / "worker.log")
    try:
        wait_for(lambda: job_status(khoso.catalog, job_id) in ("succeeded", "failed"), 180,
                 "the migration job")
    finally:
        worker.terminate()
        worker.wait(30)
    with khoso.catalog.session() as s:
        job = s.get_one(Job, job_id)
        assert job.status == "succeeded", (job.error, (tmp_path / "worker.log").read_text())
        assert job.result["migrated"] == {PDF: PDFA} and job.result["version"] == 2
    for name in ("replica1", "replica2"):
        assert (khoso.replica(name) / entity / "v2" / PDFA).is_file()
    followed = client.get(f"/api/v1/jobs/{job_id}", headers=officer(khoso.catalog, "b2"))
    assert followed.get_json()["state"] == "done"
