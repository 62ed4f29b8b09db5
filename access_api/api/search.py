"""Tìm kiếm toàn văn (full-text search)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("search", __name__, url_prefix="/api/v1" or None, tag="search")
