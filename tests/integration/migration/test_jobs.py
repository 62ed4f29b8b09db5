"""Migration jobs as the worker runs them: a job whose files cannot be converted fails with
their codes (shown by GET /api/v1/jobs/{id}); a missing tool puts the job back in the queue,
writes nothing, and the job then succeeds once the tool is there."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from access_api.app import create_app
from access_api.services import migration
from ingest.adapters import migrate_pdfa
from preservation.accounts import create_user, issue_token
from preservation.catalog.models import Job, Package
from preservation.errors import Unavailable
from tests.support.khoso import Khoso
from tests.support.migration import context, encrypted_pdf, ingest
from tests.support.versions import REPLICAS, tree


def _queue(khoso: Khoso, objid: str) -> str:
    return migration.queue_aip(context(khoso), "officer-1", objid, ["fmt/276"],
                               send=lambda jid: f"task-{jid}")


def test_a_job_whose_files_cannot_be_converted_fails_with_their_codes(khoso: Khoso) -> None:
    objid, _ = ingest(khoso, **{"tai-lieu-1.pdf": encrypted_pdf(khoso.tmp)})
    job_id = _queue(khoso, objid)

    result = migration.run_job(context(khoso), job_id)

    assert result is not None and result.outcome == "failed"
    with khoso.catalog.session() as s:
        token = issue_token(s, create_user(s, "po", "Mật-khẩu-đủ-dài-2026",
                                           ["preservation_officer"]), "t").token
        job = s.get(Job, job_id)
        assert job.status == "failed" and "password" in job.error
    shown = create_app(khoso.settings, khoso.catalog).test_client().get(
        f"/api/v1/jobs/{job_id}", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [i["code"] for i in shown["issues"]] == ["MIG002"]
    assert migration.run_job(context(khoso), job_id) is None  # finished: not run twice


def test_a_missing_tool_requeues_the_job_and_writes_nothing(khoso: Khoso,
                                                             monkeypatch) -> None:
    objid, entity = ingest(khoso)
    before = {name: tree(khoso.replica(name) / entity) for name in REPLICAS}
    job_id = _queue(khoso, objid)
    monkeypatch.setattr(migrate_pdfa, "GS", str(khoso.tmp / "no-gs"))
    migrate_pdfa.ghostscript_version.cache_clear()
    try:
        with pytest.raises(Unavailable) as err:
            migration.run_job(context(khoso), job_id)
    finally:
        migrate_pdfa.ghostscript_version.cache_clear()
    assert err.value.code == "MIG004"
    for name in REPLICAS:
        assert tree(khoso.replica(name) / entity) == before[name]
    with khoso.catalog.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "queued" and "Ghostscript" in job.error
        assert s.scalar(sa.select(sa.func.count()).select_from(Package)) == 1

    monkeypatch.undo()  # the tool is back: the retried task migrates
    result = migration.run_job(context(khoso), job_id)
    assert result is not None and result.version == 2
    with khoso.catalog.session() as s:
        assert s.get(Job, job_id).status == "succeeded"


def test_a_lost_job_is_sent_again_and_one_lost_too_often_fails(khoso: Khoso) -> None:
    objid, _ = ingest(khoso)
    job_id = _queue(khoso, objid)
    ctx = context(khoso)
    sent: list[str] = []
    assert migration.recover_jobs(ctx, lambda j: sent.append(j) or "t") == []  # lease alive
    later = time.time() + khoso.settings.job_visibility_timeout + 1
    assert migration.recover_jobs(ctx, lambda j: sent.append(j) or "t", now=later) == [job_id]
    assert sent == [job_id]
    with khoso.catalog.session() as s:  # a worker took it and died, LOST_LIMIT times
        job = s.get(Job, job_id)
        job.status, job.attempts, job.lease_until = "running", 3, 0.0
    assert migration.recover_jobs(ctx, lambda j: sent.append(j) or "t") == []
    with khoso.catalog.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "failed" and job.result["error"]["code"] == "MIG008"
    assert sent == [job_id]
