"""The preservation officers' API: packages, their copies, PREMIS timeline, a queued audit of one
package run as the worker runs it, and the audit summary — on a real ingested AIP."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from access_api.app import create_app
from access_api.services import audit as audit_service
from access_api.services.base import Identity, ServiceContext, UserRole, build_storages
from preservation.catalog.models import Job
from preservation.errors import Forbidden
from storage.audit import run_audit
from tests.support.cli import content_file
from tests.support.officer import bearer, officer
from tests.support.sips import make_sip
from tests.support.versions import EAD, retitle, update

ROLES = {UserRole.READER: 403, UserRole.ARCHIVIST: 403, UserRole.AGENCY_SUBMITTER: 403,
         UserRole.PRESERVATION_OFFICER: 200, UserRole.ADMIN: 200}


@pytest.fixture
def archive(khoso):
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted, outcome.report
    client = create_app(khoso.settings, khoso.catalog).test_client()
    return khoso, client, officer(khoso.catalog), outcome.objid


def jobs(khoso) -> list[Job]:
    with khoso.catalog.session() as s:
        return list(s.scalars(sa.select(Job).where(Job.kind == "audit")))


def test_each_package_once_with_its_copies_and_timeline(archive):
    khoso, client, headers, objid = archive
    body = client.get("/api/v1/aips", headers=headers).get_json()
    assert (body["total"], body["page"], body["size"]) == (1, 1, 50)
    (item,) = body["items"]
    assert item["objid"] == objid and item["version"] == 1 and item["versions"] == 1
    assert (item["copies"], item["critical"], item["superseded"]) == (2, False, [])
    assert item["created_at"].endswith("+00:00")

    detail = client.get(f"/api/v1/aips/{objid}", headers=headers).get_json()
    assert detail["events_url"] == f"/api/v1/aips/{objid}/events"
    (v1,) = detail["versions"]
    assert sorted(c["location"] for c in v1["copies"]) == ["replica1", "replica2"]
    # each copy was verified as it was written
    assert {c["status"] for c in v1["copies"]} == {"ok"} and all(
        c["checked_at"].endswith("+00:00") for c in v1["copies"])

    events = client.get(f"/api/v1/aips/{objid}/events?size=2", headers=headers).get_json()
    assert events["total"] > 2 and len(events["items"]) == 2
    everything = client.get(f"/api/v1/aips/{objid}/events?size=1000", headers=headers).get_json()
    assert len(everything["items"]) == events["total"]
    types = [e["type"] for e in everything["items"]]
    assert "virus check" in types and "replication" in types
    times = [e["time"] for e in everything["items"]]
    assert times == sorted(times)
    past = client.get(f"/api/v1/aips/{objid}/events?page=999", headers=headers).get_json()
    assert past["items"] == [] and past["total"] == events["total"]


def test_a_new_version_appears_under_its_package(archive):
    khoso, client, headers, objid = archive
    ead = next(khoso.replica("replica1").rglob("v1/" + EAD)).read_bytes()
    update(khoso, objid, package_ead=retitle(ead, "Hồ sơ đã sửa tiêu đề"))
    body = client.get("/api/v1/aips", headers=headers).get_json()
    assert body["total"] == 1
    (item,) = body["items"]
    assert (item["version"], item["versions"]) == (2, 2)
    assert [(v["version"], v["status"]) for v in item["superseded"]] == [(1, "superseded")]
    detail = client.get(f"/api/v1/aips/{objid}", headers=headers).get_json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]


def test_critical_filter_and_the_audit_summary(archive):
    khoso, client, headers, objid = archive
    assert client.get("/api/v1/aips?critical=true", headers=headers).get_json()["total"] == 0
    summary = client.get("/api/v1/audit/summary", headers=headers).get_json()
    assert (summary["copies"], summary["copies_ok"], summary["copies_overdue"]) == (2, 2, 0)
    assert summary["period_days"] == 90 and summary["critical_aips"] == []
    for replica in ("replica1", "replica2"):
        content_file(khoso, replica).write_bytes("mất".encode())
    run_audit(khoso.catalog, build_storages(khoso.settings), due_only=False, repair=True)

    critical = client.get("/api/v1/aips?critical=1", headers=headers).get_json()
    assert [i["objid"] for i in critical["items"]] == [objid] and critical["items"][0]["critical"]
    assert client.get("/api/v1/aips?critical=false", headers=headers).get_json()["total"] == 0
    summary = client.get("/api/v1/audit/summary", headers=headers).get_json()
    assert summary["critical_aips"] == [objid] and summary["bad_copies"] == 2
    assert summary["copies_overdue"] == 0 and summary["last_check_at"].endswith("+00:00")
    assert [(x["location"], x["copies"], x["bad"], x["ok"]) for x in summary["locations"]] == [
        ("replica1", 1, 1, 0), ("replica2", 1, 1, 0)]
    assert summary["catalog_incomplete"] is None


def test_an_audit_is_queued_then_run_as_the_worker_runs_it(archive, monkeypatch):
    khoso, client, headers, objid = archive
    sent: list[str] = []
    monkeypatch.setattr("celery.Celery.send_task",
                        lambda self, name, args, **kw: sent.append((name, *args)) or
                        type("R", (), {"id": "task-1"})())
    resp = client.post(f"/api/v1/aips/{objid}/audit", headers=headers)
    assert resp.status_code == 202, resp.get_json()
    job_id = resp.get_json()["job"]
    assert resp.get_json()["status_url"] == f"/api/v1/jobs/{job_id}"
    assert sent == [(audit_service.AIP_TASK, job_id)]
    (job,) = jobs(khoso)
    assert (job.id, job.status, job.payload, job.created_by) == (
        job_id, "queued", {"objid": objid}, "bao-quan")

    before = client.get(f"/api/v1/aips/{objid}/events", headers=headers).get_json()["total"]
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    report = audit_service.run_aip_audit_job(ctx, job_id)
    assert report is not None and report.copies_checked == 2 and report.bad == 0
    (job,) = jobs(khoso)
    assert job.status == "succeeded" and job.result["problems"] is False
    assert job.result["audit"]["ok"] == 2
    assert audit_service.run_aip_audit_job(ctx, job_id) is None  # done: never run twice
    events = client.get(f"/api/v1/aips/{objid}/events?size=1000", headers=headers).get_json()
    assert events["total"] == before + 2  # one fixity check event per copy
    assert [e["type"] for e in events["items"][-2:]] == ["fixity check"] * 2
    assert all(e["agents"] for e in events["items"][-2:])


def test_a_lost_audit_job_is_sent_again_then_given_up(archive):
    khoso, _, _, objid = archive
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    job_id = audit_service.queue_aip_audit(ctx, Identity.system(), objid, send=lambda j: "t1")
    sent: list[str] = []
    assert audit_service.recover_aip_audits(ctx, lambda j: sent.append(j) or "t2") == []
    with khoso.catalog.session() as s:  # its message was lost: the lease runs out
        s.execute(sa.update(Job).where(Job.id == job_id).values(lease_until=1.0))
    assert audit_service.recover_aip_audits(ctx, lambda j: sent.append(j) or "t2") == [job_id]
    (job,) = jobs(khoso)
    assert (sent, job.status, job.celery_task_id) == ([job_id], "queued", "t2")
    assert job.lease_until > 1.0
    with khoso.catalog.session() as s:  # three workers died running it
        s.execute(sa.update(Job).where(Job.id == job_id).values(
            lease_until=1.0, status="running", attempts=3))
    assert audit_service.recover_aip_audits(ctx, lambda j: sent.append(j) or "t3") == []
    (job,) = jobs(khoso)
    assert job.status == "failed" and job.result["error"]["code"] == "OPS006"
    assert objid in job.error and len(sent) == 1


def test_the_scheduled_audit_sends_lost_audit_jobs_again(archive, monkeypatch):
    from access_api.services.wiring import register_audit
    from preservation.jobs import make_celery

    khoso, _, _, objid = archive
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    job_id = audit_service.queue_aip_audit(ctx, Identity.system(), objid, send=lambda j: "t1")
    with khoso.catalog.session() as s:
        s.execute(sa.update(Job).where(Job.id == job_id).values(lease_until=1.0))
    sent: list[tuple[str, ...]] = []
    monkeypatch.setattr("celery.Celery.send_task",
                        lambda self, name, args, **kw: sent.append((name, *args)) or
                        type("R", (), {"id": "t2"})())
    # the periodic task's body as register_audit wires it (Celery shares a task of one name
    # between the apps of a process: the task object may be an earlier test's)
    runs = []
    monkeypatch.setattr("access_api.services.wiring.register_audit_task",
                        lambda app, settings, run: runs.append(run))
    register_audit(make_celery(khoso.settings), khoso.settings)
    report = runs[0]()  # one run of the periodic audit, as beat starts it
    assert report["bad"] == 0  # the planned share of the copies, read
    assert sent == [(audit_service.AIP_TASK, job_id)]
    assert {j.celery_task_id for j in jobs(khoso)} == {"t2"}


def test_a_queue_that_cannot_be_reached_leaves_no_job(archive):
    khoso, _, _, objid = archive
    ctx = ServiceContext(khoso.settings, khoso.catalog)

    def broken(job_id: str) -> str:
        raise ConnectionRefusedError("broker down")

    with pytest.raises(Exception) as err:
        audit_service.queue_aip_audit(ctx, Identity.system(), objid, send=broken)
    assert err.value.code == "OPS007" and err.value.retry_after == 30
    assert jobs(khoso) == []
    with pytest.raises(Forbidden):
        audit_service.queue_aip_audit(ctx, Identity("r", frozenset({UserRole.READER})), objid)


def test_unknown_packages_are_404_and_queue_nothing(archive):
    khoso, client, headers, _ = archive
    for path in ("/api/v1/aips/urn:P623:uuid-khong-co", "/api/v1/aips/x/events",
                 "/api/v1/aips/%00%ff", "/api/v1/aips/" + "a" * 5000):
        resp = client.get(path, headers=headers)
        assert resp.status_code == 404, path
        assert resp.get_json()["code"] in ("GEN002", "API002")
    resp = client.post("/api/v1/aips/urn:P623:uuid-khong-co/audit", headers=headers)
    assert resp.status_code == 404 and resp.get_json()["code"] == "GEN002"
    assert jobs(khoso) == []


@pytest.mark.parametrize("query", [
    "critical=maybe", "page=0", "page=-1", "page=abc", "size=0", "size=1001", "size=1e3",
    "critical=", "size=%00", "page=99999999999",
])
def test_hostile_queries_are_422(archive, query):
    _, client, headers, objid = archive
    for path in ("/api/v1/aips", f"/api/v1/aips/{objid}/events"):
        if path.endswith("events") and query.startswith("critical"):
            continue
        resp = client.get(f"{path}?{query}", headers=headers)
        body = resp.get_json()
        assert resp.status_code == 422, (path, query, body)
        assert body["code"] == "API001" and body["issues"][0]["code"] == "API008"


def test_roles(archive):
    khoso, client, _, objid = archive
    paths = ["/api/v1/aips", f"/api/v1/aips/{objid}", f"/api/v1/aips/{objid}/events",
             "/api/v1/audit/summary"]
    for path in paths:
        assert client.get(path).status_code == 401
        assert client.get(path).get_json()["code"] == "AUTH003"
    assert client.post(f"/api/v1/aips/{objid}/audit").status_code == 401
    for n, (role, expected) in enumerate(ROLES.items()):
        headers = bearer(khoso.catalog, f"nguoi-{n}", role)
        for path in paths:
            assert client.get(path, headers=headers).status_code == expected, (role, path)
        if expected == 403:
            resp = client.post(f"/api/v1/aips/{objid}/audit", headers=headers)
            assert resp.status_code == 403 and resp.get_json()["code"] == "AUTH004"
    assert jobs(khoso) == []
