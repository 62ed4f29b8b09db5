"""``GET /healthz`` against the real catalog, filesystem replicas and the harness's clamd."""

import pytest

from access_api.app import create_app
from preservation.catalog.db import Catalog, head_revision
from preservation.settings import load_settings


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


def test_every_component_up(settings_env):
    client, catalog = client_for(settings_env)
    resp = client.get("/healthz")
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body["status"] == "ok"
    assert body["components"]["catalog"] == {"status": "up", "revision": head_revision()}
    assert [s["name"] for s in body["components"]["storage"]] == ["replica1", "replica2"]
    assert all(s["status"] == "up" for s in body["components"]["storage"])
    clamd = body["components"]["clamd"]
    assert clamd["status"] == "up" and clamd["engine"].startswith("ClamAV")
    catalog.dispose()


def test_clamd_down_and_missing_replica_degrade(settings_env, tmp_path):
    env = {**settings_env, "KHOSO_CLAMD": f"unix://{tmp_path / 'no.sock'}",
           "KHOSO_STORAGE_LOCATIONS": f"replica1=file://{tmp_path / 'r1'},"
                                      f"gone=file://{tmp_path / 'missing'}"}
    client, catalog = client_for(env)
    resp = client.get("/healthz")
    body = resp.get_json()
    assert resp.status_code == 503 and body["status"] == "degraded"
    assert body["components"]["clamd"]["status"] == "down"
    assert {s["name"]: s["status"] for s in body["components"]["storage"]} == {
        "replica1": "up", "gone": "down"}
    catalog.dispose()


def test_unmigrated_catalog_is_down(settings_env):
    client, catalog = client_for(settings_env, migrate=False)
    body = client.get("/healthz").get_json()
    assert body["components"]["catalog"]["status"] == "down"
    assert body["components"]["catalog"]["code"] == "DB001"
    catalog.dispose()


def test_unknown_route_is_json(settings_env):
    client, catalog = client_for(settings_env)
    resp = client.get("/khong-co")
    assert resp.status_code == 404 and resp.get_json()["code"] == "API002"
    catalog.dispose()
