"""Giám sát: /healthz, /metrics (health, Prometheus metrics).

``/healthz`` answers 200 while khoso serves (``up`` or ``degraded``: a load balancer keeps
sending readers to an instance that can still answer them; the body says what an operator must
fix) and 503 only when it cannot (``down``: the catalog is unreachable). Anonymous callers get
the state alone; preservation officers and administrators the components too.

Every request this app answers is counted here, by method, route template (never the raw path:
OBJIDs and file names would make a series each) and status, with its duration.
"""

from __future__ import annotations

import time
from typing import Any

from apiflask import APIBlueprint
from flask import Response, current_app, g, request
from flask.sansio.blueprints import BlueprintSetupState
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from access_api.api.base import identity, services
from access_api.services import health as health_service
from access_api.services import metrics as metrics_service

bp = APIBlueprint("ops", __name__, url_prefix="" or None, tag="ops")

HTTP_STATUS = {"up": 200, "degraded": 200, "down": 503}


class RequestMetrics:
    """The request counter and duration histogram of one app, in its own registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter("khoso_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=registry)
        self.duration = Histogram("khoso_http_request_duration_seconds",
                                  "Time to answer an HTTP request", ["method", "route"],
                                  registry=registry)


@bp.record_once
def _setup(state: BlueprintSetupState) -> None:
    khoso = state.app.extensions["khoso"]
    khoso["metrics"] = RequestMetrics(metrics_service.registry(khoso["services"]))


def _metrics() -> RequestMetrics:
    recorder: RequestMetrics = current_app.extensions["khoso"]["metrics"]
    return recorder


@bp.before_app_request
def _started() -> None:
    g.khoso_started = time.perf_counter()


@bp.after_app_request
def _count(response: Response) -> Response:
    started = g.get("khoso_started")
    route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
    recorder = _metrics()
    recorder.requests.labels(request.method, route, str(response.status_code)).inc()
    if started is not None:
        recorder.duration.labels(request.method, route).observe(time.perf_counter() - started)
    return response


@bp.get("/healthz")
@bp.doc(hide=True)
def healthz() -> tuple[dict[str, Any], int]:
    ctx = services()
    report = health_service.check(ctx.settings, ctx.catalog)
    if report.status is health_service.Overall.DOWN:
        # no token can be checked without the catalog: the state alone, for everyone
        return report.public(), HTTP_STATUS[report.status]
    detailed = health_service.may_see_details(identity())
    return (report.detailed() if detailed else report.public()), HTTP_STATUS[report.status]


@bp.get("/metrics")
@bp.doc(hide=True)
def metrics() -> Response:
    metrics_service.check_may_read(services(), identity())
    return Response(generate_latest(_metrics().registry), content_type=CONTENT_TYPE_LATEST)
