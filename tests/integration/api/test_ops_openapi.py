"""The ops endpoints in the OpenAPI document: the document validates, and schemathesis finds no
server error and no response that breaks its schema on the preservation officers' endpoints
(with an officer's token, over a real ingested AIP)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate

from access_api.app import create_app
from tests.support.officer import officer
from tests.support.sips import make_sip


def test_the_document_validates_and_describes_the_aips_endpoints(khoso):
    spec = create_app(khoso.settings, khoso.catalog).test_client().get(
        "/api/v1/openapi.json").get_json()
    validate(spec)
    assert {"/api/v1/aips", "/api/v1/aips/{objid}", "/api/v1/aips/{objid}/events",
            "/api/v1/aips/{objid}/audit", "/api/v1/audit/summary"} <= set(spec["paths"])
    assert "202" in spec["paths"]["/api/v1/aips/{objid}/audit"]["post"]["responses"]


def test_schemathesis_finds_no_error_on_the_aips_endpoints(khoso, monkeypatch):
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted
    # the audit endpoint queues for real workers: the broker send is recorded, not made
    monkeypatch.setattr("celery.Celery.send_task",
                        lambda self, *a, **kw: type("R", (), {"id": "t"})())
    app = create_app(khoso.settings, khoso.catalog)
    headers = officer(khoso.catalog)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).include(
        path_regex=r"^/api/v1/(aips|audit)")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def check(case) -> None:
            case.call_and_validate(headers=headers)
            if case.path_parameters:  # and the same request on the package that exists
                case.path_parameters = {**case.path_parameters, "objid": outcome.objid}
                case.call_and_validate(headers=headers)

        check()
