"""``POST /api/v1/aips/{objid}/audit`` end to end: the job is queued on the embedded broker and a
real ``khoso worker`` process runs it (task ``khoso.audit_aip``), finding a damaged copy."""

from __future__ import annotations

import dataclasses

import pytest

from access_api.app import create_app
from preservation.catalog.models import Job
from tests.support.cli import content_file
from tests.support.officer import officer
from tests.support.sips import make_sip
from tests.support.workers import job_status, start_worker, wait_for, worker_env


@pytest.mark.integration
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_worker_runs_the_queued_audit_of_one_aip(khoso, tmp_path):
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted
    content_file(khoso, "replica2").write_bytes(b"rotted")
    broker = f"sqla+sqlite:///{tmp_path / 'broker.sqlite'}"
    settings = dataclasses.replace(khoso.settings, broker_url=broker)
    client = create_app(settings, khoso.catalog).test_client()
    resp = client.post(f"/api/v1/aips/{outcome.objid}/audit", headers=officer(khoso.catalog))
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["job"]
    assert job_status(khoso.catalog, job_id) == "queued"
    worker = start_worker(worker_env(khoso, broker), tmp_path / "worker.log")
    try:
        wait_for(lambda: job_status(khoso.catalog, job_id) in ("succeeded", "failed"), 120,
                 "the audit job")
    finally:
        worker.terminate()
        worker.wait(30)
    with khoso.catalog.session() as s:
        job = s.get_one(Job, job_id)
        assert job.status == "succeeded", (job.error, (tmp_path / "worker.log").read_text())
        assert job.kind == "audit" and job.result["problems"] is True
        assert (job.result["audit"]["copies_checked"], job.result["audit"]["bad"]) == (2, 1)
        assert job.result["audit"]["repaired"] == 0  # an officer decides on repair
    copies = client.get(f"/api/v1/aips/{outcome.objid}", headers=officer(khoso.catalog, "b2")
                        ).get_json()["versions"][0]["copies"]
    assert {c["location"]: c["status"] for c in copies} == {"replica1": "ok",
                                                            "replica2": "mismatch"}
    followed = client.get(f"/api/v1/jobs/{job_id}", headers=officer(khoso.catalog, "b3"))
    assert followed.get_json()["state"] == "done"  # an audit is neither accepted nor rejected
