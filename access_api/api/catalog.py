"""Phông, hồ sơ, tài liệu (fonds, records, documents)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("catalog", __name__, url_prefix="/api/v1" or None, tag="catalog")
