"""Sổ khai thác sử dụng và các báo cáo (access register, reports)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("reports", __name__, url_prefix="/api/v1" or None, tag="reports")
