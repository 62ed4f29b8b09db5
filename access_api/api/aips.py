"""Bảo quản: AIP, sự kiện PREMIS, kiểm tra (AIPs, events, audits)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("aips", __name__, url_prefix="/api/v1" or None, tag="aips")
