"""RFC 8493 (BagIt) validation that collects every problem as a ``BAG0xx`` issue.

Written rather than taken from bagit-python because ingest needs three things it lacks: every
problem with a stable code instead of the first exception, the digests it computed (so the file
is read once per ingest), and all manifests' digests from a single read of each file.

Checks run cheapest first: ``bagit.txt``, tag files and manifests are parsed, then one directory
walk gives sizes for ``Payload-Oxum`` and completeness; files are hashed only if nothing failed
before (an info issue ``BAG027`` records that digests were not checked), since a bag that is
already refused need not cost a full read.

Decisions: only UTF-8 tag files are accepted; ``md5``/``sha1`` manifests are verified but warned,
other algorithms than ``sha256``/``sha512``/``sha1``/``md5`` are errors (they cannot be verified);
a manifest path that matches a file only after NFC normalisation is accepted with a warning;
``fetch.txt`` is never fetched, so files it lists must still be present.
"""

from __future__ import annotations

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

CHUNK = 1 << 20
DIGEST_LENGTHS = {"sha256": 64, "sha512": 128, "sha1": 40, "md5": 32}
WEAK = {"sha1", "md5"}
VERSIONS = ("0.97", "1.0")
_MANIFEST = re.compile(r"^(tag)?manifest-([A-Za-z0-9]+)\.txt$")
_BAGIT_LINES = (re.compile(r"^BagIt-Version: (\d+\.\d+)$"),
                re.compile(r"^Tag-File-Character-Encoding: (\S+)$"))
_NEWLINE = re.compile(r"\r\n|\r|\n")
_ENTRY = re.compile(r"^(\S+)[ \t]+(.+)$")
_PCT = re.compile(r"%(0[AaDd]|25)")
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
    verified: bool = False  # digests were computed and compared
    # (is_tag, algorithm) -> {path on disk: expected digest}, for steps that hash in their own pass
    entries: Mapping[tuple[bool, str], Mapping[str, str]] = field(default_factory=dict)

    @property
    def payload_bytes(self) -> int:
        return sum(f.size for f in self.files.values())

    @property
    def payload_count(self) -> int:
        return len(self.files)

    def info_value(self, label: str) -> str | None:
        values = self.info.get(label)
        return values[0] if values else None

    def is_valid(self) -> bool:
        return self.report.ok


def validate_bag(path: Path, *, fast: bool = False, processes: int = 1) -> BagReport:
    """Validate the bag at ``path``; ``fast`` stops after Payload-Oxum and completeness."""
    report = Report()
    if not path.is_dir():
        _add(report, "BAG030", str(path))
        return BagReport(path, report)
    version = _read_bagit_txt(path, report)
    if version is None:
        return BagReport(path, report, version)
    payload, tag_files = _walk(path, report)
    info = _read_bag_info(path, tag_files, report)
    manifests = _read_manifests(path, tag_files, report)
    fetch = _read_fetch(path, tag_files, report)
    _check_oxum(info, payload, report)
    payload_algs = tuple(sorted(a for tag, a in manifests if not tag))
    tag_algs = tuple(sorted(a for tag, a in manifests if tag))
    entries = _match(manifests, payload, set(tag_files), report)
    files = {p: PayloadFile(p, s, _NO_DIGESTS) for p, s in sorted(payload.items())}
    result = dict(path=path, report=report, version=version, info=info, manifests=payload_algs,
                  tag_manifests=tag_algs, tag_files=tuple(tag_files), fetch=fetch, entries=entries)
    if fast:
        return BagReport(**result, files=files)  # type: ignore[arg-type]
    if not report.ok:
        _add(report, "BAG027")
        return BagReport(**result, files=files)  # type: ignore[arg-type]
    digests = _hash_all(path, entries, processes, report)
    _compare(entries, digests, report)
    files = {p: PayloadFile(p, s, digests.get(p, _NO_DIGESTS)) for p, s in sorted(payload.items())}
    return BagReport(**result, files=files, verified=True)  # type: ignore[arg-type]


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


def _read_text(root: Path, rel: str, report: Report, *, bom_is_error: bool = False) -> str | None:
    try:
        data = (root / rel).read_bytes()
    except OSError as exc:
        _add(report, "BAG024", rel, reason=exc.strerror or str(exc))
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        if bom_is_error:
            _add(report, "BAG002", rel, reason="byte-order mark")
            return None
        _add(report, "BAG028", rel)
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        _add(report, "BAG005", rel, offset=exc.start)
        return None


def _lines(text: str) -> list[str]:
    lines = _NEWLINE.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _read_bagit_txt(root: Path, report: Report) -> str | None:
    """The BagIt version, or None when the bag cannot be interpreted at all."""
    if not (root / "bagit.txt").is_file():
        report.add("BAG001", "bagit.txt", file=root.name)
        return None
    text = _read_text(root, "bagit.txt", report, bom_is_error=True)
    if text is None:
        return None
    lines = _lines(text)
    if len(lines) != 2:
        _add(report, "BAG002", "bagit.txt", reason=f"{len(lines)} lines instead of 2")
        return None
    found = [rx.match(line) for rx, line in zip(_BAGIT_LINES, lines, strict=True)]
    if not all(found):
        bad = next(line for m, line in zip(found, lines, strict=True) if not m)
        _add(report, "BAG002", "bagit.txt", reason=f"unexpected line {bad[:80]!r}")
        return None
    version, encoding = found[0][1], found[1][1]  # type: ignore[index]
    if version not in VERSIONS:
        _add(report, "BAG003", "bagit.txt", version=version)
    if encoding.lower() != "utf-8":
        _add(report, "BAG004", "bagit.txt", encoding=encoding)
    return version if report.ok else None


_SURROGATE = re.compile("[\ud800-\udfff]")  # an undecodable name, as os.fsdecode gives it


def _walk(root: Path, report: Report) -> tuple[dict[str, int], list[str]]:
    """Sizes of payload files and the names of tag files, from one walk that follows no link."""
    payload: dict[str, int] = {}
    tags: list[str] = []
    seen: dict[str, str] = {}
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
            other = seen.setdefault(unicodedata.normalize("NFC", rel), rel)
            if other != rel:
                _add(report, "BAG023", rel, other=other)
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
            else:
                tags.append(rel)
    if not (root / "data").is_dir() or (root / "data").is_symlink():
        _add(report, "BAG026", "data")
    tags.sort()
    return payload, tags


def _read_bag_info(root: Path, tag_files: list[str], report: Report) -> dict[str, tuple[str, ...]]:
    """Labelled elements of ``bag-info.txt``; continuation lines are joined with one space."""
    if "bag-info.txt" not in tag_files:
        return {}
    text = _read_text(root, "bag-info.txt", report)
    if text is None:
        return {}
    elements: list[list[str]] = []
    for number, line in enumerate(_lines(text), 1):
        if not line.strip():
            continue
        if line[0] in " \t":
            if not elements:
                _add(report, "BAG006", "bag-info.txt", line=number, reason="continuation without a label")
            else:
                elements[-1][1] += " " + line.strip()
            continue
        label, colon, value = line.partition(":")
        if not colon or not label or label != label.strip():
            reason = "no colon" if not colon else "empty label or spaces around it"
            _add(report, "BAG006", "bag-info.txt", line=number, reason=reason)
            continue
        elements.append([label, value.strip()])
    info: dict[str, list[str]] = {}
    for label, value in elements:
        info.setdefault(label, []).append(value)
    return {k: tuple(v) for k, v in info.items()}


def _decode_path(raw: str) -> str:
    return _PCT.sub(lambda m: chr(int(m[1], 16)), raw)


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


def _read_manifests(root: Path, tag_files: list[str], report: Report
                    ) -> dict[tuple[bool, str], dict[str, str]]:
    """(is_tag, algorithm) -> {path: digest} for every manifest with a supported algorithm."""
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
        text = _read_text(root, name, report)
        entries: dict[str, str] = {}
        for number, line in enumerate(_lines(text or ""), 1):
            if not line.strip():
                continue
            found = _ENTRY.match(line)
            if not found:
                _add(report, "BAG012", name, line=number, reason="expected '<digest> <path>'")
                continue
            digest, path = found[1].lower(), _decode_path(found[2])
            if len(digest) != DIGEST_LENGTHS[alg] or not re.fullmatch(r"[0-9a-f]+", digest):
                _add(report, "BAG031", name, digest=found[1][:140], line=number, algorithm=alg,
                           length=DIGEST_LENGTHS[alg])
                continue
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
                code = "BAG015" if entries[path] == digest else "BAG016"
                _add(report, code, path, manifest=name)
                continue
            entries[path] = digest
        manifests[(tag, alg)] = entries
    if not payload_seen:
        _add(report, "BAG009")
    return manifests


def _read_fetch(root: Path, tag_files: list[str], report: Report) -> tuple[FetchEntry, ...]:
    if "fetch.txt" not in tag_files:
        return ()
    entries: list[FetchEntry] = []
    for number, line in enumerate(_lines(_read_text(root, "fetch.txt", report) or ""), 1):
        if not line.strip():
            continue
        parts = line.split(None, 2)
        if len(parts) != 3 or not (parts[1] == "-" or parts[1].isdigit()):
            _add(report, "BAG022", "fetch.txt", line=number, reason="expected 'URL length path'")
            continue
        path = _decode_path(parts[2])
        if _unsafe(path) or not path.startswith("data/"):
            _add(report, "BAG022", "fetch.txt", line=number, reason=f"path {path!r} not under data/")
            continue
        entries.append(FetchEntry(parts[0], None if parts[1] == "-" else int(parts[1]), path))
    _add(report, "BAG021", "fetch.txt", count=len(entries))
    return tuple(entries)


def _check_oxum(info: Mapping[str, tuple[str, ...]], payload: dict[str, int], report: Report) -> None:
    values = info.get("Payload-Oxum", ())
    if len(values) > 1:
        _add(report, "BAG029", "bag-info.txt", label="Payload-Oxum", count=len(values))
        return
    if not values:
        return
    m = re.fullmatch(r"(\d+)\.(\d+)", values[0])
    if not m:
        _add(report, "BAG007", "bag-info.txt", value=values[0][:80])
        return
    found = f"{sum(payload.values())}.{len(payload)}"
    if (int(m[1]), int(m[2])) != (sum(payload.values()), len(payload)):
        _add(report, "BAG008", "bag-info.txt", expected=values[0], found=found)


def _match(manifests: dict[tuple[bool, str], dict[str, str]], payload: Mapping[str, int],
           tag_files: set[str], report: Report) -> dict[tuple[bool, str], dict[str, str]]:
    """Completeness: map manifest paths to files on disk (NFC-tolerant) and report gaps."""
    nfc_payload = {unicodedata.normalize("NFC", p): p for p in payload}
    nfc_tags = {unicodedata.normalize("NFC", p): p for p in tag_files}
    resolved: dict[tuple[bool, str], dict[str, str]] = {}
    for (tag, alg), entries in sorted(manifests.items()):
        name = f"{'tag' if tag else ''}manifest-{alg}.txt"
        present, by_nfc = (tag_files, nfc_tags) if tag else (payload, nfc_payload)
        mapped: dict[str, str] = {}
        for path, digest in entries.items():
            disk = by_nfc.get(unicodedata.normalize("NFC", path))
            if path in present and disk != path:
                disk = path
            # ``disk`` is the walk's own string when the names match: the manifest's copy of
            # every path need not be kept
            if disk is None:
                _add(report, "BAG017", path, manifest=name)
                continue
            if disk != path:
                _add(report, "BAG033", path, manifest=name)
            mapped[disk] = digest
        if not tag:
            for path in sorted(set(payload) - set(mapped)):
                _add(report, "BAG018", path, manifest=name)
        resolved[(tag, alg)] = mapped
    return resolved


def _hash_all(root: Path, entries: Mapping[tuple[bool, str], Mapping[str, str]], processes: int,
              report: Report) -> dict[str, dict[str, str]]:
    """Digests for every listed file, each file read once for all its algorithms.

    ``processes`` counts worker threads (named as in bagit-python): hashlib and file reads release
    the GIL, so threads scale like processes here (measured) without forking a multi-threaded
    worker or pickling results.
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

