"""Block digests of content files (table ``block_digests``): what lets a cold download be
verified block by block as it is sent (``access_api.services.stream``).

A list is recorded only from a read whose whole-file SHA-256 and size matched the catalog, so it
is as trustworthy as the catalog's digest. A list whose shape does not fit its file (size, block
size, 32 bytes per block) is not used: the reader falls back to verifying the whole file first,
which records a fresh list.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from access_api.services.base import ServiceContext
from preservation.catalog.models import BlockDigests
from storage.hashing import BLOCK

DIGEST = 32
BLOCK_SIZE = BLOCK  # for lists recorded from now on; each list keeps its own block size


@dataclass(frozen=True)
class Blocks:
    """The block digests of one file: block ``i`` is bytes ``[i·block_size, …)``."""

    sha256: str
    size: int
    block_size: int
    digests: bytes

    @property
    def count(self) -> int:
        return -(-self.size // self.block_size)

    def digest(self, index: int) -> bytes:
        return self.digests[index * DIGEST:(index + 1) * DIGEST]

    def span(self, index: int) -> tuple[int, int]:
        start = index * self.block_size
        return start, min(start + self.block_size, self.size)

    def fits(self, sha256: str, size: int) -> bool:
        return (self.sha256 == sha256 and self.size == size and self.block_size > 0
                and len(self.digests) == DIGEST * self.count and size > 0)


def load(ctx: ServiceContext, sha256: str, size: int) -> Blocks | None:
    """The file's block digests, or None when none are recorded or they do not fit it."""
    with ctx.catalog.reading() as s:
        row = s.get(BlockDigests, sha256)
        if row is None:
            return None
        blocks = Blocks(row.sha256, row.size, row.block_size, bytes(row.digests))
    return blocks if blocks.fits(sha256, size) else None


def record(ctx: ServiceContext, blocks: Blocks) -> None:
    """Keep the digests of a file just verified whole; a list already there is left as is
    (another reader recorded the same bytes' digests first)."""
    if not blocks.fits(blocks.sha256, blocks.size):
        return
    try:
        with ctx.catalog.session() as s:
            if s.get(BlockDigests, blocks.sha256) is None:
                s.add(BlockDigests(sha256=blocks.sha256, size=blocks.size,
                                   block_size=blocks.block_size, digests=blocks.digests))
    except IntegrityError:  # a concurrent first delivery of the same bytes
        pass


def discard(ctx: ServiceContext, sha256: str) -> None:
    with ctx.catalog.session() as s:
        s.execute(sa.delete(BlockDigests).where(BlockDigests.sha256 == sha256))
