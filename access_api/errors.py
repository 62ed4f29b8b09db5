"""The one place that maps domain errors to HTTP responses."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from preservation.errors import ConfigError, Conflict, KhosoError, NotFound, ValidationFailed

STATUS = {NotFound: 404, Conflict: 409, ValidationFailed: 422, ConfigError: 500}


def _lang() -> str:
    best = request.accept_languages.best_match(["vi", "en"])
    return best or "vi"


def register(app: Flask) -> None:
    @app.errorhandler(KhosoError)
    def domain_error(exc: KhosoError):
        status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
        body: dict[str, dict[str, Any]] = {"error": {
            "code": exc.code, "message": exc.message(_lang()), "message_en": exc.message("en")}}
        if isinstance(exc, ValidationFailed):
            body["error"]["issues"] = [i.to_dict() for i in exc.report.issues]
        return jsonify(body), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return jsonify({"error": {"code": f"HTTP{exc.code}", "message": exc.description}}), exc.code
