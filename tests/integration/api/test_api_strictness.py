"""What an outside reviewer sends that our own clients never do: JSON bodies that are not
one RFC 8259 text, a JSON body under another Content-Type or of megabytes at an endpoint
that takes a few fields, a single-valued query parameter given twice; and a Vietnamese file
name is sent readable to every client. Each refusal is a 4xx with a code (never a 500,
never a silent guess) and leaves nothing."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.support.catalog_api import make_api, make_mode_sip

CODE = "H49.64.33.2001.101"
NAME = "Quyết định số 1.pdf"


@pytest.fixture
def api(khoso):
    return make_api(khoso)


def post(api, url, body: bytes, role: str | None = "reader",
         content_type: str = "application/json"):
    return api.client.post(url, data=body, headers={**api.headers(role),
                                                    "Content-Type": content_type})


def requests_filed(api) -> int:
    return api.get("/api/v1/access-requests", "reader").get_json()["total"]


@pytest.mark.parametrize("body", [
    b'{"documents": ' + b"[" * 5000 + b"]" * 5000 + b', "purpose": "01"}',
    b'{"documents": ["X"], "purpose": "01", "feeObjectType": ' + b"9" * 5000 + b"}",
    b'{"documents": ["X"], "purpose": NaN}',
], ids=["nested-5000-deep", "5000-digit-number", "nan"])
def test_a_body_that_is_not_json_is_a_400_with_a_code_not_a_500(api, body):
    rv = post(api, "/api/v1/access-requests", body)
    assert rv.status_code == 400, rv.get_data(as_text=True)
    problem = rv.get_json()
    assert problem["code"] == "API201"
    assert "JSON" in problem["message"] and "RFC 8259" in problem["message_en"]
    assert requests_filed(api) == 0


def test_a_member_given_twice_is_refused_not_guessed(api):
    rv = post(api, "/api/v1/auth/login",
              b'{"username": "u-reader", "password": "x", "username": "u-admin"}', None)
    assert rv.status_code == 400
    assert rv.get_json()["code"] == "API202"
    assert "«username»" in rv.get_json()["message"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_sent_as_another_type_is_415_not_missing_fields(api, content_type):
    rv = post(api, "/api/v1/access-requests", b'{"documents": ["X"], "purpose": "01"}',
              content_type=content_type)
    assert rv.status_code == 415
    assert rv.get_json()["code"] == "API005"
    assert "application/json" in rv.get_json()["message"]


def test_an_anonymous_login_cannot_make_the_server_read_megabytes(api):
    """The app-wide body limit is the bag upload's (64 GiB); a JSON endpoint without a limit
    of its own read the whole body into memory before answering."""
    body = b'{"username": "' + b"a" * (2 << 20) + b'", "password": "x"}'
    rv = post(api, "/api/v1/auth/login", body, None)
    assert rv.status_code == 413
    assert rv.get_json()["code"] == "API004"


def test_a_413_names_the_limit_that_applied_and_how_to_get_past_it(api):
    """The 1 MiB JSON limit is no setting: its 413 says to split the request, and does not
    send the caller to KHOSO_MAX_UPLOAD_BYTES (the upload limit, 64 GiB, never hit here)."""
    body = b'{"documents": ["' + b"X" * (2 << 20) + b'"], "purpose": "01"}'
    rv = post(api, "/api/v1/access-requests", body)
    problem = rv.get_json()
    assert rv.status_code == 413 and problem["code"] == "API004"
    assert "1048576 bytes (1 MiB) of a JSON body of POST /api/v1/access-requests" \
        in problem["message_en"]
    assert "split the request" in problem["message_en"].lower()
    assert "KHOSO_MAX_UPLOAD_BYTES does not apply" in problem["message_en"]
    assert "1048576 byte (1 MiB) của nội dung JSON" in problem["message"]
    assert "chia yêu cầu" in problem["message"]


@pytest.mark.parametrize("url", ["/api/v1/search?mode=01&mode=03",
                                 "/api/v1/search?q=ho+so&fonds=P623&fonds=X",
                                 "/api/v1/fonds?page=1&page=2"])
def test_a_one_value_parameter_given_twice_is_refused_not_first_wins(api, url):
    rv = api.get(url, "reader")
    assert rv.status_code == 422
    problem = rv.get_json()
    assert problem["code"] == "API001"
    (issue,) = problem["issues"]
    assert issue["code"] == "API008" and "2 times" in issue["message_en"]


def test_a_vietnamese_file_name_keeps_its_letters_in_the_ascii_fallback(khoso, api):
    outcome = khoso.ingest(make_mode_sip(khoso.tmp / "sip", CODE, doc_modes=("01",),
                                         names=(NAME,)))
    assert outcome.accepted, outcome.report
    doc = f"TTLTNA.{CODE}.0000001"
    rv = api.get(f"/api/v1/documents/{doc}/files/{quote(NAME)}", "reader")
    assert rv.status_code == 200
    assert rv.headers["Content-Disposition"] == (
        "attachment; filename=\"Quyet dinh so 1.pdf\"; "
        f"filename*=UTF-8''{quote(NAME, safe='')}")


def test_the_openapi_document_names_the_refusals_of_a_json_body(api):
    spec = api.client.get("/api/v1/openapi.json").get_json()
    operations = [op for path in spec["paths"].values() for op in path.values()
                  if "application/json" in op.get("requestBody", {}).get("content", {})]
    assert operations
    for op in operations:
        assert {"400", "413", "415"} <= set(op["responses"]), op["operationId"]
        assert op["responses"]["415"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Problem"}
