"""Which body limit a 413 (``API004``) hit, said so that its reader knows what to change.

A request can hit one of three kinds of limit, and only one of them is a setting: the upload
limit (``KHOSO_MAX_UPLOAD_BYTES``, the app-wide one). A JSON body is held to 1 MiB or to its
blueprint's own size, a decision file to its own: KHOSO_MAX_UPLOAD_BYTES does not change
those, so the message says to send less (split the request), never to raise it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from preservation.issues import Text


class BodyKind(StrEnum):
    UPLOAD = "upload"  # a bag, a ZIP, a tus chunk: KHOSO_MAX_UPLOAD_BYTES
    JSON = "json"  # a JSON body: 1 MiB or the endpoint's fixed limit
    FILE = "file"  # a file that is not an upload (a disposal decision): a fixed limit


def _size(limit: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if limit >= 1 << shift:
            value = limit / (1 << shift)
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{limit} B"


def body_limit(limit: int, kind: BodyKind, where: str = "") -> dict[str, Any]:
    """``API004``'s parameters: the limit, its size, which limit it is and how to get past it."""
    if kind is BodyKind.UPLOAD:
        scope = Text("bản tải lên, đặt bằng thiết lập KHOSO_MAX_UPLOAD_BYTES",
                     "uploads, set by the setting KHOSO_MAX_UPLOAD_BYTES")
        fix = Text("Một gói lớn hơn chỉ được nhận khi người quản trị kho nâng "
                   "KHOSO_MAX_UPLOAD_BYTES.",
                   "A larger package is accepted only once the archive's administrator raises "
                   "KHOSO_MAX_UPLOAD_BYTES.")
    elif kind is BodyKind.JSON:
        scope = Text(f"nội dung JSON của {where}", f"a JSON body of {where}")
        fix = Text("Hãy chia yêu cầu thành nhiều yêu cầu nhỏ hơn (ít mục hơn, văn bản ngắn "
                   "hơn); KHOSO_MAX_UPLOAD_BYTES không áp dụng cho giới hạn này.",
                   "Split the request into smaller ones (fewer items, shorter text); "
                   "KHOSO_MAX_UPLOAD_BYTES does not apply to this limit.")
    else:
        scope = Text(f"tệp gửi đến {where}", f"a file sent to {where}")
        fix = Text("Hãy gửi tệp nhỏ hơn (ví dụ quét lại ở độ phân giải thấp hơn); "
                   "KHOSO_MAX_UPLOAD_BYTES không áp dụng cho giới hạn này.",
                   "Send a smaller file (for example scanned again at a lower resolution); "
                   "KHOSO_MAX_UPLOAD_BYTES does not apply to this limit.")
    return {"limit": limit, "size": _size(limit), "scope": scope, "fix": fix}
