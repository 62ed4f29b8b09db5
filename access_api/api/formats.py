"""HTTP API of this area (#15/#16): parse, call one service, render."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("formats", __name__, url_prefix="/api/v1", tag="formats")
