"""``khoso digitise``: page images to signed two-layer PDF/A, and into an AIP_hoso (#16)."""

from __future__ import annotations

from access_api.cli.base import main


@main.group()
def digitise() -> None:
    """Số hóa tài liệu giấy: ảnh trang thành PDF/A hai lớp có chữ ký số."""
