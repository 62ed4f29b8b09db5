"""Yêu cầu khai thác tài liệu (access requests)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("access_requests", __name__, url_prefix="/api/v1" or None, tag="access-requests")
