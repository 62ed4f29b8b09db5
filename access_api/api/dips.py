"""Gói thông tin khai thác DIP (dissemination information packages)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("dips", __name__, url_prefix="/api/v1" or None, tag="dips")
