"""``FilesystemStorage``: objects as plain files under one root folder.

Plain files keep a replica readable with nothing but ``ls`` and ``sha256sum`` in fifty years.
Every path is walked one component at a time with directory file descriptors and
``O_NOFOLLOW``, so a symlink planted anywhere under the root is refused instead of followed,
and nothing is ever written outside the root. Writes go to a temporary file in the target
folder (a reserved ``.khoso-`` name that ``list`` skips), are fsynced, renamed into place and the
folder fsynced: a crash leaves either the old object or the new one, never half of one.
The rename never replaces an object (``renameat2(RENAME_NOREPLACE)``) unless the caller asks to
(``replace``): AIP keys are written once. Every operating-system error becomes a coded,
transient ``StorageError`` (STO044): a read-only or full disk is the archive's fault.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import io
import itertools
import os
import shutil
import stat as st
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from storage.errors import DigestMismatch, ObjectExists, ObjectMissing, StorageError, os_error
from storage.hashing import CHUNK, iter_chunks
from storage.keys import RESERVED_PREFIX, normalize_sha256, validate_key, validate_prefix
from storage.protocol import FixityOutcome, FixityResult, LocationHealth, ObjectInfo, StoredObject

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_XATTR = "user.khoso.sha256"
# Temporary names: unique per process (the pid: forked workers share the prefix) and per call,
# without a getrandom syscall per object.
_TMP_PREFIX = uuid.uuid4().hex[:16]
_TMP_COUNTER = itertools.count()
_LIBC = ctypes.CDLL(None, use_errno=True)
_SYNCFS = getattr(_LIBC, "syncfs", None)
_RENAMEAT2 = getattr(_LIBC, "renameat2", None)
_RENAME_NOREPLACE = 1


class _LinkRefused(StorageError):
    """STO008 for a symbolic link on the path: whatever it points to is not our object."""


def _rename_noreplace(src: str, dst: str, sfd: int, dfd: int) -> None:
    """Rename ``src`` to ``dst`` unless ``dst`` exists (``FileExistsError``), atomically.

    ``renameat2`` where the kernel and filesystem have it, else a hard link then unlink (also
    atomic); only a filesystem with neither gets a check-then-rename, racy against another
    writer of the same key in that instant, which the callers' verify-after-write reports."""
    if _RENAMEAT2 is not None:
        if _RENAMEAT2(sfd, os.fsencode(src), dfd, os.fsencode(dst), _RENAME_NOREPLACE) == 0:
            return
        err = ctypes.get_errno()
        if err not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
            raise OSError(err, os.strerror(err), dst)
    try:
        os.link(src, dst, src_dir_fd=sfd, dst_dir_fd=dfd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.ENOSYS):
            raise
        if os.path.lexists(f"/proc/self/fd/{dfd}/{dst}"):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), dst) from None
        os.rename(src, dst, src_dir_fd=sfd, dst_dir_fd=dfd)
        return
    os.unlink(src, dir_fd=sfd)


def _flush_filesystem(folder: Path) -> None:
    """Flush the filesystem holding ``folder`` (syncfs(2)); ``os.sync`` where that is missing.

    ``os.sync`` waits for every disk of the machine, the submission's staging disk too."""
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except OSError:
        os.sync()
        return
    try:
        if _SYNCFS is None or _SYNCFS(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


class FilesystemStorage:
    parallel_puts: int | None = 1  # see storage.replication: threads only contend on a local disk
    worker_safe = True  # plain data (a root folder): reopened as is in a replication worker

    def __init__(self, root: str | os.PathLike[str], *, name: str | None = None,
                 create_root: bool = False) -> None:
        """``create_root`` is off by default: a missing root is often an unmounted disk."""
        self.root = Path(root).resolve()
        self.name = name or f"file://{self.root}"
        self._deferred_all = False  # within deferred_sync
        self._folders: dict[tuple[str, ...], int] | None = None  # open folders, within deferred_sync
        if create_root:
            try:
                self.root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise os_error("", self.name, "mkdir", exc) from None

    @contextlib.contextmanager
    def deferred_sync(self) -> Iterator[None]:
        """Within the block (in this thread and the threads it starts for puts, see
        ``storage.replication``), puts skip their per-object fsyncs; leaving the block flushes
        everything to disk once. For writing a whole package whose registration waits for the
        end of the block anyway: one flush instead of two fsyncs per object."""
        self._deferred_all = True
        self._folders = {}
        try:
            yield
        finally:
            self._deferred_all = False
            folders, self._folders = self._folders or {}, None
            for fd in folders.values():
                os.close(fd)
        _flush_filesystem(self.root)

    def _sync(self, fd: int, key: str = "") -> None:
        if not self._deferred_all:
            try:
                os.fsync(fd)
            except OSError as exc:
                raise os_error(key, self.name, "fsync", exc) from None

    # -- path walking ---------------------------------------------------------------------

    def _fail(self, code: str, key: str, operation: str, exc: OSError | None = None) -> StorageError:
        if code == "STO007":  # an operating-system error: the location's fault, retry later
            return os_error(key, self.name, operation, exc)
        reason = exc.strerror if exc is not None and exc.strerror else str(exc or "")
        return StorageError(code, key, key=key, location=self.name, operation=operation, reason=reason)

    def _link(self, key: str, operation: str) -> StorageError:
        return _LinkRefused("STO008", key, key=key, location=self.name, operation=operation,
                            reason="symbolic link")

    def _walk(self, key: str, parts: list[str], *, create: bool, created: list[Path] | None = None,
              relink: bool = False) -> int:
        """Open the folder holding ``parts`` without following links; the caller closes it.

        Within ``deferred_sync`` the folders puts write into are opened once and the caller
        gets a duplicate descriptor: a package's objects share a few folders, and walking
        every component again costs ten ``openat`` calls per object."""
        folders = self._folders
        if create and folders is not None:
            cached = folders.get(tuple(parts))
            if cached is None:
                cached = self._walk_from_root(key, parts, create=True, created=created,
                                              relink=relink)
                cached = folders.setdefault(tuple(parts), cached)
            return os.dup(cached)
        return self._walk_from_root(key, parts, create=create, created=created, relink=relink)

    def _forget(self, parts: list[str]) -> None:
        folders = self._folders
        if folders is not None and (fd := folders.pop(tuple(parts), None)) is not None:
            os.close(fd)

    def _walk_from_root(self, key: str, parts: list[str], *, create: bool,
                        created: list[Path] | None = None, relink: bool = False) -> int:
        """``relink`` (a repair): a symbolic link found in place of a folder is removed (the
        link itself, never what it points to) and a real folder made in its place."""
        try:
            fd = os.open(self.root, _DIR_FLAGS)
        except OSError as exc:
            raise self._fail("STO007", key, "open root", exc) from None
        try:
            for i, part in enumerate(parts):
                if relink and create:
                    self._unlink_if_link(key, fd, part)
                try:
                    child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise ObjectMissing(key, self.name) from None
                    try:
                        os.mkdir(part, dir_fd=fd)
                        os.fsync(fd)
                        if created is not None:
                            created.append(self.root.joinpath(*parts[: i + 1]))
                    except FileExistsError:
                        pass
                    except OSError as exc:  # EPERM, EROFS, ENOSPC, EIO…
                        raise self._fail("STO007", key, "mkdir", exc) from None
                    try:
                        child = os.open(part, _DIR_FLAGS, dir_fd=fd)
                    except OSError as exc:
                        raise self._component_error(key, fd, part, exc, create) from None
                except (NotADirectoryError, OSError) as exc:
                    raise self._component_error(key, fd, part, exc, create) from None
                os.close(fd)
                fd = child
            return fd
        except BaseException:
            os.close(fd)
            raise

    def _unlink_if_link(self, key: str, fd: int, part: str) -> None:
        try:
            if st.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode):
                os.unlink(part, dir_fd=fd)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise self._fail("STO007", key, "unlink link", exc) from None

    def _component_error(self, key: str, fd: int, part: str, exc: OSError, create: bool) -> StorageError:
        try:
            is_link = st.S_ISLNK(os.stat(part, dir_fd=fd, follow_symlinks=False).st_mode)
        except OSError:
            is_link = False
        if is_link or exc.errno == errno.ELOOP:
            return self._link(key, "open")
        if exc.errno == errno.ENOTDIR:
            return self._fail("STO009", key, "put") if create else ObjectMissing(key, self.name)
        return self._fail("STO007", key, "open", exc)

    def _open_file(self, key: str) -> int:
        """A read-only descriptor on the regular file ``key``; links and non-files are refused."""
        *dirs, leaf = validate_key(key).split("/")
        dfd = self._walk(key, dirs, create=False)
        try:
            fd = os.open(leaf, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            raise ObjectMissing(key, self.name) from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self._link(key, "open") from None
            raise self._fail("STO007", key, "open", exc) from None
        finally:
            os.close(dfd)
        if not st.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise self._fail("STO008", key, "open")
        return fd

    # -- Storage --------------------------------------------------------------------------

    def put(self, key: str, stream: BinaryIO, *, expected_sha256: str | None = None,
            size: int | None = None, lock: bool = True, replace: bool = False) -> StoredObject:
        validate_key(key)
        expected = normalize_sha256(expected_sha256) if expected_sha256 is not None else None
        *dirs, leaf = key.split("/")
        created: list[Path] = []
        tmp = f"{RESERVED_PREFIX}tmp-{_TMP_PREFIX}-{os.getpid()}-{next(_TMP_COUNTER)}"
        dfd, fd = self._create_temp(key, dirs, tmp, created, replace)
        try:
            try:
                digest, total = self._write(key, fd, stream, size)
                if size is not None and total != size:
                    raise StorageError("STO004", key, key=key, expected=size, actual=total)
                if expected is not None and digest != expected:
                    raise DigestMismatch(key, expected, digest)
                self._set_digest(fd, digest)
                self._sync(fd, key)
            finally:
                os.close(fd)
            created_now = self._place(key, tmp, leaf, dfd, dfd, digest, replace, "put")
            if not created_now:
                _quietly(os.unlink, tmp, dir_fd=dfd)
                return StoredObject(key, total, digest, self.name, created=False)
        except BaseException:
            _quietly(os.unlink, tmp, dir_fd=dfd)
            for folder in reversed(created):
                _quietly(os.rmdir, folder)
            raise
        finally:
            os.close(dfd)
        return StoredObject(key, total, digest, self.name)

    def _place(self, key: str, src: str, leaf: str, sfd: int, dfd: int, sha256: str,
               replace: bool, operation: str) -> bool:
        """Rename ``src`` to ``leaf``; True if it now holds the object, False if ``leaf``
        already held these bytes (``src`` is left for the caller to remove). Write-once unless
        ``replace``: other bytes (or a link) already there raise ``ObjectExists``."""
        for _ in range(3):
            try:
                if replace:
                    os.rename(src, leaf, src_dir_fd=sfd, dst_dir_fd=dfd)
                else:
                    _rename_noreplace(src, leaf, sfd, dfd)
                self._sync(dfd, key)
                if sfd != dfd:
                    self._sync(sfd, key)
                return True
            except IsADirectoryError:
                raise self._fail("STO009", key, operation) from None
            except FileExistsError:
                pass
            except OSError as exc:
                raise self._fail("STO007", key, operation, exc) from None
            try:
                if st.S_ISDIR(os.stat(leaf, dir_fd=dfd, follow_symlinks=False).st_mode):
                    raise self._fail("STO009", key, operation)
            except FileNotFoundError:
                continue  # removed meanwhile: try again
            except OSError as exc:
                raise self._fail("STO007", key, operation, exc) from None
            # Re-read what is there (the recorded digest is only a claim).
            there = self.verify(key, sha256)
            if there.ok:
                return False
            if there.outcome is FixityOutcome.MISMATCH:
                raise ObjectExists(key, self.name, there.actual_sha256 or "?", sha256)
            if there.outcome is FixityOutcome.UNREADABLE:
                raise os_error(key, self.name, operation, OSError(there.detail))
        raise self._fail("STO007", key, operation, OSError("the key kept changing while written"))

    def _create_temp(self, key: str, dirs: list[str], tmp: str, created: list[Path],
                     relink: bool = False) -> tuple[int, int]:
        # A concurrent delete may prune an empty folder between the walk and the create: retry.
        for attempt in range(3):
            dfd = self._walk(key, dirs, create=True, created=created, relink=relink)
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                             0o666, dir_fd=dfd)
                return dfd, fd
            except FileNotFoundError:
                os.close(dfd)
                self._forget(dirs)
                if attempt == 2:
                    raise self._fail("STO007", key, "put", None) from None
            except OSError as exc:
                os.close(dfd)
                raise self._fail("STO007", key, "put", exc) from None
        raise AssertionError("unreachable")

    def _write(self, key: str, fd: int, stream: BinaryIO, size: int | None = None) -> tuple[str, int]:
        digest = hashlib.sha256()
        total = 0
        # A buffer the size of a small object, not 1 MiB: allocating (and faulting in) a
        # megabyte per 10 KiB object cost as much as writing it (measured 2026-11-22).
        chunk = CHUNK if size is None else max(1, min(CHUNK, size + 1))
        for view in iter_chunks(stream, chunk):
            digest.update(view)
            total += len(view)
            try:
                while view:
                    written = os.write(fd, view)
                    view = view[written:]
            except OSError as exc:
                raise self._fail("STO007", key, "put", exc) from None
        return digest.hexdigest(), total

    def move(self, src: str, dst: str, *, expected_sha256: str, lock: bool = True) -> StoredObject:
        """Rename a staged object into place, after checking the digest recorded when it was
        written (re-hashed where the filesystem keeps no xattr)."""
        validate_key(src)
        validate_key(dst)
        expected = normalize_sha256(expected_sha256)
        fd = self._open_file(src)
        try:
            size = os.fstat(fd).st_size
            try:
                actual: str | None = os.getxattr(fd, _XATTR).decode()
            except OSError:
                actual = None
        finally:
            os.close(fd)
        if actual is None:
            actual = self.verify(src, expected).actual_sha256
        if actual != expected:
            raise DigestMismatch(dst, expected, str(actual))
        *src_dirs, src_leaf = src.split("/")
        *dst_dirs, dst_leaf = dst.split("/")
        created: list[Path] = []
        sfd = self._walk(src, src_dirs, create=False)
        try:
            dfd = self._walk(dst, dst_dirs, create=True, created=created)
            try:
                moved = self._place(dst, src_leaf, dst_leaf, sfd, dfd, expected, False, "move")
            finally:
                os.close(dfd)
            if not moved:  # the same bytes were there already: the staged copy is not needed
                try:
                    os.unlink(src_leaf, dir_fd=sfd)
                except OSError as exc:
                    raise self._fail("STO007", src, "move", exc) from None
        except BaseException:
            for folder in reversed(created):
                _quietly(os.rmdir, folder)
            raise
        finally:
            os.close(sfd)
        self._prune(src_dirs)
        return StoredObject(dst, size, actual, self.name, created=moved)

    def _prune(self, dirs: list[str]) -> None:
        """Remove the folders an object leaves empty, so nothing leaves a skeleton."""
        for i in range(len(dirs), 0, -1):
            try:
                os.rmdir(self.root.joinpath(*dirs[:i]))
            except OSError:
                break

    @staticmethod
    def _set_digest(fd: int, digest: str) -> None:
        """Keep the digest next to the bytes (an xattr) where the filesystem allows it."""
        try:
            os.setxattr(fd, _XATTR, digest.encode())
        except OSError:
            pass  # no xattr support: stat() will report sha256=None

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        if start < 0 or (end is not None and end < start):
            raise StorageError("STO010", key, key=key, start=start, end=end)
        fd = self._open_file(key)
        size = os.fstat(fd).st_size
        stop = size if end is None else min(end, size)
        return io.BufferedReader(_RangeFile(fd, min(start, stop), stop), CHUNK)

    def stat(self, key: str) -> ObjectInfo:
        fd = self._open_file(key)
        try:
            info = os.fstat(fd)
            try:
                sha256: str | None = os.getxattr(fd, _XATTR).decode()
            except OSError:
                sha256 = None
        finally:
            os.close(fd)
        return ObjectInfo(key, info.st_size, sha256, datetime.fromtimestamp(info.st_mtime, UTC))

    def verify(self, key: str, sha256: str) -> FixityResult:
        expected = normalize_sha256(sha256)
        validate_key(key)
        checked_at = datetime.now(UTC)
        began = time.perf_counter()
        digest = hashlib.sha256()
        total = 0

        def result(outcome: FixityOutcome, actual: str | None = None, detail: str = "") -> FixityResult:
            return FixityResult(key, self.name, outcome, expected, actual, total,
                                time.perf_counter() - began, checked_at, detail)

        try:
            fd = self._open_file(key)
        except ObjectMissing:
            return result(FixityOutcome.MISSING)
        except _LinkRefused as exc:  # a link in place of the object: damaged, to be repaired
            return result(FixityOutcome.MISMATCH, detail=exc.message("en"))
        except StorageError as exc:
            return result(FixityOutcome.UNREADABLE, detail=exc.message("en"))
        try:
            with io.FileIO(fd, "rb", closefd=True) as raw:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
                for view in iter_chunks(raw):
                    digest.update(view)
                    total += len(view)
        except OSError as exc:
            return result(FixityOutcome.UNREADABLE, detail=f"read failed after {total} bytes: {exc}")
        actual = digest.hexdigest()
        return result(FixityOutcome.OK if actual == expected else FixityOutcome.MISMATCH, actual)

    def delete(self, key: str) -> None:
        *dirs, leaf = validate_key(key).split("/")
        dfd = self._walk(key, dirs, create=False)
        try:
            info = os.stat(leaf, dir_fd=dfd, follow_symlinks=False)
            if not st.S_ISREG(info.st_mode):
                raise self._fail("STO008", key, "delete")
            os.unlink(leaf, dir_fd=dfd)
            os.fsync(dfd)
        except FileNotFoundError:
            raise ObjectMissing(key, self.name) from None
        except StorageError:
            raise
        except OSError as exc:
            raise self._fail("STO007", key, "delete", exc) from None
        finally:
            os.close(dfd)
        self._prune(dirs)

    def list(self, prefix: str = "", *, links: bool = False) -> Iterator[str]:
        """``links``: also the symbolic links found under ``prefix`` (never followed), for the
        audit to report what was planted inside a package folder."""
        validate_prefix(prefix)
        base, _, rest = prefix.rpartition("/")
        dirs = base.split("/") if base else []
        try:
            fd = self._walk(prefix, dirs, create=False)
        except ObjectMissing:
            return
        except StorageError as exc:
            if exc.code == "STO008":  # a linked folder holds no objects of ours
                return
            raise
        head = base + "/" if base else ""
        yield from self._scan(fd, head, rest, links)

    def _scan(self, fd: int, head: str, starts: str, links: bool = False) -> Iterator[str]:
        """Depth-first in UTF-8 byte order of the full key (a folder sorts as ``name/``)."""
        try:
            entries = []
            try:
                with os.scandir(fd) as it:
                    for entry in it:
                        if entry.name.startswith(RESERVED_PREFIX) or not entry.name.startswith(starts):
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            entries.append((entry.name + "/", entry.name, True))
                        elif entry.is_file(follow_symlinks=False) or (links and entry.is_symlink()):
                            entries.append((entry.name, entry.name, False))
            except OSError as exc:
                raise self._fail("STO007", head + starts, "list", exc) from None
            entries.sort(key=lambda e: e[0].encode("utf-8", "surrogateescape"))
            for _, name, is_dir in entries:
                if not is_dir:
                    yield head + name
                    continue
                try:
                    child = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError:
                    continue
                yield from self._scan(child, head + name + "/", "", links)
        finally:
            os.close(fd)

    def health(self) -> LocationHealth:
        if not self.root.is_dir():
            return LocationHealth(self.name, False, f"root folder {self.root} does not exist (disk not mounted?)")
        if not os.access(self.root, os.W_OK):
            return LocationHealth(self.name, False, f"root folder {self.root} is not writable")
        try:
            free = shutil.disk_usage(self.root).free
        except OSError as exc:
            return LocationHealth(self.name, False, f"root folder {self.root}: {exc.strerror or exc}")
        return LocationHealth(self.name, True, f"{free / 2**30:.1f} GiB free")


class _RangeFile(io.RawIOBase):
    """Bytes ``[start, stop)`` of an open descriptor, read with ``pread`` (no shared offset)."""

    def __init__(self, fd: int, start: int, stop: int) -> None:
        self._fd, self._pos, self._stop = fd, start, stop

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._stop - self._pos)
        if want <= 0:
            return 0
        with memoryview(buffer) as view:
            n = os.preadv(self._fd, [view[:want]], self._pos)
        self._pos += n
        return n

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


def _quietly(func, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
    try:
        func(*args, **kwargs)
    except OSError:
        pass
