"""Block-verified streaming delivery: a cold download starts at once and still never sends a
byte that failed its digest.

When the file's block digests are known (``access_api.services.blocks``; recorded at ingest, or
else by the first delivery, which verifies the whole file first), the copy is read block by block from the first
good location, and each block is hashed and compared with its digest *before* any of its bytes
is handed to the response. A block that does not match (or is short, or unreadable) flags the
copy exactly as the whole-file path does (``flag_bad_copy``) and is read again, from the same
offset, from the next location. Only if no location holds a good block is the transfer aborted
(``DLV001``): the response ends before its Content-Length, so the client sees a failed transfer
holding only verified bytes; if that happens at the first block, nothing has started and the
answer is 503 ``ACS004`` as before.

A range reads only the blocks that cover it. A whole-file transfer of a file up to
``KEEP_MAX`` also writes the verified blocks to a temporary file in a second thread, admitted
to the delivery cache once the last block was verified, so the next reader is a warm hit. The
block list is trusted as far as its seal (``access_api.services.blocks``): a list changed in
the catalog is dropped (``DLV002``) and the whole file is verified before it is sent, as for a
file without a list.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from access_api.services import blocks as block_store
from access_api.services.base import Identity, ServiceContext
from access_api.services.blocks import Blocks
from access_api.services.delivery import (
    RETRY_AFTER,
    Delivered,
    DeliveryCache,
    Source,
    StoredFile,
    _cached,
    cache_for,
    deliver,
    flag_bad_copy,
    in_read_order,
)
from preservation.catalog import audit as audit_log
from preservation.errors import Unavailable
from preservation.issues import Issue
from storage.errors import ObjectMissing, StorageError
from storage.protocol import FixityOutcome, FixityResult

log = logging.getLogger(__name__)


class TransferAborted(Exception):
    """Raised from a response body already started: the server closes the connection."""


@dataclass
class Streamed:
    """Bytes ``[start, end)`` of a file, verified block by block as it is iterated (a WSGI
    body: ``close`` ends the storage read and the cache writer even if it never started)."""

    start: int
    end: int
    size: int
    sha256: str
    body: Generator[bytes, None, None]
    cleanup: Callable[[], None]

    def __iter__(self) -> Iterator[bytes]:
        return self.body

    def close(self) -> None:
        self.body.close()
        self.cleanup()


def open_file(ctx: ServiceContext, identity: Identity, f: StoredFile,
              start: int = 0, end: int | None = None) -> Delivered | Streamed:
    """The file for a reader: a verified cache hit, a verified stream when its block digests
    are known, else the whole-file verify-first path (which records them). ``ACS004`` (503)
    when not even the first block needed is intact anywhere."""
    end = f.size if end is None else end
    try:
        cache = cache_for(ctx)
        hit = _cached(ctx, identity, cache, f)
    except OSError:
        return deliver(ctx, identity, f)  # maps the cache's failure to ACS004
    if hit is not None:
        return hit
    known = block_store.load(ctx, f.sha256, f.size)
    if isinstance(known, block_store.Unsealed):
        _discard_unsealed(ctx, identity, f, known.reason)
        known = None
    if known is None or f.size == 0:
        return deliver(ctx, identity, f)
    whole = start == 0 and end == f.size
    reader = _BlockReader(ctx, identity, f, known, end, whole)
    first, last = start // known.block_size, (max(end, 1) - 1) // known.block_size
    try:
        head = reader.block(first)
    except BaseException:
        reader.close()
        raise
    if head is None:
        reader.close()
        raise Unavailable("ACS004", f.name, retry_after=RETRY_AFTER, name=f.name,
                          tried="; ".join(reader.tried) or "-")
    keeper = None
    if whole and f.size <= min(cache.max_bytes, KEEP_MAX):
        try:
            keeper = _Keeper(cache, f)
        except OSError as exc:  # the cache's disk: the reader is still served
            log.warning("delivery cache cannot keep %s: %s", f.name, exc)

    def cleanup() -> None:
        reader.close()
        if keeper is not None:
            keeper.close()

    return Streamed(start, end, f.size, f.sha256,
                    _body(reader, keeper, head, first, last, start, end), cleanup)


def _discard_unsealed(ctx: ServiceContext, identity: Identity, f: StoredFile,
                      reason: str) -> None:
    """A block list whose seal fails was not written by khoso from verified bytes: it is
    dropped and the whole file verified before it is sent (which records a good list)."""
    issue = Issue("DLV002", f.name, {"name": f.name})
    log.error("%s", issue.message("en"))
    block_store.discard(ctx, f.sha256)
    with ctx.catalog.session() as s:
        audit_log.record(s, identity.actor, "delivery.blocks_discarded", "file", f.sha256,
                         name=f.name, code="DLV002", reason=reason, message=issue.message("vi"))


def _body(reader: _BlockReader, keeper: _Keeper | None, head: bytes, first: int, last: int,
          start: int, end: int) -> Generator[bytes, None, None]:
    bs, sent, whole = reader.blocks.block_size, 0, reader.whole
    ahead = _ReadAhead(reader, first + 1, last) if last > first else None
    try:
        for index in range(first, last + 1):
            data = head if index == first else (ahead.next(index) if ahead is not None
                                                else reader.block(index))
            if data is None:
                reader.abort(index, sent, "DLV001")
            assert data is not None
            if keeper is not None:
                keeper.put(data)
                if index == last:
                    keeper.finish()
            lo, hi = max(start - index * bs, 0), min(end - index * bs, len(data))
            part = data if (lo, hi) == (0, len(data)) else data[lo:hi]
            sent += len(part)
            yield part
        if whole:
            reader.check_growth()
    finally:
        if ahead is not None:
            ahead.stop()  # before the reader closes: the thread may be reading from it
        reader.close()
        if keeper is not None:
            keeper.close()


AHEAD = 2  # verified blocks read before the response asks for them


class _ReadAhead:
    """Reads and checks the next blocks in a thread of their own while the server sends the
    ones before: hashing a block and sending the previous one then take a core each
    (``hashlib`` and the socket release the GIL). Without it the request's thread did both in
    turn: a cold 1 GiB took 0.87 s where the server's CPU was 0.86 s (2026-12-07, 2 cores).

    Only this thread uses the reader until ``stop`` (or the end): the transfer sees each block,
    or None where no copy held it (the thread then stops, as the transfer does), or the
    exception the read raised."""

    def __init__(self, reader: _BlockReader, first: int, last: int) -> None:
        self._reader, self._next, self._last = reader, first, last
        self._queue: queue.Queue[tuple[int, bytes | None, BaseException | None]] = \
            queue.Queue(maxsize=AHEAD)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="khoso-read-ahead", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for index in range(self._next, self._last + 1):
            if self._stopping.is_set():
                return
            item: tuple[int, bytes | None, BaseException | None]
            try:
                data = self._reader.block(index)
                item = (index, data, None)
            except BaseException as exc:  # noqa: BLE001 - handed to the transfer's thread
                item = (index, None, exc)
            while not self._stopping.is_set():
                try:
                    self._queue.put(item, timeout=0.2)
                    break
                except queue.Full:
                    continue
            if item[1] is None:
                return

    def next(self, index: int) -> bytes | None:
        got, data, error = self._queue.get()
        assert got == index, f"block {got} read ahead where {index} was due"
        if error is not None:
            raise error
        return data

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._thread.join()


@dataclass
class _BlockReader:
    """Reads verified blocks, moving to the next location when a copy fails one."""

    ctx: ServiceContext
    identity: Identity
    f: StoredFile
    blocks: Blocks
    end: int  # bytes past the block holding byte ``end - 1`` are never fetched
    whole: bool  # the whole file: read each copy to its end, so that growth is seen
    tried: list[str] = field(default_factory=list)
    _order: list[Source] = field(default_factory=list)
    _current: Source | None = None
    _stream: BinaryIO | None = None
    _pos: int = 0
    _flagged: set[int] = field(default_factory=set)
    _began: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        self._order = in_read_order(self.f.sources, self.ctx)

    def block(self, index: int) -> bytes | None:
        """Block ``index`` as its digest says it is, from the current copy or the next one
        holding it intact; None when no copy does."""
        start, stop = self.blocks.span(index)
        candidates = [self._current] if self._current is not None else []
        candidates += [s for s in self._order if s is not self._current]
        for source in candidates:
            data, outcome, detail = self._read(source, start, stop)
            if data is not None:
                if hashlib.sha256(data).digest() == self.blocks.digest(index):
                    self._current = source
                    return data
                outcome, detail = FixityOutcome.MISMATCH, "SHA-256 differs"
            self._failed(source, outcome, f"block {index + 1} of {self.blocks.count} "
                                          f"(bytes {start}-{stop - 1}): {detail}")
        return None

    def _read(self, source: Source, start: int,
              stop: int) -> tuple[bytes | None, FixityOutcome, str]:
        try:
            if source is not self._current or self._stream is None or self._pos != start:
                self._close_stream()
                storage = self.ctx.storages.get(source.location)
                if storage is None:
                    return None, FixityOutcome.UNREADABLE, "location not configured"
                self._current = source
                # a range ends at its last block; a whole read goes on to the end, so that an
                # object that grew is seen (``check_growth``)
                last_stop = self.blocks.span((max(self.end, 1) - 1) // self.blocks.block_size)[1]
                self._stream = storage.open(source.key, start=start,
                                            end=None if self.whole else last_stop)
                self._pos = start
            data = self._stream.read(stop - start)
        except ObjectMissing:
            self._close_stream()
            return None, FixityOutcome.MISSING, "object missing"
        except StorageError as exc:
            self._close_stream()
            outcome = FixityOutcome.MISMATCH if exc.code in ("STO003", "STO004") else \
                FixityOutcome.UNREADABLE
            return None, outcome, exc.message("en")
        except OSError as exc:
            self._close_stream()
            return None, FixityOutcome.UNREADABLE, str(exc)
        self._pos += len(data)
        if len(data) != stop - start:  # a truncated object
            self._close_stream()
            return None, FixityOutcome.MISMATCH, f"{len(data)} bytes of {stop - start}"
        return data, FixityOutcome.OK, ""

    def check_growth(self) -> None:
        """After a whole read: a copy with bytes past the file's size is not the stored file
        (the reader got the right bytes all the same)."""
        if (not self.whole or self._current is None or self._stream is None
                or self._pos != self.f.size):
            return
        try:
            extra = self._stream.read(1)
        except (StorageError, OSError):
            return
        if extra:
            self._failed(self._current, FixityOutcome.MISMATCH,
                         f"longer than {self.f.size} bytes")

    def _failed(self, source: Source, outcome: FixityOutcome, detail: str) -> None:
        if source is self._current:
            self._close_stream()
            self._current = None
        self.tried.append(f"{source.location}: {outcome.value}")
        if outcome is FixityOutcome.UNREADABLE:
            log.warning("copy of %s in %s unreadable for delivery: %s", source.key,
                        source.location, detail)
            return
        if source.copy_id in self._flagged:
            return
        self._flagged.add(source.copy_id)
        found = FixityResult(source.key, source.location, outcome, self.f.sha256, None,
                             self._pos, time.perf_counter() - self._began,
                             dt.datetime.now(dt.UTC), f"read for delivery: {detail}")
        flag_bad_copy(self.ctx, self.identity, source, self.f, found)

    def abort(self, index: int, sent: int, code: str) -> None:
        """Record why the transfer stops short, then stop it (only verified bytes left)."""
        issue = Issue(code, self.f.name, {"name": self.f.name, "block": index + 1,
                                          "sent": sent, "tried": "; ".join(self.tried) or "-"})
        log.error("%s", issue.message("en"))
        with self.ctx.catalog.session() as s:
            audit_log.record(s, self.identity.actor, "delivery.aborted", "file", self.f.sha256,
                             name=self.f.name, code=code, block=index + 1, sent=sent,
                             tried=self.tried, message=issue.message("vi"))
        raise TransferAborted(issue.message("en"))

    def _close_stream(self) -> None:
        if self._stream is not None:
            with contextlib.suppress(Exception):
                self._stream.close()
            self._stream = None

    def close(self) -> None:
        self._close_stream()


_DONE = None
# A streamed file is kept in the delivery cache only up to this size. Writing a 1 GiB file
# into the cache while streaming it took the in-process stream from 1.8 s (as fast as a plain
# read + SHA-256) to 2.9-6.6 s (2026-12-07, 2-core VM, load average 5-6): the page cache's dirty
# limit throttles the writer to the disk's speed. A large file streams at the speed of a warm
# one anyway; small ones gain most from the cache (many readers, S3 round trips).
KEEP_MAX = 64 << 20
_BACKLOG = 16  # blocks the cache writer may lag behind: 64 MiB, a whole file it keeps


class _Keeper:
    """A second thread that writes the verified blocks to a temporary file, admitted to the
    delivery cache once every block was sent (they were verified one by one: hashing them
    whole again would cost a third SHA-256 of every byte, see the module's docstring)."""

    def __init__(self, cache: DeliveryCache, f: StoredFile) -> None:
        self.cache, self.f = cache, f
        self.path: Path | None = cache.temp_file()
        self.error: BaseException | None = None
        self.admitted = False
        self.gave_up = False
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=_BACKLOG)
        self._thread = threading.Thread(target=self._run, name="khoso-delivery-keeper",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        out = None
        try:
            if self.path is not None:
                out = open(self.path, "wb")  # noqa: SIM115 - closed below
        except OSError as exc:
            self.error = exc
        while (data := self._queue.get()) is not _DONE:
            if out is not None:
                try:
                    out.write(data)
                except OSError as exc:  # the cache's disk: the reader is still served
                    self.error = exc
                    with contextlib.suppress(OSError):
                        out.close()
                    out = None
        if out is not None:
            try:
                out.close()
            except OSError as exc:
                self.error = exc

    def put(self, data: bytes) -> None:
        """Hand a block over, never waiting: a cache disk slower than the transfer makes the
        keeper give up rather than hold the reader back."""
        if self.gave_up:
            return
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            self.gave_up = True
            log.info("delivery cache is slower than the transfer of %s: not kept", self.f.name)

    def finish(self) -> None:
        """Every block was put: admit the file to the cache (a cache that fails to take it
        only costs the next reader a cold read)."""
        self._queue.put(_DONE)
        self._thread.join()
        if self.cache.data_path(self.f.sha256).exists():
            return  # a concurrent reader kept it first
        if self.path is not None and self.error is None and not self.gave_up:
            try:
                self.cache.admit(self.path, self.f.sha256).close()
                self.admitted = True
            except OSError as exc:
                log.warning("delivery cache could not keep %s: %s", self.f.name, exc)
        elif self.error is not None:
            log.warning("delivery cache could not keep %s: %s", self.f.name, self.error)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_DONE)
            self._thread.join()
        if self.path is not None and not self.admitted:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)
