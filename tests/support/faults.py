"""Faults injected at the storage adapter's boundary, for integration tests that need one at
an exact moment (the rest of the path real)."""

from __future__ import annotations

import errno
import io
from typing import Any


class FailingMidRead(io.RawIOBase):
    """A stored object whose disk returns EIO after its first bytes."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.given = inner, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.given:
            raise OSError(errno.EIO, "Input/output error")
        data = self.inner.read(min(len(buf), 64))
        buf[:len(data)] = data
        self.given += len(data)
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()
