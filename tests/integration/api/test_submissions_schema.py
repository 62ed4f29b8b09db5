"""The submission, upload and job endpoints against their own OpenAPI document: schemathesis
finds no 5xx, no answer outside its documented schema and no schema-valid request refused;
the answers about a real accepted job (its view, listing and receipt) match their schemas."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from access_api.app import create_app
from tests.support.api_submissions import run_queued, token_for, zipped_sip

pytestmark = pytest.mark.integration
PATHS = ("/api/v1/jobs", "/api/v1/uploads", "/api/v1/submissions")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_endpoints_keep_to_their_openapi_document(khoso):
    admin = token_for(khoso, "quan-tri", "admin")
    app = create_app(khoso.settings, khoso.catalog)
    for media in ("application/zip", "application/x-tar", "application/gzip",
                  "application/offset+octet-stream"):
        schemathesis.openapi.media_type(media, st.binary(min_size=1, max_size=300))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures = []
    ran = 0
    for result in schema.get_all_operations():
        op = result.ok()
        if not op.path.startswith(PATHS):
            continue
        ran += 1

        @given(case=op.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def fuzz(case):
            case.headers = {**(case.headers or {}), **admin}
            case.call_and_validate()

        try:
            fuzz()
        except Exception as exc:  # noqa: BLE001 - every operation's failures reported at once
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
    assert ran == 10 and not failures, "\n\n".join(failures)

    c = app.test_client()
    job = c.post("/api/v1/submissions", data=zipped_sip(khoso.tmp / "s").read_bytes(),
                 headers={**admin, "Content-Type": "application/zip"}).get_json()["job"]
    assert run_queued(khoso, job).accepted
    for method, path, template in (
            ("get", f"/api/v1/jobs/{job}", "/api/v1/jobs/{job_id}"),
            ("get", "/api/v1/jobs?state=accepted", "/api/v1/jobs"),
            ("get", f"/api/v1/jobs/{job}/receipt", "/api/v1/jobs/{job_id}/receipt")):
        response = c.open(path, method=method.upper(), headers=admin)
        assert response.status_code == 200
        operation = schema.find_operation_by_path(method, template)
        operation.validate_response(response)
