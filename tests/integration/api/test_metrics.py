"""``GET /metrics``: Prometheus text read from the catalog at scrape time, and the request
counters the app records by route template; who may read it."""

from __future__ import annotations

import dataclasses

import pytest
from prometheus_client.parser import text_string_to_metric_families

from access_api.app import create_app
from access_api.services import build_storages
from access_api.services.base import UserRole
from preservation.catalog.db import Catalog
from storage.audit import run_audit
from tests.support.officer import bearer, officer
from tests.support.sips import make_sip
from tests.support.viruses import EICAR


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found, name: str, **labels: str) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


def test_the_catalog_figures(khoso):
    accepted = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert accepted.accepted
    rejected = khoso.ingest(make_sip(khoso.tmp / "bad", file_code="H49.64.33.2001.161",
                                     contents={"tai-lieu-2.png": EICAR}))
    assert not rejected.accepted
    run_audit(khoso.catalog, build_storages(khoso.settings), due_only=False)
    client = create_app(khoso.settings, khoso.catalog).test_client()
    resp = client.get("/metrics", headers=officer(khoso.catalog))
    assert resp.status_code == 200
    assert resp.content_type.startswith("text/plain; version=")  # the exposition format
    found = samples(resp.get_data(as_text=True))
    assert value(found, "khoso_catalog_up") == 1
    assert value(found, "khoso_aips") == 1 and value(found, "khoso_aip_versions") == 1
    assert value(found, "khoso_stored_bytes") > 0 and value(found, "khoso_stored_files") > 0
    assert value(found, "khoso_ingests_total", outcome="accepted") == 1
    assert value(found, "khoso_ingests_total", outcome="rejected") == 1
    assert value(found, "khoso_jobs", kind="ingest", state="succeeded") == 1
    assert value(found, "khoso_jobs", kind="ingest", state="failed") == 1
    assert value(found, "khoso_copies", location="replica1", result="ok") == 1
    assert value(found, "khoso_copies", location="replica2", result="ok") == 1
    assert value(found, "khoso_copies_overdue") == 0 and value(found, "khoso_bad_copies") == 0
    assert value(found, "khoso_critical_aips") == 0
    assert value(found, "khoso_last_audit_timestamp_seconds") > 1.7e9


def test_requests_are_counted_by_route_template(khoso):
    client = create_app(khoso.settings, khoso.catalog).test_client()
    headers = officer(khoso.catalog)
    for objid in ("urn:P623:uuid-a", "urn:P623:uuid-b"):
        assert client.get(f"/api/v1/aips/{objid}", headers=headers).status_code == 404
    assert client.get("/khong-co/gi-ca").status_code == 404
    assert client.get("/oai?verb=Identify").status_code == 200
    found = samples(client.get("/metrics", headers=headers).get_data(as_text=True))
    assert value(found, "khoso_http_requests_total", method="GET",
                 route="/api/v1/aips/<objid>", status="404") == 2
    assert value(found, "khoso_http_requests_total", method="GET", route="(unmatched)",
                 status="404") == 1
    assert value(found, "khoso_http_requests_total", method="GET", route="/oai",
                 status="200") == 1
    assert value(found, "khoso_http_request_duration_seconds_count", method="GET",
                 route="/oai") == 1
    assert not any("uuid-a" in str(key) for key in found)  # never the raw path


@pytest.mark.parametrize(("role", "status"), [
    (None, 401), (UserRole.READER, 403), (UserRole.ARCHIVIST, 403),
    (UserRole.AGENCY_SUBMITTER, 403), (UserRole.PRESERVATION_OFFICER, 200),
    (UserRole.ADMIN, 200)])
def test_who_may_read_it(khoso, role, status):
    client = create_app(khoso.settings, khoso.catalog).test_client()
    headers = bearer(khoso.catalog, "nguoi", role) if role else {}
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == status
    if status != 200:
        assert resp.get_json()["code"] == ("AUTH003" if status == 401 else "AUTH004")


def test_public_metrics_answer_anyone_even_with_the_catalog_down(khoso, tmp_path):
    public = dataclasses.replace(khoso.settings, metrics_public=True)
    client = create_app(public, khoso.catalog).test_client()
    resp = client.get("/metrics")
    assert resp.status_code == 200 and value(samples(resp.get_data(as_text=True)),
                                             "khoso_catalog_up") == 1
    down = Catalog(f"sqlite:///{tmp_path / 'nothing' / 'x.sqlite'}")
    resp = create_app(public, down).test_client().get("/metrics")
    found = samples(resp.get_data(as_text=True))
    assert resp.status_code == 200 and value(found, "khoso_catalog_up") == 0
    assert value(found, "khoso_aips") is None
