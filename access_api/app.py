"""Flask app factory (APIFlask: the OpenAPI 3.1 document at ``/api/v1/openapi.json`` is
generated from the code). Settings and the catalog are built by the caller and handed in."""

from __future__ import annotations

import warnings
from typing import Any

from apiflask import APIFlask
from flask.json.provider import DefaultJSONProvider

from access_api import errors, packages
from access_api.api import (
    access_requests,
    accounts,
    aips,
    digitisation,
    dips,
    disposal,
    extraction,
    files,
    formats,
    jobs,
    oai,
    ops,
    parsing,
    reports,
    repository,
    search,
    submissions,
    transfers,
)
from access_api.api import (
    catalog as catalog_api,
)
from access_api.api.base import BEARER
from access_api.services.base import ServiceContext
from preservation import __version__
from preservation.catalog.db import Catalog
from preservation.settings import Settings

BLUEPRINTS = (accounts, submissions, jobs, catalog_api, files, search, access_requests, dips,
              reports, aips, oai, ops, disposal, transfers, repository, digitisation, extraction,
              formats)

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["code", "message", "message_en", "issues"],
    "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "message_en": {"type": "string"},
        "issues": {"type": "array", "items": {"type": "object", "properties": {
            "code": {"type": "string"}, "severity": {"type": "string"},
            "path": {"type": "string"}, "message": {"type": "string"},
            "message_en": {"type": "string"}}}}},
}


# apispec warns when a schema it already named is met again inside a page schema
# (``page_of``); the reference it writes is the same one, and the document validates
# (test_foundation).
warnings.filterwarnings("ignore", message=".*has already been added to the spec",
                        category=UserWarning, module="apispec")


def create_app(settings: Settings, catalog: Catalog | None = None) -> APIFlask:
    app = APIFlask("khoso", title="khoso API", version=__version__,
                   spec_path="/api/v1/openapi.json", docs_path="/api/v1/docs")
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_upload_bytes, JSON_SORT_KEYS=False,
        OPENAPI_VERSION="3.1.0", VALIDATION_ERROR_SCHEMA=PROBLEM_SCHEMA,
        HTTP_ERROR_SCHEMA=PROBLEM_SCHEMA, AUTO_OPERATION_ID=True,
        SECURITY_SCHEMES={BEARER: {"type": "http", "scheme": "bearer"}},
        DESCRIPTION="Kho lưu trữ số khoso (TT 05/2025/TT-BNV). Errors are problem documents "
                    "with a stable code: `khoso issues CODE` explains each.")
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own, unless replaced
    app.json.ensure_ascii = False
    catalog = catalog or Catalog(settings.database_url)
    app.extensions["khoso"] = {"settings": settings, "catalog": catalog,
                               "services": ServiceContext(settings, catalog)}
    parsing.install()  # strict JSON bodies and query strings (one parser for every app)
    errors.register(app)
    app.register_blueprint(packages.bp)
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)

    @app.spec_processor
    def every_refusal_documented(spec: dict[Any, Any] | str) -> dict[Any, Any] | str:
        """Refusals are problem documents: each operation names 503 (the archive cannot
        now), behind a token 401 and 403, and with a JSON body 400 (not JSON: API201,
        API202), 413 and 415, beside the statuses its blueprint lists."""
        assert isinstance(spec, dict)  # SPEC_PROCESSOR_PASS_OBJECT is off: the dict form
        spec.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {"description": "Problem document (lỗi có mã ổn định)", "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
        for path in spec.get("paths", {}).values():
            for method, operation in path.items():
                if method in ("get", "put", "post", "delete", "patch", "head", "options"):
                    responses = operation.setdefault("responses", {})
                    responses.setdefault("503", problem)
                    if operation.get("security"):
                        responses.setdefault("401", problem)
                        responses.setdefault("403", problem)
                    body = operation.get("requestBody", {}).get("content", {})
                    if "application/json" in body:  # what ``parsing`` refuses
                        responses.setdefault("400", problem)
                        responses.setdefault("413", problem)
                        responses.setdefault("415", problem)
        return spec

    return app
