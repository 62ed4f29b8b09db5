"""Schemathesis over the access request, DIP and access register endpoints: generated calls,
as an archivist (who may call every one of them) and as a reader, never get a 5xx nor a response
that breaks the OpenAPI document."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from access_api.app import create_app
from access_api.services.base import UserRole
from preservation.accounts import create_user, issue_token

# what the issue asks (no 5xx, responses as documented); not positive_data_acceptance: a
# schema-valid body naming a document that does not exist is rightly a 422
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance,
          schemathesis.checks.response_schema_conformance,
          schemathesis.checks.response_headers_conformance]

OURS = r"access-requests|/dips|so_khai_thac"


def test_no_server_error_and_responses_match_the_schema(khoso):
    tokens = {}
    with khoso.catalog.session() as s:
        for name, role in (("luu-tru", UserRole.ARCHIVIST), ("doc-gia", UserRole.READER)):
            tokens[name] = issue_token(s, create_user(s, name, "mật-khẩu-đủ-dài-1",
                                                      [role.value]), "t").token
    app = create_app(khoso.settings, khoso.catalog)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).include(
        path_regex=OURS)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case):
            for who in ("luu-tru", "doc-gia"):
                case.call_and_validate(headers={"Authorization": f"Bearer {tokens[who]}"},
                                       checks=CHECKS)

        check()
