"""Storage backends as the contract suite sees them: a backend and how to rot one byte of an
object behind its back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from storage.protocol import Storage

MiB = 1 << 20
S3_PART = 5 * MiB  # the smallest part S3 (and moto) accept


@dataclass
class Backend:
    kind: str
    storage: Storage
    corrupt: Callable[[str], None]  # flip one byte of a stored object behind the backend's back


def flip_middle(data: bytes) -> bytes:
    buf = bytearray(data) or bytearray(b"\0")
    buf[len(buf) // 2] ^= 0x01
    return bytes(buf)
