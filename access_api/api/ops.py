"""Giám sát: /healthz, /metrics (health, Prometheus metrics)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("ops", __name__, url_prefix="" or None, tag="ops")
