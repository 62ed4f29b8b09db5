"""GET /api/v1/formats and POST /api/v1/migrations on a real catalog and replicas: the
register counts what is held per fonds and marks what the policy warns about; a migration is
queued as one job per AIP holding the format, and a bad PUID is a 422 with its code."""

from __future__ import annotations

import sqlalchemy as sa

from access_api.app import create_app
from access_api.services import migration
from preservation.accounts import create_user, issue_token
from preservation.catalog.models import Job
from tests.support.khoso import Khoso
from tests.support.migration import PDF, ingest
from tests.support.sips import FOND


def _client(khoso: Khoso):
    with khoso.catalog.session() as s:
        user = create_user(s, "officer", "Mật-khẩu-đủ-dài-2026", ["preservation_officer"])
        token = issue_token(s, user, "t").token
    client = create_app(khoso.settings, khoso.catalog).test_client()
    return client, {"Authorization": f"Bearer {token}"}


def test_register_counts_formats_per_fonds_and_marks_the_ones_at_risk(khoso: Khoso) -> None:
    objid, entity = ingest(khoso)
    client, auth = _client(khoso)
    pdf_size = (khoso.replica("replica1") / entity / "v1" / PDF).stat().st_size

    body = client.get("/api/v1/formats", headers=auth).get_json()

    by = {f["puid"]: f for f in body["formats"]}
    assert set(by) == {"fmt/276", "fmt/11"}  # the plain PDF 1.7 and the PNG
    pdf = by["fmt/276"]
    assert (pdf["files"], pdf["bytes"], pdf["decision"], pdf["at_risk"]) == (
        1, pdf_size, "warn", True)
    assert pdf["fonds"] == [{"fond_code": FOND, "files": 1, "bytes": pdf_size}]
    assert pdf["migrate_to"] == "pdfa-2b" and "khoso migrate" in pdf["reason"]
    assert by["fmt/11"]["at_risk"] is False and by["fmt/11"]["migrate_to"] is None
    risky = client.get("/api/v1/formats?at_risk=true", headers=auth).get_json()["formats"]
    assert [f["puid"] for f in risky] == ["fmt/276"]
    assert client.get("/api/v1/formats?fonds=P999", headers=auth).get_json()["formats"] == []


def test_post_migrations_queues_one_job_per_aip_and_skips_a_migrated_one(
        khoso: Khoso, monkeypatch) -> None:
    objid, _ = ingest(khoso)
    client, auth = _client(khoso)
    sent: list[str] = []
    real = migration.queue_aip
    monkeypatch.setattr(migration, "queue_aip", lambda ctx, actor, o, puids, send=None: real(
        ctx, actor, o, puids, send=lambda jid: sent.append(jid) or f"task-{jid}"))

    dry = client.post("/api/v1/migrations", json={"puid": "fmt/276", "dry_run": True},
                      headers=auth)
    assert dry.status_code == 202 and dry.get_json()["jobs"] == [] and not sent
    assert dry.get_json()["aips"] == [{"objid": objid, "files": [PDF], "already": [],
                                       "job": None}]

    resp = client.post("/api/v1/migrations", json={"puid": "fmt/276"}, headers=auth)
    assert resp.status_code == 202, resp.get_json()
    (job_id,) = resp.get_json()["jobs"]
    assert sent == [job_id]
    again = client.post("/api/v1/migrations", json={"puid": "fmt/276"}, headers=auth)
    assert again.get_json()["jobs"] == [job_id] and sent == [job_id]  # queued: not twice
    with khoso.catalog.session() as s:
        job = s.get(Job, job_id)
        assert (job.kind, job.status, job.payload) == (
            "migration", "queued", {"objid": objid, "puids": ["fmt/276"]})
        assert job.created_by == "officer"

    ctx = migration.ServiceContext(khoso.settings, khoso.catalog)
    done = migration.run_job(ctx, job_id)  # what the worker's task does
    assert done is not None and done.version == 2
    with khoso.catalog.session() as s:
        job = s.get(Job, job_id)
        assert job.status == "succeeded" and job.result["outcome"] == "migrated"
    shown = client.get(f"/api/v1/jobs/{job_id}", headers=auth).get_json()
    assert (shown["objid"], shown["state"], shown["issues"]) == (objid, "done", [])
    after = client.post("/api/v1/migrations", json={"puid": "fmt/276"}, headers=auth)
    assert after.get_json()["aips"] == [{"objid": objid, "files": [], "already": [PDF],
                                         "job": None}]
    assert sent == [job_id]


def test_a_puid_the_archive_cannot_migrate_is_refused_with_its_code(khoso: Khoso) -> None:
    client, auth = _client(khoso)
    for puid, code in (("fmt/13", "MIG001"), ("../etc", "MIG005"), ("fmt/", "MIG005"),
                       ("fmt/1 OR 1=1", "MIG005")):
        resp = client.post("/api/v1/migrations", json={"puid": puid}, headers=auth)
        assert resp.status_code == 422, (puid, resp.get_json())
        body = resp.get_json()
        assert body["code"] == code and body["issues"][0]["code"] == code, body
    for bad in ({}, {"puid": 7}, {"puid": "fmt/276", "extra": 1}, {"puid": "x" * 31}):
        resp = client.post("/api/v1/migrations", json=bad, headers=auth)
        assert resp.status_code == 422, bad
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.kind == "migration")) == 0


def test_a_bad_register_query_is_a_422_and_a_strange_fonds_just_matches_nothing(
        khoso: Khoso) -> None:
    ingest(khoso)
    client, auth = _client(khoso)
    for query in ("at_risk=maybe", "fonds=", f"fonds={'P' * 26}", "page=1", "puid=fmt/1"):
        resp = client.get(f"/api/v1/formats?{query}", headers=auth)
        assert resp.status_code == 422, (query, resp.get_json())
        assert resp.get_json()["code"].startswith("API"), resp.get_json()
    for fonds in ("P623' OR '1'='1", "../P623", "%", "P_23"):
        resp = client.get("/api/v1/formats", query_string={"fonds": fonds}, headers=auth)
        assert resp.status_code == 200 and resp.get_json()["formats"] == [], fonds
