"""Công việc và biên bản giao nhận (jobs and receipts)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("jobs", __name__, url_prefix="/api/v1" or None, tag="jobs")
