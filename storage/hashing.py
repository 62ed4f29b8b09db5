"""Streaming SHA-256 with one reusable 1 MiB buffer, shared by every backend.

``readinto`` into a preallocated buffer avoids allocating a new bytes object per chunk, which is
what keeps fixity audits of large objects close to the disk's speed (see ``bench/bench_storage.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 1 << 20


def iter_chunks(stream: BinaryIO, chunk: int = CHUNK) -> Iterator[memoryview]:
    """Yield views of one reused buffer: use each view before asking for the next."""
    buf = bytearray(chunk)
    view = memoryview(buf)
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
        else:
            data = stream.read(chunk)
            n = len(data)
            view[:n] = data
        if not n:
            return
        yield view[:n]


def hash_stream(stream: BinaryIO) -> tuple[str, int]:
    """(sha256 hex, bytes read) of the rest of ``stream``."""
    digest = hashlib.sha256()
    total = 0
    for view in iter_chunks(stream):
        digest.update(view)
        total += len(view)
    return digest.hexdigest(), total


def read_up_to(stream: BinaryIO, limit: int) -> bytearray:
    """Read until ``limit`` bytes or the end of the stream, whichever comes first.

    The result grows as data arrives: preallocating ``limit`` (64 MiB for an S3 part) would
    cost more than the upload of a small object.
    """
    out = bytearray()
    buf = bytearray(min(CHUNK, limit))
    view = memoryview(buf)
    readinto = getattr(stream, "readinto", None)
    while len(out) < limit:
        want = min(len(buf), limit - len(out))
        if readinto is not None:
            n = readinto(view[:want])
        else:
            data = stream.read(want)
            n = len(data)
            view[:n] = data
        if not n:
            break
        out += view[:n]
    return out


BLOCK = 4 << 20  # see ``BlockHasher``


class BlockHasher:
    """The whole stream's SHA-256 and the SHA-256 of each ``block``-sized block of it, in one
    pass over the bytes (each byte is still hashed twice: SHA-256 cannot be split).

    4 MiB blocks: a 1 GiB file's list is 256 × 32 bytes = 8 KiB, small enough for one catalog
    row; a damaged block costs at most 4 MiB re-read from another location; a 1 MiB range
    read anywhere reads at most 8 MiB; and one block is what a streaming reader must hold in
    memory before it may send it (``access_api.services.stream``)."""

    def __init__(self, block: int = BLOCK) -> None:
        self.block, self.whole, self.size = block, hashlib.sha256(), 0
        self._current, self._filled, self._digests = hashlib.sha256(), 0, bytearray()

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        self.whole.update(view)
        self.size += len(view)
        while len(view):
            take = min(len(view), self.block - self._filled)
            self._current.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == self.block:
                self._digests += self._current.digest()
                self._current, self._filled = hashlib.sha256(), 0

    def digests(self) -> bytes:
        """The blocks' digests, 32 bytes each, the last (short) block included."""
        tail = self._current.digest() if self._filled else b""
        return bytes(self._digests) + tail
