"""What every endpoint relies on: the generated OpenAPI document, problem documents, the bearer
scheme in any case, the access policy by mode and approved access requests."""

from __future__ import annotations

import datetime as dt

import pytest
from openapi_spec_validator import validate

from access_api.app import create_app
from access_api.services.base import Identity, UserRole
from access_api.services.policy import effective_mode, may_read, may_see
from preservation.accounts import create_user, issue_token
from preservation.catalog import access_register
from preservation.catalog.models import AccessEntry, AccessRequest, AccessRequestItem, AuditEntry
from preservation.catalog.vocab import AccessAction, AccessRequestStatus


@pytest.fixture
def client(khoso):
    return create_app(khoso.settings, khoso.catalog).test_client()


def test_the_openapi_document_is_generated_and_valid(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    validate(spec)
    assert "bearerAuth" in spec["components"]["securitySchemes"]


@pytest.mark.parametrize("path,method,status,code", [
    ("/api/v1/nowhere", "get", 404, "API002"),
    ("/api/v1/openapi.json", "post", 405, "API003"),
])
def test_refusals_are_problem_documents(client, path, method, status, code):
    resp = getattr(client, method)(path, headers={"Accept-Language": "en"})
    body = resp.get_json()
    assert resp.status_code == status and body["code"] == code
    assert body["message"] == body["message_en"] and body["issues"] == []


def test_bearer_scheme_in_any_case_and_bad_tokens(khoso, client):
    with khoso.catalog.session() as s:
        token = issue_token(s, create_user(s, "bao-quan", "mật-khẩu-dài-đủ", ["preservation_officer"]),
                            "t").token
    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        assert client.get("/api/v1/packages",
                          headers={"Authorization": f"{scheme} {token}"}).status_code == 200
    for header in ("Bearer", "Bearer ", "Basic abc", "Bearer sai", f"Token {token}", "   "):
        resp = client.get("/api/v1/packages", headers={"Authorization": header})
        assert resp.status_code == 401 and resp.get_json()["code"] == "AUTH003", header
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


READER = Identity("doc-gia", frozenset({UserRole.READER}))
AGENCY = Identity("van-thu", frozenset({UserRole.AGENCY_SUBMITTER}), agency="000.00.00.H41")
ARCHIVIST = Identity("luu-tru", frozenset({UserRole.ARCHIVIST}))
ANONYMOUS = Identity("anonymous")


def test_policy_by_mode():
    for who in (READER, ANONYMOUS):
        assert may_see(who, "01") and may_see(who, "02") and not may_see(who, "03")
        assert not may_see(who, None) and not may_see(who, "99")  # unknown: the strictest
        assert may_read(who, "01") and not may_read(who, "02") and not may_read(who, "03")
        assert may_read(who, "02", approved_request=True)
        assert not may_read(who, "03", approved_request=True)
    assert may_see(ARCHIVIST, "03") and may_read(ARCHIVIST, "03")
    assert may_see(AGENCY, "03", "000.00.00.H41") and not may_see(AGENCY, "03", "000.00.00.H42")
    assert may_read(AGENCY, "02", "000.00.00.H41") and not may_read(AGENCY, "02", "x")


def test_a_document_is_as_strict_as_its_record():
    assert effective_mode("01", "03") == "03" and effective_mode("03", "01") == "03"
    assert effective_mode("01", "02") == "02" and effective_mode(None, "01") == "01"
    assert effective_mode("01", None) == "01" and effective_mode(None, None) == "03"
    assert effective_mode("zz", "01") == "03"


def test_an_approved_request_counts_until_it_expires(khoso):
    now = dt.datetime.now(dt.UTC)
    with khoso.catalog.session() as s:
        for status, expires, doc in [
            (AccessRequestStatus.APPROVED, now + dt.timedelta(days=1), "A"),
            (AccessRequestStatus.APPROVED, now - dt.timedelta(days=1), "B"),
            (AccessRequestStatus.PENDING, None, "C"),
            (AccessRequestStatus.REFUSED, None, "D"),
        ]:
            s.add(AccessRequest(requester="doc-gia", purpose="01", status=status.value,
                                expires_at=expires, items=[AccessRequestItem(doc_code=doc)]))
    with khoso.catalog.session() as s:
        assert access_register.approved_request_for(s, "doc-gia", "A")
        assert access_register.approved_request_for(s, "someone-else", "A") is None
        for doc in "BCDE":
            assert access_register.approved_request_for(s, "doc-gia", doc) is None


def test_the_access_register_writes_the_audit_log_too(khoso):
    with khoso.catalog.session() as s:
        access_register.record(s, "doc-gia", AccessAction.DOWNLOAD, "document", "X.0000001",
                               purpose="nghiên cứu", name="a.pdf")
    with khoso.catalog.session() as s:
        entry = s.query(AccessEntry).one()
        assert (entry.actor, entry.action, entry.object_id) == ("doc-gia", "download", "X.0000001")
        audit = s.query(AuditEntry).filter(AuditEntry.action == "access.download").one()
        assert audit.detail["purpose"] == "nghiên cứu" and audit.detail["name"] == "a.pdf"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_catalog_that_cannot_be_reached_is_503_not_the_callers_fault(khoso, tmp_path):
    from preservation.catalog.db import Catalog

    gone = Catalog("postgresql+psycopg://khoso@127.0.0.1:1/khoso?connect_timeout=2")
    client = create_app(khoso.settings, gone).test_client()
    resp = client.get("/api/v1/packages", headers={"Authorization": "Bearer khoso_x"})
    body = resp.get_json()
    assert resp.status_code == 503 and body["code"] == "DB001", body
    assert resp.headers["Retry-After"] and "127.0.0.1" not in body["message"]


@pytest.mark.parametrize("url", ["/api/v1/packages/a%00b", "/api/v1/packages?critical=%00",
                                 "/api/v1/nowhere/%00"])
def test_a_nul_anywhere_is_a_4xx_never_a_500(khoso, client, url):
    """PostgreSQL refuses a NUL in any string: the value is the caller's, so 400, not 500."""
    with khoso.catalog.session() as s:
        token = issue_token(s, create_user(s, "bao-quan", "mật-khẩu-dài-đủ", ["preservation_officer"]),
                            "t").token
    resp = client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code in (400, 404) and resp.get_json()["code"] in ("API002", "API006",
                                                                          "GEN002", "GEN004")


@pytest.mark.parametrize("url", ["/api/v1/search?q=ho+so&pgae=2", "/api/v1/fonds?size=5&mdoe=01"])
def test_an_unknown_query_parameter_is_refused_by_name(client, url):
    resp = client.get(url, headers={"Accept-Language": "en"})
    body = resp.get_json()
    assert resp.status_code == 422 and body["code"] == "API001", body
    [issue] = body["issues"]
    assert issue["code"] == "API008" and issue["path"] in ("query.pgae", "query.mdoe")
    assert issue["message"] == f"Invalid value at {issue['path']}: Unknown field."
