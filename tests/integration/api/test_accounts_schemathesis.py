"""Schemathesis against the accounts endpoints of a live app (in process, both catalogs): no
5xx, every status documented, every body as its schema says."""

from __future__ import annotations

import warnings

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from access_api.app import create_app
from tests.integration.api.test_accounts import account, settings_for

OURS = ("/api/v1/auth/", "/api/v1/me", "/api/v1/users", "/api/v1/tokens")
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance,
          content_type_conformance]


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(khoso):
    token = account(khoso, "quan-tri", "admin")
    account(khoso, "doc-gia", "reader")
    app = create_app(settings_for(khoso), khoso.catalog)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # apispec: a schema nested twice (harmless)
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    ours = [op for op in operations if op.path.startswith(OURS)]
    assert len(ours) == 14
    headers = {"Authorization": f"Bearer {token}"}
    for operation in ours:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        check()
