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
