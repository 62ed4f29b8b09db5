"""Nộp gói SIP qua HTTP, tải lên có thể tiếp tục (submissions, resumable uploads)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("submissions", __name__, url_prefix="/api/v1" or None, tag="submissions")
