"""Safe unpacking of submitted archives (ZIP, TAR, TAR.GZ) and the same checks on folder submissions.

Archives come from outside, so nothing in them is trusted: every member's name, type and declared
size is checked (all problems collected, ``PKG0xx`` codes), and bytes are counted while extracting
because headers lie. Files are written into a temporary folder next to ``dest`` that becomes
``dest`` by one rename at the end, so a refused archive leaves nothing behind.

Expansion is bounded three ways, on the bytes actually written: per ZIP member against its
compressed size, per tar.gz stream, and for the whole archive against the archive's own size
(``PKG077``), which no member type escapes (GNU/PAX sparse members, thousands of small members
each under the per-member floor). Payload paths are checked against the storage key rules
(``storage.keys``) and the longest AIP key prefix (``PKG079``, ``PKG080``), so a path the
replicas could not store is refused here rather than failing at the end of the ingest.

Decisions: names colliding after NFC normalisation are refused, names differing only in case are
warned (they clash only on case-insensitive file systems); ZIP names without the UTF-8 flag are
read from the Info-ZIP Unicode Path field when it is there for that name (warned), else
accepted if ASCII or valid UTF-8, else decoded in the legacy code page (cp1258 first: Vietnamese
Windows Explorer) in which every such name is a path the bag's manifest lists (warned), and
refused otherwise (CP437 decodes anything, so a guess yields mojibake); a '\\' in the
name of an entry made on Windows, where no name holds one, is read as '/' (warned); a ZIP folder
entry is known by its "/", its Unix mode or its MS-DOS attribute, and one with content is
refused; only stored and
Deflate ZIP members are accepted (bzip2/LZMA decompress without an output bound in ``zipfile``).
"""

from __future__ import annotations

import copy
import errno
import os
import re
import shutil
import stat
import tarfile
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, NoReturn

from ingest.errors import StagingError, inside, is_system, reason
from preservation.errors import KhosoError
from preservation.issues import Report
from preservation.packaging.aip import bagit

ArchiveKind = Literal["dir", "zip", "tar", "tgz"]
CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1: what storage keys refuse (Cc)
_ZIP_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_UNICODE_PATH = 0x7075  # Info-ZIP Unicode Path extra field (APPNOTE 4.6.9)
_DOS_DIRECTORY = 0x10  # MS-DOS directory attribute, the low byte of external_attr
_EMPTY_DEFLATE = 2  # compressed size of empty content: Deflate's empty final block
# "version made by" hosts whose file names cannot hold '\\' (APPNOTE 4.4.2.2): MS-DOS/OS/2
# FAT, OS/2 HPFS, Windows NTFS, VFAT
_WINDOWS_HOSTS = frozenset({0, 6, 10, 14})
# Errors the standard-library parsers raise on hostile bytes; all mean "corrupt archive".
_PARSE_ERRORS = (tarfile.TarError, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, zlib.error,
                 ValueError, UnicodeError, NotImplementedError, OverflowError, IndexError, KeyError)


def _add(report: Report, code: str, path: str = "", **params: object) -> None:
    """``report.add`` that also hands the path to the message template (``{file}``)."""
    report.add(code, path, file=path, **params)


# What storage.keys allows (ingest may not import storage): every backend takes keys of at most
# MAX_KEY_BYTES UTF-8 bytes (S3's own limit, and storage.keys.MAX_KEY_BYTES), and refuses a
# segment starting with RESERVED_PREFIX (its temporary files).
MAX_KEY_BYTES = 1024
RESERVED_PREFIX = ".khoso-"
PATH_MAX = 4096  # Linux, with the terminating NUL: a filesystem replica's root + "/" + key
# The longest AIP key prefix "{archive}/{fonds}/{arcFileCode}/v{N}/" (preservation.packaging.aip.layout):
# fonds codes are at most 20 ASCII characters (catalog.registry), arcFileCode is the archive
# code, ".", and a fileCode of at most 100 characters of any script (4 UTF-8 bytes each at
# worst), versions are counted up to v9999.
FONDS_CODE_MAX = 20
FILE_CODE_MAX_BYTES = 100 * 4
VERSION_MAX = "v9999"


def aip_prefix_bytes(archive_code: str) -> int:
    """The most bytes an AIP key of this archive can put before the bag path."""
    code = len(archive_code.encode())
    return code + 1 + FONDS_CODE_MAX + 1 + code + 1 + FILE_CODE_MAX_BYTES + 1 + len(VERSION_MAX) + 1


@dataclass(frozen=True)
class UnpackLimits:
    """Resource limits for one submission; the defaults suit a large hồ sơ transfer."""

    max_total_bytes: int = 64 << 30
    max_files: int = 200_000
    max_ratio: int = 200  # uncompressed / compressed, per member (per stream for tar.gz)
    ratio_floor: int = 1 << 20  # small members may compress well; check the ratio above this
    max_depth: int = 32
    max_name_bytes: int = 255  # one path segment, as most file systems allow
    max_path_bytes: int = 1024
    max_key_bytes: int = MAX_KEY_BYTES  # the smallest key limit of the storage locations
    key_prefix_bytes: int = aip_prefix_bytes("K" * 25)  # archive codes have 25 characters at most


@dataclass(frozen=True)
class StagedFile:
    path: str  # POSIX, relative to ``UnpackResult.root``
    size: int


@dataclass(frozen=True)
class UnpackResult:
    kind: ArchiveKind | None  # None when the format was not recognised
    root: Path | None  # where the files now are; None when refused
    files: tuple[StagedFile, ...]
    total_bytes: int
    report: Report

    @property
    def ok(self) -> bool:
        return self.report.ok and self.root is not None

    @property
    def bag_root(self) -> Path | None:
        """The bag folder: ``root`` itself, or its single top-level folder (``zip -r bag.zip bag/``)."""
        if self.root is None or (self.root / "bagit.txt").is_file():
            return self.root
        entries = list(self.root.iterdir())
        return entries[0] if len(entries) == 1 and entries[0].is_dir() else self.root


@dataclass
class _Member:
    name: str
    kind: Literal["file", "dir", "symlink", "hardlink", "special", "unreadable"]
    size: int = 0
    compressed: int | None = None  # known per member for ZIP only
    detail: str = ""


class _Stop(Exception):
    """A limit that makes going on pointless (or unsafe): the issue is already in the report."""


class _Checker:
    """Applies the name, type and limit rules member by member, collecting every problem."""

    def __init__(self, limits: UnpackLimits, report: Report, archive_bytes: int | None = None) -> None:
        self.limits, self.report = limits, report
        self.archive_bytes = archive_bytes
        self.files: set[str] = set()
        self.dirs: set[str] = set()
        self.nfc: dict[str, str] = {}
        self.folded: dict[str, str] = {}
        self.declared = 0
        self.bomb = False  # PKG011 already says it: no PKG077 for the same bomb
        self.not_nfc: list[str] = []

    def check(self, m: _Member) -> str | None:
        """Return the safe relative path to create, or None if the member is refused or skipped."""
        errors = len(self.report.errors)
        if m.kind == "unreadable":  # a folder submission's entry that cannot be read
            _add(self.report, "PKG078", m.name or ".", reason=m.detail)
            return None
        path = self._name(m.name)
        if path is None:
            return None
        if m.kind in ("symlink", "hardlink", "special"):
            code = {"symlink": "PKG006", "hardlink": "PKG007", "special": "PKG008"}[m.kind]
            _add(self.report, code, path, kind=m.detail or m.kind)
            return None
        if m.kind == "dir":
            if path in self.files:
                _add(self.report, "PKG020", path)
            elif path not in self.dirs:
                self._register(path)
                self.dirs.add(path)
        elif path in self.files:
            _add(self.report, "PKG016", path)
        else:
            self._add_file(path)
            if len(self.files) > self.limits.max_files:
                _add(self.report, "PKG010", path, limit=self.limits.max_files)
                raise _Stop
            self.declared += m.size
            if not ratio_ok(self.limits, self.report, path, m.size, m.compressed):
                self.bomb = True
            if self.declared > self.limits.max_total_bytes:
                _add(self.report, "PKG009", path, limit=self.limits.max_total_bytes, size=self.declared)
                raise _Stop
            # The declared sizes already tell (a sparse member declares its expanded size); the
            # writer counts again what is really written, since headers can lie.
            if not self.bomb and not expansion_ok(self.limits, self.report, path, self.declared,
                                                  self.archive_bytes):
                raise _Stop
        return path if len(self.report.errors) == errors else None

    def _name(self, raw: str) -> str | None:
        """The member name without a leading ``./``, or None (with an issue) if it is unsafe."""
        r, lim = self.report, self.limits
        name = raw
        while name.startswith("./"):
            name = name[2:]
        if name not in ("", "/"):
            name = name.rstrip("/")
        if name == "." or (name == "" and raw.startswith(".")):
            return None  # the archive's own root entry ("./")
        if not _is_utf8(name):
            _add(r, "PKG014", name.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
            return None
        if name.startswith("/"):
            _add(r, "PKG003", name)
            return None
        if "\\" in name or _DRIVE.match(name):
            _add(r, "PKG005", name)
            return None
        parts = name.split("/")
        if ".." in parts:
            _add(r, "PKG004", name)
            return None
        if not name or _CONTROL.search(name) or "" in parts or "." in parts:
            reason = "control character" if _CONTROL.search(name) else "empty, '.' or '//'"
            _add(r, "PKG019", _CONTROL.sub("?", name), reason=reason)
            return None
        if len(parts) > lim.max_depth:
            _add(r, "PKG012", name, depth=len(parts), limit=lim.max_depth)
        longest = max(len(p.encode()) for p in parts)
        if longest > lim.max_name_bytes:
            _add(r, "PKG013", name, length=longest, limit=lim.max_name_bytes)
        elif len(name.encode()) > lim.max_path_bytes:
            _add(r, "PKG013", name, length=len(name.encode()), limit=lim.max_path_bytes)
        return name

    def _add_file(self, path: str) -> None:
        if path in self.dirs:
            _add(self.report, "PKG020", path)
        for parent in _parents(path):
            if parent in self.files:
                _add(self.report, "PKG020", parent)
            elif parent not in self.dirs:
                self._register(parent)
                self.dirs.add(parent)
        self._register(path)
        self.files.add(path)

    def _register(self, path: str) -> None:
        """Refuse names equal after NFC; warn on names equal after case folding, and on a name
        hiding characters (once per file or folder, not for each file under a folder)."""
        hidden = hidden_characters(path.rsplit("/", 1)[-1])
        if hidden:
            self.report.add("PKG203", escape_hidden(path), file=escape_hidden(path),
                            chars=", ".join(f"U+{ord(c):04X}" for c in hidden))
        norm = unicodedata.normalize("NFC", path)
        if norm != path:
            self.not_nfc.append(path)
        other = self.nfc.setdefault(norm, path)
        if other != path:
            _add(self.report, "PKG015", path, other=other)
            return
        other = self.folded.setdefault(norm.casefold(), path)
        if other != path:
            _add(self.report, "PKG021", path, other=other)

    def check_keys(self) -> None:
        """Refuse payload paths the AIP could not store: too long once under the longest AIP key
        prefix, or with a segment the backends reserve. Run once every name is known (the bag
        root, and so each file's path in the AIP, depends on all of them)."""
        lim = self.limits
        room = lim.max_key_bytes - lim.key_prefix_bytes
        root = bag_root(self.files, self.dirs)
        bagged = root + "bagit.txt" in self.files
        for path in sorted(self.files):
            if not path.startswith(root):
                continue
            tail = path[len(root):]
            if not bagged:
                tail = "data/" + tail
            elif not tail.startswith("data/"):
                continue  # a tag file: not stored
            if any(seg.startswith(RESERVED_PREFIX) for seg in path.split("/")):
                _add(self.report, "PKG080", path)
            length = len(unicodedata.normalize("NFC", tail).encode())
            if length > room:
                _add(self.report, "PKG079", path, length=length, limit=room,
                     max_key=lim.max_key_bytes, prefix=lim.key_prefix_bytes)

    def finish(self) -> None:
        if self.not_nfc:
            _add(self.report, "PKG027", self.not_nfc[0], count=len(self.not_nfc))


# Characters that change how a name is shown without showing themselves: the bidirectional
# controls (Unicode Bidi_Control: embeddings, overrides, isolates, marks) and the zero-width
# ones. "Hồ sơ\u202efdp.exe" shows as "Hồ sơexe.pdf". Names keep them (the record must not
# be lost or renamed); they are warned, shown escaped.
_HIDDEN = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")


def hidden_characters(name: str) -> list[str]:
    """The invisible or text-direction characters in ``name``, each once, in order."""
    if name.isascii() or not _HIDDEN.search(name):  # the common case, once per member
        return []
    return list(dict.fromkeys(_HIDDEN.findall(name)))


def escape_hidden(name: str) -> str:
    """``name`` with those characters written as ``\\uXXXX``, so it reads as it is."""
    return _HIDDEN.sub(lambda m: f"\\u{ord(m[0]):04x}", name)


def _is_utf8(name: str) -> bool:
    """False for names carrying undecodable bytes (surrogate escapes)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _parents(path: str) -> Iterator[str]:
    parts = path.split("/")
    for i in range(1, len(parts)):
        yield "/".join(parts[:i])


def bag_root(files: set[str], dirs: set[str]) -> str:
    """The bag's folder among the members, as ``UnpackResult.bag_root`` finds it on disk: the
    root, or its single top folder ("bag/"). Under it, payload lands in the AIP as it is
    ("data/…"); without ``bagit.txt`` every file is counted as payload (an unbagged TT 05
    package would be carried under data/)."""
    if "bagit.txt" in files:
        return ""
    top = {p.split("/", 1)[0] for p in files} | {d.split("/", 1)[0] for d in dirs}
    only = next(iter(top)) if len(top) == 1 else ""
    return only + "/" if only in dirs else ""


def expansion_ok(limits: UnpackLimits, report: Report, path: str, size: int,
                 archive_bytes: int | None) -> bool:
    """The whole archive may expand to ``max_ratio`` times its own size (or ``ratio_floor``)."""
    if archive_bytes is None or size <= max(limits.ratio_floor, limits.max_ratio * archive_bytes):
        return True
    _add(report, "PKG077", path, limit=limits.max_ratio, size=size, compressed=archive_bytes)
    return False


def ratio_ok(limits: UnpackLimits, report: Report, path: str, size: int, compressed: int | None) -> bool:
    if compressed is None or size <= limits.ratio_floor or size <= limits.max_ratio * compressed:
        return True
    _add(report, "PKG011", path, limit=limits.max_ratio, size=size, compressed=compressed)
    return False


class _Writer:
    """Writes members under ``root``, counting bytes: limits hold even when headers lie."""

    def __init__(self, root: Path, limits: UnpackLimits, report: Report,
                 archive_bytes: int | None = None) -> None:
        self.root, self.limits, self.report = root, limits, report
        self.archive_bytes = archive_bytes  # the submitted archive's size; None for a folder
        self.files: list[StagedFile] = []
        self.total = 0
        self.made: set[str] = set()

    def mkdir(self, path: str) -> None:
        if path not in self.made:
            try:
                os.makedirs(os.path.join(self.root, path), exist_ok=True)
            except OSError as exc:
                self._failed(path, exc)
            self.made.add(path)

    def _failed(self, path: str, exc: OSError) -> NoReturn:
        """A write into staging failed: the archive's fault (disk full…) is a system error; a
        name the staging file system cannot create is the submission's (``PKG026``)."""
        if is_system(exc) or exc.errno in (errno.EACCES, errno.EPERM):
            raise StagingError(path, exc) from exc
        _add(self.report, "PKG026", path, reason=reason(exc))
        raise _Stop from exc

    def write(self, path: str, src: IO[bytes], declared: int, compressed: int | None = None,
              stream_ratio: Callable[[], tuple[int, int]] | None = None) -> None:
        target = os.path.join(self.root, path)
        self.mkdir(os.path.dirname(path))
        count = 0
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            self._failed(path, exc)
        with os.fdopen(fd, "wb", buffering=0) as out:  # unbuffered: a failed write raises here
            while chunk := src.read(CHUNK):
                count += len(chunk)
                if count > declared:
                    _add(self.report, "PKG018", path, size=f">{declared}", declared=declared)
                    raise _Stop
                if self.total + count > self.limits.max_total_bytes:
                    _add(self.report, "PKG009", path, limit=self.limits.max_total_bytes, size=self.total + count)
                    raise _Stop
                if not expansion_ok(self.limits, self.report, path, self.total + count,
                                    self.archive_bytes):
                    raise _Stop
                if not ratio_ok(self.limits, self.report, path, count, compressed):
                    raise _Stop
                if stream_ratio and not ratio_ok(self.limits, self.report, path, *stream_ratio()):
                    raise _Stop
                try:
                    view = memoryview(chunk)
                    while view:  # a raw write may take part of it
                        view = view[out.write(view):]
                except OSError as exc:
                    self._failed(path, exc)
        if count != declared:
            _add(self.report, "PKG018", path, size=count, declared=declared)
            raise _Stop
        self.total += count
        self.files.append(StagedFile(path, count))


def detect_kind(archive: Path) -> ArchiveKind | None:
    """The archive format from its leading bytes; the file name is never trusted."""
    with open(archive, "rb") as f:
        head = f.read(512)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "tgz"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def unpack(archive: Path, dest: Path, limits: UnpackLimits | None = None) -> UnpackResult:
    """Extract ``archive`` to ``dest`` (which must not exist or be empty), or refuse with codes."""
    limits = limits or UnpackLimits()
    report = Report()
    if not archive.is_file():
        _add(report, "PKG025", str(archive))
        return UnpackResult(None, None, (), 0, report)
    try:
        kind = detect_kind(archive)
        size = archive.stat().st_size
        if kind is None:
            with open(archive, "rb") as f:
                _add(report, "PKG001", archive.name, magic=f.read(8).hex() or "empty")
    except OSError as exc:
        _source_failed(report, archive.name, exc)
        return UnpackResult(None, None, (), 0, report)
    if kind is None:
        return UnpackResult(None, None, (), 0, report)
    return _staged(dest, kind, limits, report,
                   lambda w, c: (_zip if kind == "zip" else _tar)(archive, w, c, kind), size)


def _source_failed(report: Report, path: str, exc: OSError) -> None:
    """Reading the submission failed: the archive's own disk failing is a system error; a file
    gone, unreadable or replaced is the submission's (``PKG078``)."""
    if is_system(exc):
        raise StagingError(path, exc) from exc
    _add(report, "PKG078", path, reason=reason(exc))


def stage_directory(source: Path, limits: UnpackLimits | None = None, *,
                    dest: Path | None = None) -> UnpackResult:
    """Check a folder submission by the same rules; copy it to ``dest`` only when one is given."""
    limits = limits or UnpackLimits()
    report = Report()
    if not source.is_dir() or source.is_symlink():
        _add(report, "PKG025", str(source))
        return UnpackResult("dir", None, (), 0, report)
    if dest is None:
        checker, files = _Checker(limits, report), []
        try:
            for member, _full in _walk(source, "", limits):
                path = checker.check(member)
                if path is not None and member.kind == "file":
                    files.append(StagedFile(path, member.size))
            checker.check_keys()
        except _Stop:
            pass
        except OSError as exc:  # the folder changed while it was being read
            _source_failed(report, inside(exc.filename, source) or source.name, exc)
        checker.finish()
        ok = report.ok
        return UnpackResult("dir", source if ok else None, tuple(files) if ok else (),
                            sum(f.size for f in files) if ok else 0, report)

    def copy(writer: _Writer, checker: _Checker) -> None:
        for member, full in _walk(source, "", limits):
            path = checker.check(member)
            if path is None or not report.ok:
                continue
            if member.kind == "dir":
                writer.mkdir(path)
                continue
            try:  # O_NOFOLLOW: a file swapped for a link after the walk is not followed
                src = os.fdopen(os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK), "rb")
            except OSError as exc:
                _source_failed(report, path, exc)
                raise _Stop from exc
            with src:
                writer.write(path, src, member.size)
        checker.check_keys()

    return _staged(dest, "dir", limits, report, copy)


def _walk(root: Path, prefix: str, limits: UnpackLimits, depth: int = 1) -> Iterator[tuple[_Member, Path]]:
    """Members of a folder without following links; st_nlink > 1 counts as a hard link. What
    cannot be read (no permission, gone since it was listed) is an "unreadable" member, so
    every such entry is reported, not just the first; the archive's own disk failing raises."""
    try:
        with os.scandir(root) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        if is_system(exc):
            raise
        yield _Member(prefix.rstrip("/"), "unreadable", detail=reason(exc)), root
        return
    for e in entries:
        name = prefix + e.name
        try:
            st = e.stat(follow_symlinks=False)
        except OSError as exc:
            if is_system(exc):
                raise
            yield _Member(name, "unreadable", detail=reason(exc)), Path(e.path)
            continue
        if stat.S_ISREG(st.st_mode) and not os.access(e.path, os.R_OK):
            denied = PermissionError(errno.EACCES, os.strerror(errno.EACCES))
            yield _Member(name, "unreadable", detail=reason(denied)), Path(e.path)
        elif stat.S_ISLNK(st.st_mode):
            yield _Member(name, "symlink"), Path(e.path)
        elif stat.S_ISDIR(st.st_mode):
            yield _Member(name + "/", "dir"), Path(e.path)
            if depth < limits.max_depth + 1:
                yield from _walk(Path(e.path), name + "/", limits, depth + 1)
        elif stat.S_ISREG(st.st_mode):
            kind: Literal["hardlink", "file"] = "hardlink" if st.st_nlink > 1 else "file"
            yield _Member(name, kind, st.st_size), Path(e.path)
        else:
            yield _Member(name, "special", detail=_mode_name(st.st_mode)), Path(e.path)


def _mode_name(mode: int) -> str:
    for test, label in ((stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                        (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return label
    return "unknown type"


def _staged(dest: Path, kind: ArchiveKind, limits: UnpackLimits, report: Report,
            fill: Callable[[_Writer, _Checker], None], archive_bytes: int | None = None) -> UnpackResult:
    """Run ``fill`` into a temp folder beside ``dest``; rename on success, remove otherwise."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise KhosoError("PKG024", str(dest), file=str(dest))
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unpack-", dir=dest.parent))
    except OSError as exc:
        raise StagingError(str(dest), exc) from exc
    done = False
    try:
        writer = _Writer(tmp, limits, report, archive_bytes)
        checker = _Checker(limits, report, archive_bytes)
        try:
            fill(writer, checker)
        except _Stop:
            pass
        except _PARSE_ERRORS as exc:
            _add(report, "PKG002", reason=f"{type(exc).__name__}: {exc}"[:200])
        except OSError as exc:  # reading the archive itself failed
            if is_system(exc) or exc.filename is not None:  # its disk, or the file is gone
                _source_failed(report, Path(str(exc.filename or dest)).name, exc)
            else:
                _add(report, "PKG002", reason=f"{type(exc).__name__}: {exc.strerror or exc}"[:200])
        checker.finish()
        if report.ok:
            try:
                os.rename(tmp, dest)
            except OSError as exc:
                raise StagingError(str(dest), exc) from exc
            done = True
            return UnpackResult(kind, dest, tuple(writer.files), writer.total, report)
        return UnpackResult(kind, None, (), 0, report)
    finally:
        if not done:
            shutil.rmtree(tmp, ignore_errors=True)


def _zip(archive: Path, writer: _Writer, checker: _Checker, kind: ArchiveKind) -> None:
    report, limits = writer.report, writer.limits
    with open(archive, "rb") as fp:
        # entry count before zipfile builds one object per entry (private API, not in typeshed)
        end = zipfile._EndRecData(fp)  # type: ignore[attr-defined]
        if end and end[zipfile._ECD_ENTRIES_TOTAL] > limits.max_files:  # type: ignore[attr-defined]
            _add(report, "PKG010", limit=limits.max_files)
            return
        with zipfile.ZipFile(fp) as zf:
            plan: list[tuple[str, _Member, zipfile.ZipInfo]] = []
            forks: list[str] = []
            names = _ZipNames(_confirmed_code_page(zf, zf.infolist()))
            for info in zf.infolist():
                if _finder_fork(info):
                    if not info.is_dir():
                        forks.append(info.orig_filename)
                    continue
                member = _zip_member(info, report, names)
                if member is None:
                    continue
                path = checker.check(member)
                if path is not None:
                    plan.append((path, member, info))
            if forks:
                _add(report, "PKG082", forks[0], count=len(forks))
            names.warn(report)
            checker.check_keys()
            if not report.ok:
                return
            for path, member, info in plan:
                if member.kind == "dir":
                    writer.mkdir(path)
                    continue
                # Lift zipfile's own cap at the declared size (it would truncate, then fail on the
                # CRC): the writer counts every byte against the header, the ratio and the total.
                probe = copy.copy(info)
                probe.file_size = 1 << 62
                with zf.open(probe) as src:
                    writer.write(path, src, info.file_size, info.compress_size)


def _finder_fork(info: zipfile.ZipInfo) -> bool:
    """A folder or AppleDouble file ("._name": resource fork, Finder attributes, never the
    content) that macOS Finder's "Compress" writes under a top folder ``__MACOSX/``. Left out,
    with a warning: beside the bag it made the bag no longer the archive's only top folder.
    Anything else there (a link, an unsafe name) is checked like every member."""
    parts = info.orig_filename.rstrip("/").split("/")
    if parts[0] != "__MACOSX" or stat.S_ISLNK(info.external_attr >> 16) or any(
            p in ("", ".", "..") or "\\" in p or _CONTROL.search(p) for p in parts[1:]):
        return False
    return info.is_dir() or (len(parts) > 1 and parts[-1].startswith("._"))


def _unicode_path(info: zipfile.ZipInfo, raw: bytes) -> str | None:
    """The name in the Info-ZIP Unicode Path extra field (0x7075), when the field is for this
    header name: its CRC-32 of the name bytes must match, else a tool renamed the entry without
    updating the field (APPNOTE 4.6.9), and the field is ignored."""
    extra, at = info.extra, 0
    while at + 4 <= len(extra):
        tag, size = int.from_bytes(extra[at:at + 2], "little"), int.from_bytes(extra[at + 2:at + 4], "little")
        body = extra[at + 4:at + 4 + size]
        at += 4 + size
        if tag != _UNICODE_PATH or len(body) < 5 or body[0] != 1:
            continue
        if int.from_bytes(body[1:5], "little") != zlib.crc32(raw):
            return None
        try:
            return body[5:].decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


@dataclass
class _ZipNames:
    """How this archive's names are read, and which were read so (each warned once)."""

    code_page: str | None = None  # the legacy code page the manifest confirmed, if one did
    backslashed: list[str] = field(default_factory=list)  # '\\' read as '/'
    legacy: list[str] = field(default_factory=list)  # decoded in ``code_page``

    def warn(self, report: Report) -> None:
        if self.backslashed:
            _add(report, "PKG204", self.backslashed[0], count=len(self.backslashed))
        if self.legacy:
            _add(report, "PKG205", self.legacy[0], count=len(self.legacy),
                 code_page=self.code_page)


# Code pages a ZIP tool without UTF-8 writes names in, most likely first for an agency: the
# Vietnamese Windows code page, the ZIP format's default (IBM 437), then the Western ones.
_LEGACY_CODE_PAGES = ("cp1258", "cp437", "cp850", "cp1252")
_MANIFEST_MEMBER = re.compile(r"(?:[^/]+/)?manifest-[A-Za-z0-9]+\.txt")
MANIFEST_READ_MAX = 64 << 20  # a manifest of 200,000 long paths is about 40 MiB


def _raw_name(info: zipfile.ZipInfo) -> bytes:
    return info.orig_filename.encode("cp437") if not info.flag_bits & 0x800 else b""


def _is_legacy(info: zipfile.ZipInfo) -> bool:
    """A name neither flagged UTF-8, nor valid UTF-8, nor given by a Unicode Path field."""
    raw = _raw_name(info)
    if not raw or raw.isascii() or _unicode_path(info, raw) is not None:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _confirmed_code_page(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> str | None:
    """The code page in which every legacy name is a path a payload manifest of the bag lists
    (or a folder of one): the manifest is UTF-8 and says what the names are, so the choice is
    proven, never guessed. None when no manifest or no code page makes every name match."""
    legacy = [i for i in infos if _is_legacy(i)]
    if not legacy:
        return None
    for manifest in infos:
        if not _MANIFEST_MEMBER.fullmatch(manifest.orig_filename) \
                or manifest.file_size > MANIFEST_READ_MAX or manifest.flag_bits & 0x41 \
                or manifest.compress_type not in _ZIP_METHODS:
            continue
        top = manifest.orig_filename.rpartition("/")[0]
        text = zf.read(manifest).decode("utf-8", "replace").removeprefix("\ufeff")
        listed = {unicodedata.normalize("NFC", top + "/" + p if top else p)
                  for p in bagit.parse_manifest(text)}
        folders = {parent for p in listed for parent in _parents(p)}
        for page in _LEGACY_CODE_PAGES:
            try:  # a byte the page does not define rules it out
                names = [unicodedata.normalize("NFC", _raw_name(i).decode(page)
                                               .replace("\\", "/")).rstrip("/") for i in legacy]
            except UnicodeDecodeError:
                continue
            if all(n in listed or n in folders for n in names):
                return page
    return None


def _zip_member(info: zipfile.ZipInfo, report: Report, names: _ZipNames) -> _Member | None:
    """The member as its maker meant it, recording in ``names`` how its name was read."""
    name = info.orig_filename
    if not info.flag_bits & 0x800:
        raw = name.encode("cp437")
        unicode = _unicode_path(info, raw)
        try:
            header: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            header = None
        if unicode is not None and unicode != header:
            # the header holds the name in the maker's code page (Windows: OEM, unreadable
            # characters often as '?'); Info-ZIP and 7-Zip read this field instead
            name = unicode
            _add(report, "PKG201", name, header=raw.decode("cp437"))
        elif header is None and names.code_page is not None:
            name = raw.decode(names.code_page)
            names.legacy.append(name)
        else:
            name = header if header is not None else raw.decode("utf-8", "surrogateescape")
            if header is not None and not raw.isascii():
                _add(report, "PKG023", name)
    if "\\" in name and info.create_system in _WINDOWS_HOSTS:
        # .NET Framework before 4.6.1 (ZipFile.CreateFromDirectory) and other Windows tools
        # wrote '\\' between folders. No Windows name holds one, so in an entry made there it
        # can only be a separator (Info-ZIP's unzip and 7-Zip read it so); elsewhere it may be
        # part of a name, and PKG005 refuses it.
        name = name.replace("\\", "/")
        names.backslashed.append(name)
    if "\x00" in name:
        _add(report, "PKG019", name.replace("\x00", "\\0"), reason="NUL")
        return None
    mode = info.external_attr >> 16
    if info.flag_bits & 0x41:
        _add(report, "PKG017", name)
        return None
    if stat.S_ISLNK(mode):
        return _Member(name, "symlink")
    if mode and stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return _Member(name, "special", detail=_mode_name(mode))
    # A folder entry: the name ends with "/", or the mode (Unix) or the MS-DOS attribute byte
    # (0x10; what some Windows tools alone set, with no "/") says so, unless the Unix mode
    # says it is a regular file. One with content is refused: extracting it as a folder would
    # drop those bytes, as a file would make a junk file (or clash with the folder's files).
    dos_dir = bool(info.external_attr & _DOS_DIRECTORY) and not stat.S_IFMT(mode)
    if name.endswith("/") or stat.S_ISDIR(mode) or dos_dir:
        if info.file_size or info.compress_size > _EMPTY_DEFLATE:
            _add(report, "PKG202", name.rstrip("/"), size=info.file_size)
            return None
        return _Member(name, "dir")
    if info.compress_type not in _ZIP_METHODS:
        _add(report, "PKG022", name, method=info.compress_type)
        return None
    return _Member(name, "file", info.file_size, info.compress_size)


class _Counting:
    """Counts compressed bytes read, for the tar.gz stream ratio; seeks pass through."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.count = f, 0

    def read(self, n: int = -1) -> bytes:
        data = self.f.read(n)
        self.count += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.f.seek(offset, whence)

    def tell(self) -> int:
        return self.f.tell()


def _tar(archive: Path, writer: _Writer, checker: _Checker, kind: ArchiveKind) -> None:
    """Check every header first (nothing written, stops at a limit), then extract in one stream."""
    report, limits = writer.report, writer.limits
    plan: dict[int, str] = {}
    with open(archive, "rb") as raw:
        counting = _Counting(raw)
        with _open_tar(counting, kind, stream=False) as tf:
            for index, ti in enumerate(tf):
                if kind == "tgz" and not ratio_ok(limits, report, ti.name, tf.offset, counting.count):
                    raise _Stop
                path = checker.check(_tar_member(ti))
                if path is not None:
                    plan[index] = path
            _check_tar_end(tf, counting, kind, limits, report)
    checker.check_keys()
    if not report.ok:
        return
    with open(archive, "rb") as raw:
        counting = _Counting(raw)
        with _open_tar(counting, kind, stream=True) as tf:
            def stream() -> tuple[int, int]:
                # tarfile's private _Stream knows how far the gzip stream has been read
                return tf.fileobj.pos, counting.count  # type: ignore[attr-defined]

            for index, ti in enumerate(tf):
                path = plan.get(index)
                if path is None:
                    continue
                if ti.isdir():
                    writer.mkdir(path)
                    continue
                src = tf.extractfile(ti)
                if src is None:  # pragma: no cover - isreg() members always have a file object
                    raise _Stop
                writer.write(path, src, ti.size, None, stream if kind == "tgz" else None)


def _check_tar_end(tf: tarfile.TarFile, counting: _Counting, kind: ArchiveKind,
                   limits: UnpackLimits, report: Report) -> None:
    """Refuse a tar whose member list did not end at its end-of-archive marker.

    tarfile stops listing, without an error, at a header cut short or with a bad checksum, and
    at the first zero block (a second archive appended after it is never read): members would be
    lost without a word. What follows the last member must be zero blocks only. Reading a tar.gz
    to its end also makes gzip check its CRC and length (a cut or damaged trailer raises).
    """
    f = tf.fileobj
    if f is None:  # pragma: no cover - open for reading, tarfile always has one
        return
    f.seek(tf.offset)
    end = f.read(tarfile.BLOCKSIZE)
    if len(end) < tarfile.BLOCKSIZE or end.count(0) != len(end):
        _add(report, "PKG002", reason=f"no end-of-archive marker at byte {tf.offset}: the archive "
                                      "is cut short or a header is damaged")
        raise _Stop
    position = tf.offset + len(end)
    while chunk := f.read(CHUNK):
        position += len(chunk)
        if kind == "tgz" and not ratio_ok(limits, report, "", position, counting.count):
            raise _Stop
        if chunk.count(0) != len(chunk):
            _add(report, "PKG002", reason=f"data after the end-of-archive marker at byte {tf.offset} "
                                          "(a second archive appended?), which would not be read")
            raise _Stop


def _open_tar(f: _Counting, kind: ArchiveKind, *, stream: bool) -> tarfile.TarFile:
    mode = ("r|" if stream else "r:") + ("gz" if kind == "tgz" else "")
    return tarfile.open(fileobj=f, mode=mode, encoding="utf-8",  # type: ignore[call-overload]
                        errors="surrogateescape")


def _tar_member(ti: tarfile.TarInfo) -> _Member:
    if ti.issym():
        return _Member(ti.name, "symlink")
    if ti.islnk():
        return _Member(ti.name, "hardlink")
    if ti.isdir():
        return _Member(ti.name, "dir")
    if ti.isreg():
        return _Member(ti.name, "file", ti.size)
    detail = ("character device" if ti.ischr() else "block device" if ti.isblk()
              else "fifo" if ti.isfifo() else f"type {ti.type!r}")
    return _Member(ti.name, "special", detail=detail)
