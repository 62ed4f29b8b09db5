"""The one place that says what a storage key may look like.

Keys become file paths and S3 object names, so every backend refuses the same hostile shapes
(``..``, absolute paths, control characters…) before touching anything. Keys are not silently
normalised: two spellings that would map to one object are a caller bug, reported as ``STO001``.
"""

from __future__ import annotations

import re
import unicodedata

from storage.errors import InvalidKey, StorageError

MAX_KEY_BYTES = 1024
# Segments starting with this are the backends' own bookkeeping (temporary files).
RESERVED_PREFIX = ".khoso-"
_HEX64 = re.compile(r"[0-9a-f]{64}")

_REASONS = {
    "empty": ("khóa rỗng", "the key is empty"),
    "type": ("khóa không phải chuỗi ký tự", "the key is not a string"),
    "long": ("dài hơn 1024 byte", "longer than 1024 bytes"),
    "nfc": ("chưa chuẩn hóa Unicode NFC", "not in Unicode NFC form"),
    "control": ("chứa ký tự điều khiển", "contains a control character"),
    "backslash": ("chứa dấu «\\»", "contains a backslash"),
    "absolute": ("bắt đầu bằng «/»", "starts with '/'"),
    "empty_segment": ("có đoạn rỗng («//» hoặc «/» ở cuối)", "has an empty segment ('//' or a trailing '/')"),
    "dot": ("có đoạn «.» hoặc «..»", "has a '.' or '..' segment"),
    "reserved": (f"có đoạn bắt đầu bằng «{RESERVED_PREFIX}» (dành riêng)",
                 f"has a segment starting with '{RESERVED_PREFIX}' (reserved)"),
}


def _refuse(key: object, reason: str) -> InvalidKey:
    vi, en = _REASONS[reason]
    shown = repr(key)[1:-1] if isinstance(key, str) else repr(key)
    if len(shown) > 120:
        shown = shown[:117] + "..."
    return InvalidKey("STO001", shown, key=shown, reason=reason, reason_vi=vi, reason_en=en)


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe relative POSIX key, else raise ``InvalidKey``."""
    if not isinstance(key, str):
        raise _refuse(key, "type")
    if not key:
        raise _refuse(key, "empty")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise _refuse(key, "long")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in key):
        raise _refuse(key, "control")
    if not unicodedata.is_normalized("NFC", key):
        raise _refuse(key, "nfc")
    if "\\" in key:
        raise _refuse(key, "backslash")
    if key.startswith("/"):
        raise _refuse(key, "absolute")
    for segment in key.split("/"):
        if not segment:
            raise _refuse(key, "empty_segment")
        if segment in (".", ".."):
            raise _refuse(key, "dot")
        if segment.startswith(RESERVED_PREFIX):
            raise _refuse(key, "reserved")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key with an optional trailing ``/``."""
    if prefix:
        validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def normalize_sha256(value: str) -> str:
    """Lower-case hex SHA-256, or ``StorageError STO012``."""
    text = value.strip().lower() if isinstance(value, str) else ""
    if not _HEX64.fullmatch(text):
        raise StorageError("STO012", value=str(value)[:80])
    return text
