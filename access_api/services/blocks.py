"""Block digests of content files (table ``block_digests``): what lets a cold download be
verified block by block as it is sent (``access_api.services.stream``).

A list is recorded only from a read whose whole-file SHA-256 and size matched the catalog, so it
is as trustworthy as the catalog's digest: ingest's read pass, which gives the catalog that
digest (``record_all``), or a first delivery that verified a file without a list (``record``). A list whose shape does not fit its file (size, block
size, 32 bytes per block) is not used: the reader falls back to verifying the whole file first,
which records a fresh list.

Each row carries a seal: an HMAC-SHA-256 of the file's digest, size, block size and block
digests under a key kept in the archive's keys folder, not in the catalog. A row changed in the
database (by hand, by a bug, or to make a rotted copy pass block by block) no longer matches its
seal and is refused (``Unsealed``): the reader then verifies the whole file first. Checking the
whole-file SHA-256 during every streamed read would do the same at the cost of a third SHA-256
of every byte (the reader's and the client's are the others), about a third of the throughput
on the 2-core machine measured (2026-12-07); the seal costs one HMAC of 8 KiB per request.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from access_api.services.base import ServiceContext
from preservation.blockhash import BLOCK
from preservation.catalog.models import BlockDigests

DIGEST = 32
BLOCK_SIZE = BLOCK  # for lists recorded from now on; each list keeps its own block size
KEY_FILE = "block-digests.key"

log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Unsealed:
    """A recorded list that must not be used: its seal does not match it."""

    reason: str


def _key(ctx: ServiceContext) -> bytes:
    """The seal key: 32 random bytes made on first use, readable by the archive's user only."""
    folder = Path(ctx.settings.keys_dir)
    path = folder / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        # written whole under a temporary name, then linked into place: a process racing the
        # first use never reads a key file that is still empty
        tmp = folder / f".{KEY_FILE}.{os.getpid()}.{os.urandom(4).hex()}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(os.urandom(32))
                out.flush()
                os.fsync(out.fileno())
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path.read_bytes()


def seal(ctx: ServiceContext, blocks: Blocks, key: bytes | None = None) -> bytes:
    header = f"{blocks.sha256}:{blocks.size}:{blocks.block_size}:".encode("ascii")
    return hmac.new(key or _key(ctx), header + blocks.digests, "sha256").digest()


def load(ctx: ServiceContext, sha256: str, size: int) -> Blocks | Unsealed | None:
    """The file's block digests; None when none are recorded, they do not fit the file, or the
    seal key cannot be read; ``Unsealed`` when the row does not match its seal."""
    with ctx.catalog.reading() as s:
        row = s.get(BlockDigests, sha256)
        if row is None:
            return None
        blocks = Blocks(row.sha256, row.size, row.block_size, bytes(row.digests))
        stored_seal = bytes(row.seal)
    try:
        expected = seal(ctx, blocks)
    except OSError:
        return None  # the archive's own keys folder: verify the whole file instead
    if not hmac.compare_digest(expected, stored_seal):
        return Unsealed("the block list does not match its seal")
    return blocks if blocks.fits(sha256, size) else Unsealed("the block list does not fit "
                                                             "the file")


def record(ctx: ServiceContext, blocks: Blocks) -> None:
    """Keep the digests of a file just verified whole; a list already there is left as is
    (another reader recorded the same bytes' digests first)."""
    if not blocks.fits(blocks.sha256, blocks.size):
        return
    try:
        sealed = seal(ctx, blocks)
    except OSError:
        return  # no key, no list: the next cold read verifies the whole file again
    try:
        with ctx.catalog.session() as s:
            if s.get(BlockDigests, blocks.sha256) is None:
                s.add(BlockDigests(sha256=blocks.sha256, size=blocks.size,
                                   block_size=blocks.block_size, digests=blocks.digests,
                                   seal=sealed))
    except IntegrityError:  # a concurrent first delivery of the same bytes
        pass


def record_all(ctx: ServiceContext, lists: Sequence[Blocks]) -> None:
    """Keep the lists ingest computed in its read pass (``ingest.onepass``) for the files it
    has just accepted, whose SHA-256 the same pass gave the catalog: in one transaction per
    ``_BATCH``, lists already there left as they are. Best effort: a list not kept only means
    that the file's first download verifies it whole first, as before."""
    wanted = {b.sha256: b for b in lists if b.fits(b.sha256, b.size)}
    if not wanted:
        return
    try:
        key = _key(ctx)
    except OSError as exc:
        log.warning("block digests not recorded: the seal key cannot be read (%s)", exc)
        return
    todo = sorted(wanted)
    for i in range(0, len(todo), _BATCH):
        batch = todo[i:i + _BATCH]
        try:
            with ctx.catalog.session() as s:
                have = set(s.scalars(sa.select(BlockDigests.sha256).where(
                    BlockDigests.sha256.in_(batch))))
                for sha in batch:
                    if sha not in have:
                        b = wanted[sha]
                        s.add(BlockDigests(sha256=sha, size=b.size, block_size=b.block_size,
                                           digests=b.digests, seal=seal(ctx, b, key)))
        except IntegrityError:  # a first delivery of the same bytes, at the same time
            for sha in batch:
                record(ctx, wanted[sha])
        except SQLAlchemyError as exc:
            log.warning("block digests not recorded for %d files: %s", len(batch), exc)


_BATCH = 500


def discard(ctx: ServiceContext, sha256: str) -> None:
    with ctx.catalog.session() as s:
        s.execute(sa.delete(BlockDigests).where(BlockDigests.sha256 == sha256))
