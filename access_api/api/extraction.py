"""HTTP API of this area (#15/#16): parse, call one service, render."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("extraction", __name__, url_prefix="/api/v1", tag="extraction")
