"""The one place that maps errors to HTTP responses: JSON problem documents.

Every error body is ``{"code", "message", "message_en", "issues": [...]}`` with a stable issue
code (``khoso issues CODE`` explains it); nothing reaches a client as an HTML page or a bare 500.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import sqlalchemy as sa
from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from access_api.services.body_limits import BodyKind, body_limit
from preservation.errors import (
    ConfigError,
    Conflict,
    Forbidden,
    KhosoError,
    NotFound,
    TooManyRequests,
    Unauthorised,
    Unavailable,
    ValidationFailed,
)
from preservation.issues import Issue

log = logging.getLogger(__name__)

STATUS: dict[type[KhosoError], int] = {
    NotFound: 404, Conflict: 409, ValidationFailed: 422, Unauthorised: 401, Forbidden: 403,
    TooManyRequests: 429, Unavailable: 503, ConfigError: 500}
# Werkzeug's own refusals, by status: the code a client gets for each.
HTTP_CODES = {404: "API002", 405: "API003", 413: "API004", 415: "API005"}


def lang() -> str:
    """The caller's language: ``Accept-Language`` (Vietnamese unless English is preferred)."""
    return request.accept_languages.best_match(["vi", "en"]) or "vi"


def problem(issue: Issue, status: int, issues: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> Response:
    body = {"code": issue.code, "message": issue.message(lang()),
            "message_en": issue.message("en"), "issues": issues or []}
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    if status == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="khoso"')
    return response


def issue_dict(issue: Issue) -> dict[str, Any]:
    return {"code": issue.code, "severity": issue.severity.value, "path": issue.path,
            "message": issue.message(lang()), "message_en": issue.message("en")}


def _field_issues(detail: dict[str, Any]) -> list[dict[str, Any]]:
    """webargs' {location: {field: [messages]}} as issues, one per message."""
    out: list[dict[str, Any]] = []

    def walk(where: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{where}.{key}" if where else str(key), inner)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            for message in value:  # marshmallow's sentences end with a period; ours add one
                out.append(issue_dict(Issue("API008", where, {"field": where,
                                                              "reason": message.rstrip(".")})))
        else:
            out.append(issue_dict(Issue("API008", where, {"field": where, "reason": str(value)})))

    walk("", detail)
    return out


def register(app: APIFlask) -> None:
    @app.errorhandler(KhosoError)
    def domain_error(exc: KhosoError) -> Response:
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        issues = ([issue_dict(i) for i in exc.report.issues]
                  if isinstance(exc, ValidationFailed) else [])
        headers = {}
        if isinstance(exc, (TooManyRequests, Unavailable)):
            headers["Retry-After"] = str(exc.retry_after)
        elif exc.transient:  # the archive's own fault: the client retries, never rejected
            status, headers = 503, {"Retry-After": "30"}
        return problem(exc.issue, status, issues, headers)

    @app.error_processor
    def http_error(error: HTTPError) -> Response:
        status = error.status_code
        if status in (400, 422) and isinstance(error.detail, dict) and error.detail:
            issues = _field_issues(error.detail)
            first = issues[0]["path"] if issues else ""
            return problem(Issue("API001", "", {"count": len(issues), "first": first}), status,
                           issues, _headers(error))
        return problem(_http_issue(status, error.message or ""), status, [], _headers(error))

    @app.errorhandler(HTTPException)
    def werkzeug_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
        return problem(_http_issue(status, exc.description or ""), status, [], headers)

    @app.errorhandler(sa.exc.DataError)
    def value_the_catalog_refuses(exc: Exception) -> Response:
        """A value the catalog cannot hold (too long for its column, a character it refuses)
        came from the request: the caller's 400, not a 500."""
        log.warning("catalog refused a value on %s %s: %s", request.method, request.path,
                    str(exc).splitlines()[0])
        return problem(Issue("API006", "", {"reason": "value out of range"}), 400)

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    @app.errorhandler(sa.exc.TimeoutError)
    def catalog_down(exc: Exception) -> Response:
        """The catalog unreachable is the archive's fault: 503, retry later; the connection's
        details stay in the server's log (they name hosts)."""
        ref = uuid.uuid4().hex[:12]
        log.error("catalog unreachable %s on %s %s: %s", ref, request.method, request.path,
                  str(exc).splitlines()[0])
        return problem(Issue("DB001", "", {"reason": f"ref {ref}"}), 503, [],
                       {"Retry-After": "30"})

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        ref = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", ref, request.method, request.path)
        return problem(Issue("API007", "", {"ref": ref}), 500)


def _headers(error: HTTPError) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(error.headers or {}).items()}


def _http_issue(status: int, description: str) -> Issue:
    code = HTTP_CODES.get(status)
    if code == "API002":
        return Issue(code, "", {"path": request.path})
    if code == "API003":
        return Issue(code, "", {"method": request.method, "path": request.path})
    if code == "API004":  # the request's own limit (an endpoint may set a smaller one)
        return Issue(code, "", _body_limit())
    if code == "API005":
        return Issue(code, "", {"content_type": request.content_type or "-",
                                "accepted": "application/json"})
    return Issue("API006", "", {"reason": description or str(status)})


def _body_limit() -> dict[str, Any]:
    """API004's parameters for the limit this request hit: the kind an endpoint or the JSON
    parser noted (``g.body_kind``), else the upload setting when it is the app-wide limit."""
    limit = request.max_content_length or 0
    kind = g.get("body_kind")
    if kind is None:
        if limit == current_app.config.get("MAX_CONTENT_LENGTH"):
            kind = BodyKind.UPLOAD
        else:
            kind = BodyKind.JSON if request.is_json else BodyKind.FILE
    return body_limit(limit, kind, f"{request.method} {request.path}")
