"""The one read of each payload byte: digests, the virus scanner and the copies in a single pass.

Reading a file once instead of once per tool is what separates a fast ingest from one that reads
everything four times (Archivematica's checksum passes). The scanner gets the same buffers the
hashers see; the copies (a workspace copy, or staged copies on every replica) are written from
them too.

A large file is read *pipelined*: clamd and every copy consume the chunks on their own threads
through bounded queues, so hashing, clamd's scan and the disks all work at once and the pass
takes as long as its slowest consumer instead of the sum of them all.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import queue
import stat
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ingest.adapters.clamd import ScanResult, VirusScanner
from preservation.blockhash import BlockHasher

CHUNK = 1 << 20
PIPELINE_MIN = 8 * CHUNK  # below this, thread hand-offs cost more than they overlap


SIGNATURE_MARKER = b"/ByteRange"  # every PDF signature dictionary has one, never compressed


def open_payload(src: Path) -> io.FileIO:
    """``src`` opened for reading, unbuffered, only if it is still a regular file: a file of a
    folder submission swapped for a link is not followed and one swapped for a FIFO does not
    block the read pass (the ``OSError`` names ``src``: ``pipeline`` codes it as PKG078)."""
    fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.ENXIO, "no longer a regular file (a FIFO, socket or device)", str(src))
    return io.FileIO(fd, "rb", closefd=True)


class Sink(Protocol):
    """Where the read pass copies a file: ``close`` makes it durable, ``abort`` removes it."""

    def write(self, data: bytes | memoryview) -> None: ...

    def close(self, sha256: str, size: int) -> object: ...

    def abort(self) -> None: ...


class FileCopy:
    """A copy in the workspace, written under its own name: ``abort`` removes a partial one,
    and a process that dies leaves scratch space its job's retry wipes before starting. The
    AIP takes the copies only once the whole read pass succeeded.

    Not fsynced: what must be durable is the replicas' copy, which ``store_aip`` writes and
    syncs. An fsync per small file was a third of the read pass's time; a temporary name and
    a rename, and a mkdir of a folder that exists, were two more system calls per file."""

    def __init__(self, target: Path) -> None:
        self.target = target
        try:
            self.out = open(target, "wb", buffering=0)  # noqa: SIM115 - closed by close/abort
        except FileNotFoundError:  # the first file of its folder
            target.parent.mkdir(parents=True, exist_ok=True)
            self.out = open(target, "wb", buffering=0)  # noqa: SIM115

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:  # a raw write may take part of it
            view = view[self.out.write(view):]

    def close(self, sha256: str, size: int) -> Path:
        self.out.close()
        return self.target

    def abort(self) -> None:
        self.out.close()
        self.target.unlink(missing_ok=True)


class _Pump:
    """Calls ``consume`` with each chunk on its own thread; ``put`` blocks when ``depth`` wait."""

    _END = object()

    def __init__(self, consume: Callable[[bytes], None], depth: int = 8) -> None:
        self._consume = consume
        self._chunks: queue.Queue = queue.Queue(depth)
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="onepass-pump")
        self._thread.start()

    def _run(self) -> None:
        while (item := self._chunks.get()) is not self._END:
            if self.error is None:
                try:
                    self._consume(item)
                except BaseException as exc:  # noqa: BLE001 - raised by join()
                    self.error = exc

    def put(self, data: bytes) -> None:
        self._chunks.put(data)

    def join(self) -> None:
        self._chunks.put(self._END)
        self._thread.join()
        if self.error is not None:
            raise self.error


@dataclass(frozen=True)
class FilePass:
    size: int
    digests: dict[str, str]  # algorithm -> lowercase hex
    scan: ScanResult | None
    marker: bool = False  # SIGNATURE_MARKER seen: worth a signature validation
    block_digests: bytes | None = None  # each block's SHA-256 (``read_once(block_size=…)``)


class _Marker:
    """Finds SIGNATURE_MARKER in place (no copy of the chunk), across chunk borders too."""

    def __init__(self) -> None:
        self.found = False
        self._tail = b""

    def update(self, data: bytes | bytearray, n: int) -> None:
        if self.found:
            return
        k = len(SIGNATURE_MARKER) - 1
        self.found = data.find(SIGNATURE_MARKER, 0, n) >= 0 or \
            SIGNATURE_MARKER in self._tail + bytes(data[:min(k, n)])
        self._tail = bytes(data[max(0, n - k):n])


def read_once(src: Path, algorithms: Iterable[str], scanner: VirusScanner | None,
              copy_to: Path | None = None, chunk: int = CHUNK,
              sinks: Sequence[Sink] = (), pipelined: bool | None = None,
              block_size: int | None = None) -> FilePass:
    """Read ``src`` once; hash it with every algorithm, stream it to clamd, copy it to ``sinks``.

    ``copy_to`` adds a ``FileCopy``. The sinks are closed when the scan found the file clean
    (or could not scan it: the policy decides later) and aborted when it is infected or on any
    failure, so an infected file never stays anywhere but in the submission. ``pipelined``
    defaults to whether the file is at least ``PIPELINE_MIN`` bytes. ``block_size`` also
    hashes each block of that size (``FilePass.block_digests``) with the SHA-256: a cold
    download of the file can then be checked block by block from its first delivery on.
    """
    names = list(algorithms)
    blocks = BlockHasher(block_size) if block_size and "sha256" in names else None
    hashers = [blocks if blocks is not None and alg == "sha256" else hashlib.new(alg)
               for alg in names]
    sinks = list(sinks)
    session = None
    pumps: list[_Pump] = []
    marker = _Marker()
    size = 0
    closed = False
    try:
        if copy_to is not None:
            sinks.append(FileCopy(copy_to))
        with open_payload(src) as f:
            if pipelined is None:
                pipelined = os.fstat(f.fileno()).st_size >= PIPELINE_MIN
            session = scanner.open_stream() if scanner is not None else None
            if pipelined:
                consumers = ([session.feed] if session is not None else []) + [
                    s.write for s in sinks]
                pumps = [_Pump(c) for c in consumers]
                while data := f.read(chunk):  # a fresh buffer per chunk: consumers keep it
                    for h in hashers:
                        h.update(data)
                    for p in pumps:
                        p.put(data)
                    marker.update(data, len(data))
                    size += len(data)
                pumps, waiting = [], pumps
                for p in waiting:
                    p.join()
            else:
                buf = bytearray(chunk)
                view = memoryview(buf)
                while n := f.readinto(buf):
                    piece = view[:n]
                    for h in hashers:
                        h.update(piece)
                    if session is not None:
                        session.feed(piece)
                    for s in sinks:
                        s.write(piece)
                    marker.update(buf, n)
                    size += n
        result = session.finish() if session is not None else None
        session = None
        digests = {name: h.hexdigest() for name, h in zip(names, hashers, strict=True)}
        block_digests = blocks.digests() if blocks is not None else None
        if result is not None and result.infected:
            for s in sinks:
                s.abort()
        else:
            for s in sinks:
                s.close(digests.get("sha256", ""), size)
        closed = True
        return FilePass(size, digests, result, marker.found, block_digests)
    finally:
        for p in pumps:
            try:
                p.join()
            except BaseException:  # noqa: BLE001 - the first failure is being raised already
                pass
        if session is not None:
            session.abort()
        if not closed:
            for s in sinks:
                s.abort()
