"""Flask app factory. Settings and the catalog are built by the caller and handed in."""

from __future__ import annotations

from flask import Flask, jsonify
from flask.json.provider import DefaultJSONProvider

from access_api import errors, packages
from access_api.health import health
from preservation import __version__
from preservation.catalog.db import Catalog
from preservation.settings import Settings


def create_app(settings: Settings, catalog: Catalog | None = None) -> Flask:
    app = Flask("khoso")
    app.config.update(MAX_CONTENT_LENGTH=settings.max_upload_bytes, JSON_SORT_KEYS=False)
    assert isinstance(app.json, DefaultJSONProvider)  # Flask's own, unless replaced
    app.json.ensure_ascii = False
    catalog = catalog or Catalog(settings.database_url)
    app.extensions["khoso"] = {"settings": settings, "catalog": catalog}
    errors.register(app)
    app.register_blueprint(packages.bp)

    @app.get("/healthz")
    def healthz():
        body = health(settings, catalog)
        body["version"] = __version__
        return jsonify(body), 200 if body["status"] == "ok" else 503

    return app
