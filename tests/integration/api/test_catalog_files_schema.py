"""Schemathesis over the catalog and file endpoints with real data: no 5xx, and every response
conforms to the OpenAPI document (status codes, content types, bodies)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.catalog_api import make_api, make_mode_sip

CODE = "H49.64.33.2001.301"
OPS = ("/api/v1/fonds", "/api/v1/records/", "/api/v1/documents/")


@pytest.fixture
def app_with_data(khoso):
    assert khoso.ingest(make_mode_sip(khoso.tmp / "s", CODE)).accepted
    api = make_api(khoso)
    return api


def test_schemathesis_finds_no_server_error_and_no_nonconforming_response(app_with_data):
    app = app_with_data.client.application
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    token = app_with_data.tokens["reader"]
    failures = []
    for path, methods in schema.raw_schema["paths"].items():
        if not path.startswith(OPS):
            continue
        for method in methods:
            if method not in ("get", "head"):
                continue
            operation = schema[path][method.upper()]

            @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy())
            def check(case):
                for auth in ({}, {"Authorization": f"Bearer {token}"}):
                    response = case.call(headers=auth)
                    if response.status_code >= 500:
                        failures.append((case.path, case.path_parameters, case.query,
                                         response.status_code, response.text[:200]))
                    for conformance in (status_code_conformance, content_type_conformance,
                                        response_schema_conformance):
                        try:
                            case.validate_response(response, checks=[conformance])
                        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - asserted below
                            failures.append((case.path, case.path_parameters, case.query,
                                             response.status_code, str(exc)[:300]))

            check()
    assert failures == []
