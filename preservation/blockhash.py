"""Block digests: the whole stream's SHA-256 and each 4 MiB block's, from one pass.

Ingest computes them in its read pass (``ingest.onepass``), the first delivery of a file that has
none while verifying it whole (``access_api.services.delivery``); a cold download then checks
each block before sending it (``access_api.services.stream``).
"""

from __future__ import annotations

import hashlib

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

    def hexdigest(self) -> str:
        """The whole stream's SHA-256 (a ``BlockHasher`` stands in for a ``hashlib`` one)."""
        return self.whole.hexdigest()

    def digests(self) -> bytes:
        """The blocks' digests, 32 bytes each, the last (short) block included."""
        tail = self._current.digest() if self._filled else b""
        return bytes(self._digests) + tail
