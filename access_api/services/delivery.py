"""Verified delivery: a reader never receives a byte of a copy that fails its SHA-256.

Bytes leave only from the delivery cache (``{data}/cache/files``), and only a file whose digest
was verified enters it: on a miss the copy is streamed from one location into a temporary file
while it is hashed, and renamed into the cache when the digest and size match. A copy that does
not match (or is gone) is flagged exactly as the fixity audit flags it — the copy's
``last_check_result`` and a PREMIS "fixity check" event with outcome fail, written by
``storage.audit.record_checks`` — and the next location is tried; if none holds it intact, the
caller gets ``ACS004`` (503), never rotted bytes. Hashing everything before the first byte is
the only way to keep that promise: a check at the end of a stream would come after the bytes.

Trust in a cached file: it is content-addressed (its name is its SHA-256) and read-only, and
its metadata records the inode, ``ctime`` and ``mtime`` seen right after it was verified. Any
write, replacement, ``chmod`` or ``touch`` changes ``ctime``, which user space cannot set back,
so such a file is discarded (``ACS007``) and fetched again. What a stat cannot see — silent media
rot, a crash that left a renamed file unflushed — is bounded by hashing the file again when its
last verification is older than ``KHOSO_DELIVERY_CACHE_VERIFY_HOURS`` or from an earlier boot.
Re-hashing on every hit would halve the throughput of a large download (hash, then send) for
no gain against the faults a ``ctime`` already catches.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from access_api.services import blocks
from access_api.services.audit import check_events
from access_api.services.base import Identity, ServiceContext
from access_api.services.uow import MirrorAuditLog, UnitOfWork
from preservation.blockhash import BlockHasher
from preservation.catalog import audit as audit_log
from preservation.catalog.vocab import CheckResult
from preservation.errors import Unavailable
from preservation.issues import Issue
from storage.audit import record_checks
from storage.checks import CopyAudit, CopyRef, ObjectRef
from storage.errors import ObjectMissing, StorageError
from storage.hashing import iter_chunks
from storage.protocol import FixityOutcome, FixityResult

log = logging.getLogger(__name__)
RETRY_AFTER = 300  # seconds: an audit with repair, or an operator, needs that long at least
_STALE_TEMP = 6 * 3600  # a temporary file this old was left by a process that died


@dataclass(frozen=True)
class Source:
    """One stored copy of a file: where its bytes are and which catalog copy vouches for them."""

    copy_id: int
    package_id: int
    objid: str
    location: str
    prefix: str  # the package version's key prefix in that location
    path: str  # bag-relative
    last_check: str = CheckResult.NOT_CHECKED  # the copy's last fixity check

    @property
    def key(self) -> str:
        return f"{self.prefix}/{self.path}"


@dataclass(frozen=True)
class StoredFile:
    """A file as the catalog knows it: what its bytes must hash to, and every copy of them."""

    name: str
    sha256: str
    size: int
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Delivered:
    """A verified file, open for reading (held open, so that eviction cannot pull it away)."""

    file: BinaryIO
    size: int
    sha256: str
    cached: bool  # False: a file larger than the whole cache, already unlinked


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


class DeliveryCache:
    """Verified files by SHA-256 under ``root``, at most ``max_bytes``, least recently used
    evicted first (a file's last use is its metadata file's mtime)."""

    def __init__(self, root: Path, max_bytes: int, verify_after: dt.timedelta) -> None:
        self.root, self.max_bytes, self.verify_after = root, max_bytes, verify_after
        self.files, self.tmp = root / "files", root / "tmp"
        self.files.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.boot = _boot_id()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._clean_temp()

    def _clean_temp(self) -> None:
        cutoff = time.time() - _STALE_TEMP
        for entry in os.scandir(self.tmp):
            with contextlib.suppress(OSError):
                if entry.stat().st_mtime < cutoff:
                    os.unlink(entry.path)

    def data_path(self, sha256: str) -> Path:
        return self.files / sha256[:2] / sha256

    def meta_path(self, sha256: str) -> Path:
        return self.files / sha256[:2] / f"{sha256}.json"

    @contextlib.contextmanager
    def filling(self, sha256: str) -> Iterator[None]:
        """One fetch of a file at a time in this process (others wait, then find it cached)."""
        with self._guard:
            lock = self._locks.setdefault(sha256, threading.Lock())
        with lock:
            yield

    def temp_file(self) -> Path:
        self.tmp.mkdir(parents=True, exist_ok=True)
        return self.tmp / f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"

    # -- hits ------------------------------------------------------------------------------

    def open(self, sha256: str, size: int) -> tuple[BinaryIO | None, str | None]:
        """The cached file opened, or None; with the reason it was discarded, if it was."""
        data, meta = self.data_path(sha256), self.meta_path(sha256)
        try:
            f = open(data, "rb")  # noqa: SIM115 - handed to the response, which closes it
        except FileNotFoundError:
            return None, None
        try:
            reason = self._check(f, sha256, size, meta)
        except BaseException:
            f.close()
            raise
        if reason is not None:
            f.close()
            self.discard(sha256)
            return None, reason
        with contextlib.suppress(OSError):
            os.utime(meta)  # its last use, for the LRU order
        return f, None

    def _check(self, f: BinaryIO, sha256: str, size: int, meta: Path) -> str | None:
        st = os.fstat(f.fileno())
        try:
            seen = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "no record of its verification"
        if st.st_size != size:
            return f"size {st.st_size}, expected {size}"
        if [st.st_ino, st.st_ctime_ns, st.st_mtime_ns] != [seen.get("ino"), seen.get("ctime_ns"),
                                                           seen.get("mtime_ns")]:
            return "changed on disk since it was verified"
        age = time.time() - float(seen.get("verified_at", 0))
        if seen.get("boot") != self.boot or age > self.verify_after.total_seconds():
            digest = hashlib.sha256()
            for view in iter_chunks(f):
                digest.update(view)
            f.seek(0)
            if digest.hexdigest() != sha256:
                return f"SHA-256 {digest.hexdigest()} on re-verification"
            self._write_meta(sha256, st)
        return None

    # -- admission and eviction ----------------------------------------------------------------

    def admit(self, tmp: Path, sha256: str) -> BinaryIO:
        """Move a verified temporary file into the cache and open it."""
        data = self.data_path(sha256)
        data.parent.mkdir(parents=True, exist_ok=True)  # an operator may have emptied it
        os.chmod(tmp, 0o444)
        os.replace(tmp, data)
        f = open(data, "rb")  # noqa: SIM115 - handed to the response, which closes it
        self._write_meta(sha256, os.fstat(f.fileno()))
        self.evict(keep=sha256)
        return f

    def _write_meta(self, sha256: str, st: os.stat_result) -> None:
        meta = self.meta_path(sha256)
        tmp = self.temp_file()
        tmp.write_text(json.dumps({"ino": st.st_ino, "ctime_ns": st.st_ctime_ns,
                                   "mtime_ns": st.st_mtime_ns, "size": st.st_size,
                                   "verified_at": time.time(), "boot": self.boot}),
                       encoding="utf-8")
        os.replace(tmp, meta)

    def discard(self, sha256: str) -> None:
        for path in (self.data_path(sha256), self.meta_path(sha256)):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)

    def entries(self) -> list[tuple[float, int, str]]:
        """(last use, size, sha256) of every cached file."""
        out: list[tuple[float, int, str]] = []
        if not self.files.is_dir():
            return out
        for folder in os.scandir(self.files):
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder.path):
                if entry.name.endswith(".json"):
                    continue
                try:
                    size = entry.stat().st_size
                    used = os.stat(f"{entry.path}.json").st_mtime
                except OSError:
                    used, size = 0.0, entry.stat().st_size if entry.is_file() else 0
                out.append((used, size, entry.name))
        return out

    def evict(self, keep: str | None = None) -> int:
        """Remove the least recently used files until the cache fits; returns bytes freed.
        A file being served stays readable through its open descriptor."""
        entries = sorted(self.entries())
        total = sum(size for _, size, _ in entries)
        freed = 0
        for _, size, sha in entries:
            if total - freed <= self.max_bytes:
                break
            if sha != keep:
                self.discard(sha)
                freed += size
        return freed


_caches: dict[Path, DeliveryCache] = {}
_caches_lock = threading.Lock()


def cache_for(ctx: ServiceContext) -> DeliveryCache:
    """The process's one cache of this data folder (its fill locks must be shared)."""
    root = ctx.settings.data_dir / "cache"
    with _caches_lock:
        cache = _caches.get(root)
        if cache is None:
            cache = _caches[root] = DeliveryCache(
                root, ctx.settings.delivery_cache_bytes,
                dt.timedelta(hours=ctx.settings.delivery_cache_verify_hours))
        return cache


# -- reading one copy ------------------------------------------------------------------------

class _TargetFailed(Exception):
    """Carries an OSError of the local target out of ``read_copy``'s storage handlers."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def read_copy(ctx: ServiceContext, source: Source, f: StoredFile, target: Path, *,
              record_blocks: bool = False) -> FixityResult:
    """Stream one copy into ``target`` while hashing it: the fixity result of that read.

    ``record_blocks``: also hash each block in the same pass and, when the whole file matches,
    record the block digests, so that the next cold delivery of these bytes can stream
    (``access_api.services.stream``). Off for the other readers (DIPs, transfers): it hashes
    every byte twice."""
    checked_at, began = dt.datetime.now(dt.UTC), time.perf_counter()
    digest: BlockHasher | hashlib._Hash = (BlockHasher(blocks.BLOCK_SIZE) if record_blocks
                                           else hashlib.sha256())
    count = 0

    def result(outcome: FixityOutcome, actual: str | None = None, detail: str = "") -> FixityResult:
        return FixityResult(source.key, source.location, outcome, f.sha256, actual, count,
                            time.perf_counter() - began, checked_at, detail)

    storage = ctx.storages.get(source.location)
    if storage is None:
        return result(FixityOutcome.UNREADABLE, detail="location not configured")
    # ``target`` is on the archive's own disk: an OSError opening, writing or closing it (disk
    # full, read-only) says nothing about the copy and is raised to the caller, never reported
    # as an unreadable copy (a DIP then said "no location holds a good copy")
    with open(target, "wb") as out:
        try:
            with storage.open(source.key) as stream:
                for view in iter_chunks(stream):
                    count += len(view)
                    if count > f.size:  # never fill the disk from an object that grew
                        return result(FixityOutcome.MISMATCH, None, f"longer than {f.size} bytes")
                    digest.update(view)
                    try:
                        out.write(view)
                    except OSError as exc:
                        raise _TargetFailed(exc) from exc
        except _TargetFailed as failed:
            raise failed.error from None
        except ObjectMissing:
            return result(FixityOutcome.MISSING, detail="object missing")
        except StorageError as exc:
            outcome = FixityOutcome.MISMATCH if exc.code in ("STO003", "STO004") else \
                FixityOutcome.UNREADABLE
            return result(outcome, detail=exc.message("en"))
        except OSError as exc:
            return result(FixityOutcome.UNREADABLE, detail=str(exc))
    actual = digest.whole.hexdigest() if isinstance(digest, BlockHasher) else digest.hexdigest()
    if actual != f.sha256 or count != f.size:
        return result(FixityOutcome.MISMATCH, actual, f"read {count} bytes for delivery")
    if isinstance(digest, BlockHasher):
        blocks.record(ctx, blocks.Blocks(f.sha256, f.size, digest.block, digest.digests()))
    return result(FixityOutcome.OK, actual, "read for delivery")


def flag_bad_copy(ctx: ServiceContext, identity: Identity, source: Source, f: StoredFile,
                  found: FixityResult) -> None:
    """Record what the read found as the audit would: the copy's last check (so that
    ``khoso audit --repair`` takes it first) and a "fixity check" event that failed, mirrored to
    the package's ``_events`` history; plus an audit-log entry naming the reader's request."""
    ref = CopyRef(source.copy_id, source.package_id, source.objid, source.location,
                  source.prefix, (ObjectRef(source.path, f.sha256, f.size),))
    checked = CopyAudit(ref, (found,), found.checked_at, found.seconds)
    with UnitOfWork(ctx) as uow:
        recorded = record_checks(uow.session, [checked], actor="khoso-delivery")
        issue = Issue("ACS008", source.path, {"location": source.location, "path": source.path,
                                              "objid": source.objid,
                                              "outcome": found.outcome.value})
        audit_log.record(uow.session, identity.actor, "delivery.copy_flagged", "stored_copy",
                         source.copy_id, objid=source.objid, location=source.location,
                         key=source.key, outcome=found.outcome.value,
                         actual=found.actual_sha256, message=issue.message("vi"))
        for op in check_events(recorded):
            uow.register(op)
        uow.register(MirrorAuditLog())
    log.error("%s", issue.message("en"))


_CHECK_RANK = {CheckResult.OK: 0, CheckResult.NOT_CHECKED: 1}


def in_read_order(sources: Sequence[Source], ctx: ServiceContext) -> list[Source]:
    """Copies whose last check passed first, copies known bad last (they are read all the
    same: a repair may have fixed one since), each in the settings order of its location."""
    rank = {loc.name: i for i, loc in enumerate(ctx.settings.storage_locations)}
    return sorted(sources, key=lambda s: (_CHECK_RANK.get(CheckResult(s.last_check), 2),
                                          rank.get(s.location, len(rank))))


def deliver(ctx: ServiceContext, identity: Identity, f: StoredFile) -> Delivered:
    """The file's verified bytes, opened: from the cache, or fetched from the first location
    whose copy verifies (bad copies on the way are flagged). ``ACS004`` (503) when none does,
    and when the archive's own cache folder fails (full, unwritable): never a 500, and never a
    copy flagged for the archive's own disk."""
    try:
        return _deliver(ctx, identity, f)
    except OSError as exc:
        log.error("delivery cache failed for %s: %s", f.name, exc)
        raise Unavailable("ACS004", f.name, retry_after=RETRY_AFTER, name=f.name,
                          tried=f"cache: {exc.strerror or exc}") from exc


def _deliver(ctx: ServiceContext, identity: Identity, f: StoredFile) -> Delivered:
    cache = cache_for(ctx)
    opened = _cached(ctx, identity, cache, f)
    if opened is not None:
        return opened
    with cache.filling(f.sha256):
        opened = _cached(ctx, identity, cache, f)
        if opened is not None:
            return opened
        tried = []
        for source in in_read_order(f.sources, ctx):
            target = cache.temp_file()
            try:
                found = read_copy(ctx, source, f, target, record_blocks=True)
                if found.ok:
                    if f.size > cache.max_bytes:  # served once, never kept
                        handle = open(target, "rb")  # noqa: SIM115 - the response closes it
                        os.unlink(target)
                        return Delivered(handle, f.size, f.sha256, cached=False)
                    return Delivered(cache.admit(target, f.sha256), f.size, f.sha256, True)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(target)
            tried.append(f"{source.location}: {found.outcome.value}")
            if found.outcome in (FixityOutcome.MISMATCH, FixityOutcome.MISSING):
                flag_bad_copy(ctx, identity, source, f, found)
            else:
                log.warning("copy of %s in %s unreadable for delivery: %s", source.key,
                            source.location, found.detail)
    raise Unavailable("ACS004", f.name, retry_after=RETRY_AFTER, name=f.name,
                      tried="; ".join(tried) or "-")


def _cached(ctx: ServiceContext, identity: Identity, cache: DeliveryCache,
            f: StoredFile) -> Delivered | None:
    handle, reason = cache.open(f.sha256, f.size)
    if reason is not None:
        issue = Issue("ACS007", f.sha256, {"sha256": f.sha256, "reason": reason})
        log.warning("%s", issue.message("en"))
        with ctx.catalog.session() as s:
            audit_log.record(s, identity.actor, "delivery.cache_discarded", "file", f.sha256,
                             name=f.name, reason=reason)
    return None if handle is None else Delivered(handle, f.size, f.sha256, cached=True)
