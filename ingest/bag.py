"""RFC 8493 (BagIt) validation that collects every problem as a ``BAG0xx`` issue.

Written rather than taken from bagit-python because ingest needs three things it lacks: every
problem with a stable code instead of the first exception, the digests it computed (so the file
is read once per ingest), and all manifests' digests from a single read of each file.

The tag-file syntax (line ends, ``Label: value`` elements, manifest and fetch.txt lines, path
percent-decoding) is read by :mod:`preservation.packaging.aip.bagit`, which also writes the
AIP's and the SIP builder's tag files; what is checked and with which code stays here.

Checks run cheapest first: ``bagit.txt``, tag files and manifests are parsed, then one directory
walk gives sizes for ``Payload-Oxum`` and completeness; files are hashed only if nothing failed
before (an info issue ``BAG027`` records that digests were not checked), since a bag that is
already refused need not cost a full read.

Without a profile this is a plain RFC 8493 validator that agrees with the public BagIt conformance
suite (versions 0.93 to 1.0): tag files are read in the encoding ``bagit.txt`` declares (non-UTF-8
is warned), ``Label : value`` is read like ``Label: value`` (warned for 1.0, which forbids it),
``./data/…`` manifest paths, md5sum's ``*`` binary marker and Windows ``\\`` separators (when they
name one file) are accepted with a warning, and
names that clash only in Unicode normalisation or letter case are warnings. What the archive needs
beyond the RFC (UTF-8 only, no clashing names, no fetch.txt) is for the profile to demand
(:mod:`ingest.profile`), so each rule lives in one place.

Decisions: ``md5``/``sha1`` manifests are verified but warned, algorithms that hashlib cannot
compute are errors (they cannot be verified); a manifest path that matches a file only after NFC
normalisation or only ignoring case (a bag made on macOS/Windows) is accepted with a warning, the
digest still decides. ``fetch.txt`` is never fetched: a file it lists that is absent makes the bag
*incomplete* (``BagReport.complete`` false, every check of the present files still made), which the
RFC calls not valid and ``is_valid`` reports so.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from preservation.issues import Report
from preservation.packaging.aip import bagit

CHUNK = 1 << 20
DIGEST_LENGTHS = {"sha256": 64, "sha512": 128, "sha224": 56, "sha384": 96, "sha1": 40, "md5": 32}
WEAK = {"sha1", "md5"}
VERSIONS = ("0.93", "0.94", "0.95", "0.96", "0.97", "1.0")
_OLD_INFO = ("0.93", "0.94", "0.95")  # versions whose bag-info.txt was called package-info.txt
_MANIFEST = re.compile(r"^(tag)?manifest-([A-Za-z0-9]+)\.txt$")
_UTF8 = codecs.lookup("utf-8").name
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _add(report: Report, code: str, path: str = "", **params: object) -> None:
    """``report.add`` that also hands the path to the message template (``{file}``)."""
    report.add(code, path, file=path, **params)


_NO_DIGESTS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)  # one per file of a 100,000-file bag
class PayloadFile:
    path: str  # relative to the bag root, always under ``data/``
    size: int
    digests: Mapping[str, str]  # algorithm -> lowercase hex; empty unless hashed


@dataclass(frozen=True)
class FetchEntry:
    url: str
    length: int | None
    path: str


@dataclass(frozen=True)
class BagReport:
    """What validation found: issues, bag-info, and the files with sizes and digests for reuse."""

    path: Path
    report: Report
    version: str | None = None
    info: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # label -> values, in order
    manifests: tuple[str, ...] = ()  # payload manifest algorithms present
    tag_manifests: tuple[str, ...] = ()
    files: Mapping[str, PayloadFile] = field(default_factory=dict)
    tag_files: tuple[str, ...] = ()  # every file outside data/, relative to the bag root
    fetch: tuple[FetchEntry, ...] = ()
    # fetch.txt entries whose file is absent: the bag is incomplete until they are fetched
    missing: tuple[FetchEntry, ...] = ()
    encoding: str = "UTF-8"  # Tag-File-Character-Encoding as declared
    nfc_clashes: tuple[str, ...] = ()  # names that equal another one after NFC normalisation
    verified: bool = False  # digests were computed and compared
    # (is_tag, algorithm) -> {path on disk: expected digest}, for steps that hash in their own pass
    entries: Mapping[tuple[bool, str], Mapping[str, str]] = field(default_factory=dict)

    @property
    def payload_bytes(self) -> int:
        return sum(f.size for f in self.files.values())

    @property
    def payload_count(self) -> int:
        return len(self.files)

    @property
    def info_file(self) -> str:
        """Where bag-info is: ``package-info.txt`` before BagIt 0.96, ``bag-info.txt`` since."""
        return info_file(self.version)

    def info_value(self, label: str) -> str | None:
        values = self.info.get(label)
        return values[0] if values else None

    @property
    def complete(self) -> bool:
        return not self.missing

    def is_valid(self) -> bool:
        """RFC 8493 valid: no error and complete (a holey bag is valid only once fetched)."""
        return self.report.ok and self.complete


def validate_bag(path: Path, *, fast: bool = False, processes: int = 1,
                 name: str | None = None) -> BagReport:
    """Validate the bag at ``path``; ``fast`` stops after Payload-Oxum and completeness.
    ``name`` is how the submitter knows the bag (the archive they sent), when ``path`` is a
    staging folder of the archive's own whose name would tell them nothing."""
    report = Report()
    if not path.is_dir():
        _add(report, "BAG030", str(path))
        return BagReport(path, report)
    declared = _read_bagit_txt(path, report, name or path.name)
    if declared is None:
        return BagReport(path, report)
    version, encoding = declared
    tag = _TagReader(path, encoding, version, report)
    payload, tag_files, clashes = _walk(path, report)
    info_name = info_file(version)
    info = _read_bag_info(tag, info_name, tag_files)
    manifests = _read_manifests(tag, tag_files)
    fetch = _read_fetch(tag, tag_files)
    payload_algs = tuple(sorted(a for tag, a in manifests if not tag))
    tag_algs = tuple(sorted(a for tag, a in manifests if tag))
    entries, missing = _match(manifests, payload, set(tag_files), fetch, report)
    _check_oxum(info, info_name, payload, missing, report)
    files = {p: PayloadFile(p, s, _NO_DIGESTS) for p, s in sorted(payload.items())}
    result = dict(path=path, report=report, version=version, info=info, manifests=payload_algs,
                  tag_manifests=tag_algs, tag_files=tuple(tag_files), fetch=fetch, entries=entries,
                  missing=missing, encoding=encoding, nfc_clashes=clashes)
    if fast:
        return BagReport(**result, files=files)  # type: ignore[arg-type]
    if not report.ok:
        _add(report, "BAG027")
        return BagReport(**result, files=files)  # type: ignore[arg-type]
    digests = _hash_all(path, entries, processes, report)
    _compare(entries, digests, report)
    files = {p: PayloadFile(p, s, digests.get(p, _NO_DIGESTS)) for p, s in sorted(payload.items())}
    return BagReport(**result, files=files, verified=True)  # type: ignore[arg-type]


def info_file(version: str | None) -> str:
    return "package-info.txt" if version in _OLD_INFO else "bag-info.txt"


def payload_manifests(bag: BagReport) -> dict[str, dict[str, str]]:
    """algorithm -> {payload path: expected digest}, for a read pass that hashes by itself."""
    return {alg: dict(listed) for (tag, alg), listed in bag.entries.items() if not tag}


def verify_tag_manifests(bag: BagReport, processes: int = 1) -> Report:
    """Hash the tag files listed in tag manifests (small) and report mismatches as ``BAG019``."""
    report = Report()
    tags = {key: listed for key, listed in bag.entries.items() if key[0]}
    _compare(tags, _hash_all(bag.path, tags, processes, report), report)
    return report


def _compare(entries: Mapping[tuple[bool, str], Mapping[str, str]],
             digests: Mapping[str, Mapping[str, str]], report: Report) -> None:
    for (tag, alg), listed in entries.items():
        name = f"{'tag' if tag else ''}manifest-{alg}.txt"
        for rel, expected in listed.items():
            found = digests.get(rel, {}).get(alg)
            if found is not None and found != expected:
                _add(report, "BAG019", rel, algorithm=alg, expected=expected, found=found, manifest=name)


def _read_text(root: Path, rel: str, report: Report, *, bom_is_error: bool = False,
               encoding: str = "utf-8") -> str | None:
    """A tag file decoded strictly; a UTF-8 BOM is warned (an error in ``bagit.txt``)."""
    try:
        data = (root / rel).read_bytes()
    except OSError as exc:
        _add(report, "BAG024", rel, reason=exc.strerror or str(exc))
        return None
    utf8 = codecs.lookup(encoding).name == _UTF8
    if utf8 and data.startswith(b"\xef\xbb\xbf"):
        if bom_is_error:
            _add(report, "BAG002", rel, reason="byte-order mark")
            return None
        _add(report, "BAG028", rel)
        data = data[3:]
    try:
        return data.decode(encoding)  # "UTF-16" reads and drops its own BOM
    except (UnicodeError, ValueError) as exc:  # idna/punycode raise plain UnicodeError
        _add(report, "BAG005", rel, offset=getattr(exc, "start", 0),
             encoding="UTF-8" if utf8 else encoding)
        return None


@dataclass(frozen=True)
class _TagReader:
    """Where tag files are and how ``bagit.txt`` says to read them."""

    root: Path
    encoding: str
    version: str
    report: Report

    def text(self, rel: str) -> str | None:
        return _read_text(self.root, rel, self.report, encoding=self.encoding)


def _read_bagit_txt(root: Path, report: Report, name: str) -> tuple[str, str] | None:
    """(version, tag file encoding), or None when the bag cannot be interpreted at all.

    ``bagit.txt`` itself is always UTF-8 with exactly ``Label: value`` (RFC 8493 2.1.1).
    """
    if not (root / "bagit.txt").is_file():
        report.add("BAG001", "bagit.txt", file=name)
        return None
    text = _read_text(root, "bagit.txt", report, bom_is_error=True)
    if text is None:
        return None
    lines = bagit.split_lines(text)
    if len(lines) > 2 and not any(line.strip() for line in lines[2:]):
        # blank lines after the two: some writers end the file so; they say nothing
        _add(report, "BAG118", "bagit.txt", count=len(lines) - 2)
        text = "\n".join(lines[:2]) + "\n"
    try:
        version, encoding = bagit.parse_bagit_txt(text)
    except ValueError as exc:
        _add(report, "BAG002", "bagit.txt", reason=str(exc))
        return None
    if version not in VERSIONS:
        _add(report, "BAG003", "bagit.txt", version=version)
    try:
        codec = codecs.lookup(encoding)
    except LookupError:
        codec = None
    if codec is None or not getattr(codec, "_is_text_encoding", True):  # base64, rot13, zip…
        _add(report, "BAG004", "bagit.txt", encoding=encoding)
    elif codec.name != _UTF8:
        _add(report, "BAG106", "bagit.txt", encoding=encoding)
    return (version, encoding) if report.ok else None


_SURROGATE = re.compile("[\ud800-\udfff]")  # an undecodable name, as os.fsdecode gives it
# files an operating system leaves behind (Finder, Explorer): kept and checked, but warned
_SYSTEM_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})


def _walk(root: Path, report: Report) -> tuple[dict[str, int], list[str], tuple[str, ...]]:
    """Sizes of payload files, the names of tag files and the names that clash after NFC, from
    one walk that follows no link. Clashing names are warnings: each is its own file to the RFC,
    but a reader on macOS or Windows would see one name (the profile may forbid them)."""
    payload: dict[str, int] = {}
    tags: list[str] = []
    seen: dict[str, str] = {}
    folded: dict[str, str] = {}
    clashes: list[str] = []
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            _add(report, "BAG024", prefix or ".", reason=exc.strerror or str(exc))
            continue
        for e in entries:
            rel = prefix + e.name
            if not rel.isascii() and _SURROGATE.search(rel):
                _add(report, "BAG032", rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
                continue
            nfc = unicodedata.normalize("NFC", rel)
            other = seen.setdefault(nfc, rel)
            if other != rel:
                _add(report, "BAG023", rel, other=other)
                clashes.append(rel)
            else:
                other = folded.setdefault(nfc.casefold(), rel)
                if other != rel:
                    _add(report, "BAG108", rel, other=other)
            try:
                st = e.stat(follow_symlinks=False)
            except OSError as exc:
                _add(report, "BAG024", rel, reason=exc.strerror or str(exc))
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append((rel + "/", e.path))
            elif not stat.S_ISREG(st.st_mode):
                kind = "symlink" if stat.S_ISLNK(st.st_mode) else "special file"
                _add(report, "BAG025", rel, kind=kind)
            elif rel.startswith("data/"):
                payload[rel] = st.st_size
                if e.name.lower() in _SYSTEM_FILES or e.name.startswith("._"):
                    _add(report, "BAG112", rel)
            else:
                tags.append(rel)
    if not (root / "data").is_dir() or (root / "data").is_symlink():
        _add(report, "BAG026", "data")
    tags.sort()
    return payload, tags, tuple(clashes)


def _read_bag_info(tag: _TagReader, name: str, tag_files: list[str]) -> dict[str, tuple[str, ...]]:
    """Labelled elements of ``bag-info.txt``; continuation lines are joined with one space.

    Whitespace before the colon was allowed up to 0.97 and is read the same way in 1.0, warned.
    """
    report = tag.report
    if name not in tag_files:
        return {}
    text = tag.text(name)
    if text is None:
        return {}
    info = bagit.parse_bag_info(text)
    for note in info.notes:
        if note.reason != bagit.SPACE_BEFORE_COLON:
            _add(report, "BAG006", name, line=note.line, reason=note.reason)
        elif tag.version == "1.0":
            _add(report, "BAG105", name, line=note.line, label=note.label)
    return info.as_dict()


def _unsafe(path: str) -> str | None:
    if path.startswith("/"):
        return "absolute path"
    if "\\" in path:
        return "backslash"
    parts = path.split("/")
    if ".." in parts:
        return "'..' segment"
    if "" in parts or "." in parts:
        return "empty or '.' segment"
    if "\x00" in path:
        return "NUL character"
    return None


def _read_manifests(tag_reader: _TagReader, tag_files: list[str]
                    ) -> dict[tuple[bool, str], dict[str, str]]:
    """(is_tag, algorithm) -> {path: digest} for every manifest with a supported algorithm.

    md5sum's binary marker (``<digest> *<path>``) and a leading ``./`` are dropped with a warning;
    the same path twice with the same digest is a warning before 1.0 and an error in 1.0, which
    lists each file once (RFC 8493 2.1.3).
    """
    report = tag_reader.report
    manifests: dict[tuple[bool, str], dict[str, str]] = {}
    payload_seen = False
    for name in tag_files:
        m = _MANIFEST.match(name)
        if not m:
            continue
        tag, alg = bool(m[1]), m[2]
        payload_seen |= not tag
        if alg not in DIGEST_LENGTHS:
            _add(report, "BAG010", name, algorithm=alg)
            continue
        if alg in WEAK:
            _add(report, "BAG011", name, algorithm=alg)
        text = tag_reader.text(name)
        entries: dict[str, str] = {}
        for number, line in enumerate(bagit.split_lines(text or ""), 1):
            if not line.strip():
                continue
            found = bagit.parse_manifest_line(line)
            if found is None:
                _add(report, "BAG012", name, line=number, reason="expected '<digest> <path>'")
                continue
            digest, raw = found[0].lower(), found[1]
            if raw.startswith("*"):
                raw = raw[1:]
                _add(report, "BAG104", raw, manifest=name, line=number)
            if raw.startswith("./"):
                raw = raw[2:]
                _add(report, "BAG103", raw, manifest=name, line=number)
            path = bagit.decode_path_liberally(raw, lambda p: (tag_reader.root / p).is_file())
            bare = path.rstrip(" \t")
            if bare != path and not (tag_reader.root / path).is_file() \
                    and (tag_reader.root / bare).is_file():
                # spaces or tabs left after the path (a manifest edited on Windows); a name
                # that really ends in one is kept when that file is there
                path = bare
                _add(report, "BAG117", path, manifest=name, line=number)
            if len(digest) != DIGEST_LENGTHS[alg] or not re.fullmatch(r"[0-9a-f]+", digest):
                _add(report, "BAG031", name, digest=found[0][:140], line=number, algorithm=alg,
                           length=DIGEST_LENGTHS[alg])
                continue
            if "\\" in path:
                path = _windows_path(tag_reader.root, path, name, number, report)
            reason = _unsafe(path)
            if reason:
                _add(report, "BAG014", path, manifest=name, reason=reason)
                continue
            if tag and path.startswith("data/"):
                _add(report, "BAG020", path, manifest=name)
                continue
            if not tag and not path.startswith("data/"):
                _add(report, "BAG013", path, manifest=name)
                continue
            if path in entries:
                same = entries[path] == digest
                code = ("BAG107" if tag_reader.version == "1.0" else "BAG015") if same else "BAG016"
                _add(report, code, path, manifest=name)
                continue
            entries[path] = digest
        manifests[(tag, alg)] = entries
    if not payload_seen:
        _add(report, "BAG009")
    return manifests


def _windows_path(root: Path, path: str, manifest: str, line: int, report: Report) -> str:
    """A manifest path written with Windows separators (``data\\sub\\a.pdf``, as a manifest made
    by hand or a script on Windows has it) read with ``/`` when that is unambiguous: no file has
    the name as written, and the path so read is safe and names a file of the bag. Else the path
    is returned as written, for ``_unsafe`` to refuse."""
    slashed = path.replace("\\", "/")
    if _unsafe(slashed) or (root / path).is_file() or not (root / slashed).is_file():
        return path
    report.add("BAG201", slashed, file=slashed, raw=path, manifest=manifest, line=line)
    return slashed


def _read_fetch(tag: _TagReader, tag_files: list[str]) -> tuple[FetchEntry, ...]:
    """The entries of ``fetch.txt`` (read, never fetched)."""
    report = tag.report
    if "fetch.txt" not in tag_files:
        return ()
    entries: list[FetchEntry] = []
    for number, line in enumerate(bagit.split_lines(tag.text("fetch.txt") or ""), 1):
        if not line.strip():
            continue
        found = bagit.parse_fetch_line(line)
        if not found.well_formed:
            _add(report, "BAG022", "fetch.txt", line=number, reason="expected 'URL length path'")
            continue
        path = found.path
        if _unsafe(path) or not path.startswith("data/"):
            _add(report, "BAG022", "fetch.txt", line=number, reason=f"path {path!r} not under data/")
            continue
        entries.append(FetchEntry(found.url, found.size, path))
    _add(report, "BAG021", "fetch.txt", count=len(entries))
    return tuple(entries)


def _check_oxum(info: Mapping[str, tuple[str, ...]], name: str, payload: dict[str, int],
                missing: tuple[FetchEntry, ...], report: Report) -> None:
    """Payload-Oxum counts the whole payload: files still to fetch count with their fetch.txt
    length, and only the file count is compared when a length is unknown (``-``)."""
    values = info.get("Payload-Oxum", ())
    if len(values) > 1:
        _add(report, "BAG029", name, label="Payload-Oxum", count=len(values))
        return
    if not values:
        return
    m = re.fullmatch(r"(\d+)\.(\d+)", values[0])
    if not m:
        _add(report, "BAG007", name, value=values[0][:80])
        return
    count = len(payload) + len(missing)
    octets = sum(payload.values()) + sum(e.length or 0 for e in missing)
    sized = all(e.length is not None for e in missing)
    found = f"{octets if sized else '?'}.{count}"
    if int(m[2]) != count or (sized and int(m[1]) != octets):
        _add(report, "BAG008", name, expected=values[0], found=found)


def _folded(names: Iterable[str]) -> dict[str, str | None]:
    """casefold(NFC name) -> the name, or None when two names fold alike (ambiguous)."""
    out: dict[str, str | None] = {}
    for name in names:
        key = unicodedata.normalize("NFC", name).casefold()
        out[key] = None if key in out else name
    return out


def _match(manifests: dict[tuple[bool, str], dict[str, str]], payload: Mapping[str, int],
           tag_files: set[str], fetch: tuple[FetchEntry, ...], report: Report
           ) -> tuple[dict[tuple[bool, str], dict[str, str]], tuple[FetchEntry, ...]]:
    """Completeness: map manifest paths to files on disk and report gaps.

    A path matches exactly, else after NFC normalisation (``BAG033``), else ignoring case when
    exactly one file folds alike (``BAG109``: the bag was made on a case-insensitive disk); two
    entries that land on one file must agree on its digest. An absent payload file that
    ``fetch.txt`` lists is not an error but makes the bag incomplete (returned, ``BAG111``).
    """
    nfc_payload = {unicodedata.normalize("NFC", p): p for p in payload}
    nfc_tags = {unicodedata.normalize("NFC", p): p for p in tag_files}
    fold_payload: dict[str, str | None] | None = None
    fold_tags: dict[str, str | None] | None = None
    to_fetch = {unicodedata.normalize("NFC", e.path): e for e in fetch}
    missing: dict[str, FetchEntry] = {}
    resolved: dict[tuple[bool, str], dict[str, str]] = {}
    for (tag, alg), entries in sorted(manifests.items()):
        name = f"{'tag' if tag else ''}manifest-{alg}.txt"
        present, by_nfc = (tag_files, nfc_tags) if tag else (payload, nfc_payload)
        mapped: dict[str, str] = {}
        for path, digest in entries.items():
            nfc = unicodedata.normalize("NFC", path)
            disk = by_nfc.get(nfc)
            if path in present and disk != path:
                disk = path
            # ``disk`` is the walk's own string when the names match: the manifest's copy of
            # every path need not be kept
            if disk is None:
                entry = None if tag else to_fetch.get(nfc)
                if entry is not None:
                    missing.setdefault(entry.path, entry)
                    continue
                if tag:
                    fold_tags = _folded(tag_files) if fold_tags is None else fold_tags
                    disk = fold_tags.get(nfc.casefold())
                else:
                    fold_payload = _folded(payload) if fold_payload is None else fold_payload
                    disk = fold_payload.get(nfc.casefold())
                if disk is None:
                    _add(report, "BAG017", path, manifest=name)
                    continue
                _add(report, "BAG109", path, manifest=name, other=disk)
            elif disk != path:
                _add(report, "BAG033", path, manifest=name)
            if mapped.get(disk, digest) != digest:
                _add(report, "BAG016", disk, manifest=name)
                continue
            mapped[disk] = digest
        if not tag:
            for path in sorted(set(payload) - set(mapped)):
                _add(report, "BAG018", path, manifest=name)
        resolved[(tag, alg)] = mapped
    payload_lists = [set(e) for (tag, _alg), e in manifests.items() if not tag]
    for entry in fetch:
        if payload_lists and not all(entry.path in listed for listed in payload_lists):
            _add(report, "BAG110", entry.path, url=entry.url)
    for entry in missing.values():
        _add(report, "BAG111", entry.path, url=entry.url)
    return resolved, tuple(missing.values())


def _hash_all(root: Path, entries: Mapping[tuple[bool, str], Mapping[str, str]], processes: int,
              report: Report) -> dict[str, dict[str, str]]:
    """Digests for every listed file, each file read once for all its algorithms.

    ``processes`` counts worker threads (named as in bagit-python): hashlib and file reads release
    the GIL, so threads scale like processes here (measured 2026-11-22) without forking a
    multi-threaded worker or pickling results.
    """
    wanted: dict[str, set[str]] = {}
    for (_tag, alg), listed in entries.items():
        for rel in listed:
            wanted.setdefault(rel, set()).add(alg)
    jobs = [(rel, tuple(sorted(algs))) for rel, algs in sorted(wanted.items())]
    if processes <= 1 or len(jobs) < 2:
        results = _hash_batch(str(root), jobs)
    else:
        batches = _batches(root, jobs, processes)
        with ThreadPoolExecutor(processes) as pool:
            results = [r for part in pool.map(_hash_batch, [str(root)] * len(batches), batches)
                       for r in part]
    digests: dict[str, dict[str, str]] = {}
    for rel, value in results:
        if isinstance(value, str):
            _add(report, "BAG024", rel, reason=value)
        else:
            digests[rel] = value
    return digests


def _batches(root: Path, jobs: list[tuple[str, tuple[str, ...]]], processes: int
             ) -> list[list[tuple[str, tuple[str, ...]]]]:
    """Split into about eight batches per worker so a slow batch does not idle the others."""
    size = max(1, len(jobs) // (processes * 8))
    return [jobs[i:i + size] for i in range(0, len(jobs), size)]


def _hash_batch(root: str, jobs: Iterable[tuple[str, tuple[str, ...]]]
                ) -> list[tuple[str, dict[str, str] | str]]:
    """Hash files with one 1 MiB buffer; an unreadable file yields its error text, not a raise."""
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    out: list[tuple[str, dict[str, str] | str]] = []
    for rel, algs in jobs:
        hashers = [getattr(hashlib, a)() for a in algs]
        try:
            with open(os.path.join(root, rel), "rb", buffering=0) as f:
                while n := f.readinto(buf):
                    chunk = view[:n]
                    for h in hashers:
                        h.update(chunk)
        except OSError as exc:
            out.append((rel, exc.strerror or str(exc)))
            continue
        out.append((rel, {a: h.hexdigest() for a, h in zip(algs, hashers, strict=True)}))
    return out

