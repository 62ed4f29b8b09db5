"""``GET /healthz`` against the real catalog, filesystem replicas and the harness's clamd.

The harness's clamd knows only the EICAR test signatures (no official database), so a healthy
test instance is ``degraded`` with ``OPS004``; ``up`` is decided by ``decide`` (unit tests in
``tests/unit/test_health_decide.py``)."""

import pytest

from access_api.app import create_app
from access_api.services.base import UserRole
from preservation.catalog.db import Catalog, head_revision
from preservation.settings import load_settings
from tests.support.cli import run
from tests.support.officer import bearer


@pytest.fixture
def settings_env(tmp_path, db_url, clamd_address):
    r1, r2 = tmp_path / "r1", tmp_path / "r2"
    r1.mkdir()
    r2.mkdir()
    return {"KHOSO_DATA_DIR": str(tmp_path), "KHOSO_DATABASE_URL": db_url,
            "KHOSO_CLAMD": clamd_address,
            "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{r1},replica2=file://{r2}"}


def client_for(env, migrate=True):
    settings = load_settings(env)
    catalog = Catalog(settings.database_url)
    if migrate:
        catalog.upgrade()
    return create_app(settings, catalog).test_client(), catalog


def test_anonymous_callers_get_the_state_alone(settings_env):
    client, catalog = client_for(settings_env)
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.get_json() == {"status": "degraded"}  # the test clamd has no official database
    reader = client.get("/healthz", headers=bearer(catalog, "doc-gia", UserRole.READER))
    archivist = client.get("/healthz", headers=bearer(catalog, "luu-tru", UserRole.ARCHIVIST))
    assert reader.get_json() == archivist.get_json() == {"status": "degraded"}
    catalog.dispose()


@pytest.mark.parametrize("role", [UserRole.PRESERVATION_OFFICER, UserRole.ADMIN])
def test_officers_and_admins_get_every_component(settings_env, role):
    client, catalog = client_for(settings_env)
    resp = client.get("/healthz", headers=bearer(catalog, "nguoi", role))
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body["status"] == "degraded" and body["version"]
    assert [i["code"] for i in body["issues"]] == ["OPS004"]
    assert "EICAR" in body["issues"][0]["message"] and body["issues"][0]["message_en"]
    assert body["components"]["catalog"] == {"status": "up", "revision": head_revision()}
    assert [s["name"] for s in body["components"]["storage"]] == ["replica1", "replica2"]
    assert all(s["status"] == "up" for s in body["components"]["storage"])
    clamd = body["components"]["clamd"]
    assert clamd["status"] == "up" and clamd["engine"].startswith("ClamAV")
    assert clamd["official_database"] is False
    assert clamd["signatures"] == "custom (no official database)"
    assert body["components"]["preservation"] == {
        "status": "up", "critical_aips": [], "critical_count": 0, "bad_copies": 0,
        "copies_overdue": 0}
    catalog.dispose()


def test_a_bad_token_is_refused(settings_env):
    client, catalog = client_for(settings_env)
    resp = client.get("/healthz", headers={"Authorization": "Bearer khong-dung"})
    assert resp.status_code == 401 and resp.get_json()["code"] == "AUTH003"
    catalog.dispose()


def test_clamd_down_and_missing_replica_degrade(settings_env, tmp_path):
    env = {**settings_env, "KHOSO_CLAMD": f"unix://{tmp_path / 'no.sock'}",
           "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{tmp_path / 'r1'},"
                                      f"gone=file://{tmp_path / 'missing'}"}
    client, catalog = client_for(env)
    assert client.get("/healthz").get_json() == {"status": "degraded"}
    resp = client.get("/healthz", headers=bearer(catalog, "bao-quan",
                                                 UserRole.PRESERVATION_OFFICER))
    body = resp.get_json()
    assert resp.status_code == 200 and body["status"] == "degraded"
    assert body["components"]["clamd"]["status"] == "down"
    assert {s["name"]: s["status"] for s in body["components"]["storage"]} == {
        "replica1": "up", "gone": "down"}
    assert [(i["code"], i["path"]) for i in body["issues"]] == [
        ("OPS002", "storage:gone"), ("OPS003", "clamd")]
    catalog.dispose()


def test_unmigrated_catalog_is_down_with_503(settings_env):
    client, catalog = client_for(settings_env, migrate=False)
    resp = client.get("/healthz")
    assert resp.status_code == 503 and resp.get_json() == {"status": "down"}
    # no token can be checked without a catalog: a token changes nothing
    again = client.get("/healthz", headers={"Authorization": "Bearer x"})
    assert again.status_code == 503 and again.get_json() == {"status": "down"}
    catalog.dispose()


def test_the_cli_reports_the_same_state_with_the_details(settings_env):
    catalog = Catalog(settings_env["KHOSO_DATABASE_URL"])
    catalog.upgrade()
    catalog.dispose()
    out = run({**settings_env, "KHOSO_CLAMD_MANAGED": "false"}, "--lang", "en", "health")
    assert out.exit_code == 1, out.output  # degraded
    assert "Status: degraded" in out.output and "OPS004" in out.output
    assert "storage:replica1: up" in out.output


def test_the_cli_exits_2_when_the_catalog_is_down(settings_env, tmp_path):
    out = run({**settings_env, "KHOSO_CLAMD_MANAGED": "false",
               "KHOSO_DATABASE_URL": f"sqlite:///{tmp_path / 'nothing.sqlite'}"},
              "health", "--json")
    assert out.exit_code == 2, out.output
    assert '"status": "down"' in out.output and "DB001" in out.output


def test_unknown_route_is_json(settings_env):
    client, catalog = client_for(settings_env)
    resp = client.get("/khong-co")
    assert resp.status_code == 404 and resp.get_json()["code"] == "API002"
    catalog.dispose()
