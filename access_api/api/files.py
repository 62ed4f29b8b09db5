"""Tệp tài liệu, bản sao khai thác (files, dissemination copies)."""

from __future__ import annotations

from apiflask import APIBlueprint

bp = APIBlueprint("files", __name__, url_prefix="/api/v1" or None, tag="files")
