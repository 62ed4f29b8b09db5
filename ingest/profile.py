"""bagit-profiles 1.4 checks (``PRF0xx``): does a bag follow the agreement it was made under?

Runs after (or with) :func:`ingest.bag.validate_bag`; RFC 8493 problems stay ``BAG`` issues, this
module only judges what the profile adds. Serialisation is judged from how the bag arrived
(``kind``: ``dir``, ``zip``, ``tar`` or ``tgz``), which only the receiver knows.

``Khoso-*`` keys extend the spec where a profile cannot say what the archive needs: at least one
payload (``Khoso-Manifests-Required-Any``) or tag manifest (``Khoso-Tag-Manifests-Required-Any``)
with a listed algorithm; tag files only in the listed encodings
(``Khoso-Tag-File-Character-Encoding``, e.g. ``["UTF-8"]``); no two names equal after Unicode NFC
normalisation (``Khoso-Allow-Normalisation-Duplicates: false``), which the RFC validator only
warns. Other tools ignore unknown keys, so the profiles stay valid 1.4 JSON. A bag that lacks
files ``fetch.txt`` lists never passes a profile: khoso never fetches.
Glob patterns (``*-Files-Allowed``) use :func:`fnmatch.fnmatchcase`, where ``*`` also matches ``/``.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ingest.bag import BagReport, validate_bag
from ingest.unpack import ArchiveKind
from preservation.issues import Report

SERIALIZATION_MIME: Mapping[str, frozenset[str]] = {
    "zip": frozenset({"application/zip", "application/x-zip-compressed"}),
    "tar": frozenset({"application/x-tar", "application/tar"}),
    "tgz": frozenset({"application/gzip", "application/x-gzip", "application/tar+gzip",
                      "application/x-gtar", "application/x-compressed-tar"}),
}
_INFO_REQUIRED = ("BagIt-Profile-Identifier", "Source-Organization", "External-Description", "Version")
_MANIFEST = re.compile(r"^(tag)?manifest-([A-Za-z0-9]+)\.txt$")
_ALWAYS_ALLOWED_TAGS = ("bagit.txt", "bag-info.txt", "fetch.txt")


def _add(report: Report, code: str, path: str = "", **params: object) -> None:
    """``report.add`` that also hands the path to the message template (``{file}``)."""
    report.add(code, path, file=path, **params)


def profile_identifier(profile: Mapping[str, Any]) -> str | None:
    info = profile.get("BagIt-Profile-Info")
    return info.get("BagIt-Profile-Identifier") if isinstance(info, Mapping) else None


def check_profile_document(profile: Mapping[str, Any], report: Report) -> bool:
    """The profile itself must be usable; a broken agreement must not pass bags silently."""
    info = profile.get("BagIt-Profile-Info")
    if not isinstance(info, Mapping):
        _add(report, "PRF001", reason="BagIt-Profile-Info missing")
        return False
    missing = [k for k in _INFO_REQUIRED if not info.get(k)]
    if missing:
        _add(report, "PRF001", reason=f"BagIt-Profile-Info lacks {', '.join(missing)}")
    versions = profile.get("Accept-BagIt-Version")
    if not isinstance(versions, list) or not versions:
        _add(report, "PRF001", reason="Accept-BagIt-Version must list at least one version")
    serialization = profile.get("Serialization", "optional")
    if serialization not in ("forbidden", "required", "optional"):
        _add(report, "PRF001", reason=f"Serialization {serialization!r}")
    elif serialization != "forbidden" and not profile.get("Accept-Serialization"):
        _add(report, "PRF001", reason="Accept-Serialization is empty")
    if not isinstance(profile.get("Bag-Info", {}), Mapping):
        _add(report, "PRF001", reason="Bag-Info must be an object")
    encodings = profile.get("Khoso-Tag-File-Character-Encoding") or []
    if not isinstance(encodings, list) or not all(isinstance(n, str) for n in encodings):
        _add(report, "PRF001", reason="Khoso-Tag-File-Character-Encoding must list encoding names")
        encodings = []
    for name in encodings:
        try:
            codecs.lookup(name)
        except LookupError:
            _add(report, "PRF001", reason=f"Khoso-Tag-File-Character-Encoding: unknown {name!r}")
    return report.ok


def validate_profile(bag: BagReport | Path, profile: Mapping[str, Any], *,
                     kind: ArchiveKind = "dir") -> Report:
    """Every profile problem of ``bag`` (a report, or a path checked with ``fast=True``)."""
    report = Report()
    if not check_profile_document(profile, report):
        return report
    if isinstance(bag, Path):
        bag = validate_bag(bag, fast=True)
    _serialization(profile, kind, report)
    if bag.version is None:
        return report  # not a readable bag: the BAG issues say why
    allowed = profile["Accept-BagIt-Version"]
    if bag.version not in allowed:
        _add(report, "PRF018", "bagit.txt", version=bag.version, allowed=", ".join(allowed))
    _bag_info(bag, profile, report)
    _manifests(bag, profile, report)
    _tag_files(bag, profile, report)
    _payload(bag, profile, report)
    has_fetch = "fetch.txt" in bag.tag_files
    if has_fetch and not profile.get("Allow-Fetch.txt", True):
        _add(report, "PRF013", "fetch.txt")
    elif bag.missing:
        _add(report, "PRF096", bag.missing[0].path, count=len(bag.missing))
    _encoding(bag, profile, report)
    if not profile.get("Khoso-Allow-Normalisation-Duplicates", True):
        for path in bag.nfc_clashes:
            _add(report, "PRF095", path)
    if not has_fetch and profile.get("Fetch.txt-Required", False):
        _add(report, "PRF014", "fetch.txt")
    return report


def _encoding(bag: BagReport, profile: Mapping[str, Any], report: Report) -> None:
    accepted = profile.get("Khoso-Tag-File-Character-Encoding")
    if not accepted:
        return
    names = {codecs.lookup(name).name for name in accepted}  # checked with the document
    if codecs.lookup(bag.encoding).name not in names:  # a readable bag's encoding is known
        _add(report, "PRF094", "bagit.txt", encoding=bag.encoding, allowed=", ".join(accepted))


def _serialization(profile: Mapping[str, Any], kind: ArchiveKind, report: Report) -> None:
    mode = profile.get("Serialization", "optional")
    accepted = list(profile.get("Accept-Serialization", []))
    if kind == "dir":
        if mode == "required":
            _add(report, "PRF016", allowed=", ".join(accepted))
        return
    if mode == "forbidden":
        _add(report, "PRF015", kind=kind)
    elif not SERIALIZATION_MIME[kind] & set(accepted):
        _add(report, "PRF017", kind=kind, allowed=", ".join(accepted))


def _bag_info(bag: BagReport, profile: Mapping[str, Any], report: Report) -> None:
    name = bag.info_file  # package-info.txt in a bag of BagIt 0.93 to 0.95
    if name not in bag.tag_files:
        _add(report, "PRF022", name)
        return
    expected = profile_identifier(profile)
    ids = bag.info.get("BagIt-Profile-Identifier", ())
    if not ids:
        _add(report, "PRF002", name, expected=expected)
    elif expected not in ids:
        _add(report, "PRF003", name, value=ids[0], expected=expected)
    for label, rule in profile.get("Bag-Info", {}).items():
        values = bag.info.get(label, ())
        if rule.get("required", False) and not any(v.strip() for v in values):
            _add(report, "PRF004", name, label=label)
        if not rule.get("repeatable", True) and len(values) > 1:
            _add(report, "PRF006", name, label=label, count=len(values))
        allowed = rule.get("values") or []
        for value in values:
            if allowed and value not in allowed:
                _add(report, "PRF005", name, label=label, value=value, allowed=", ".join(allowed))


def _manifests(bag: BagReport, profile: Mapping[str, Any], report: Report) -> None:
    present: dict[bool, set[str]] = {False: set(), True: set()}
    for name in bag.tag_files:
        m = _MANIFEST.match(name)
        if m:
            present[bool(m[1])].add(m[2])
    for tag, (req, allow, any_key, c_req, c_allow, c_any) in {
        False: ("Manifests-Required", "Manifests-Allowed", "Khoso-Manifests-Required-Any",
                "PRF007", "PRF008", "PRF023"),
        True: ("Tag-Manifests-Required", "Tag-Manifests-Allowed", "Khoso-Tag-Manifests-Required-Any",
               "PRF009", "PRF010", "PRF024"),
    }.items():
        prefix = "tagmanifest" if tag else "manifest"
        for alg in profile.get(req, []):
            if alg not in present[tag]:
                _add(report, c_req, f"{prefix}-{alg}.txt", algorithm=alg)
        allowed = profile.get(allow)
        if allowed is not None:
            for alg in sorted(present[tag] - set(allowed)):
                _add(report, c_allow, f"{prefix}-{alg}.txt", algorithm=alg, allowed=", ".join(allowed))
        choices = profile.get(any_key)
        if choices and not present[tag] & set(choices):
            _add(report, c_any, allowed=", ".join(choices))


def _tag_files(bag: BagReport, profile: Mapping[str, Any], report: Report) -> None:
    for path in profile.get("Tag-Files-Required", []):
        if path not in bag.tag_files:
            _add(report, "PRF011", path)
    patterns = profile.get("Tag-Files-Allowed")
    if patterns is None:
        return
    for path in bag.tag_files:
        if path in _ALWAYS_ALLOWED_TAGS or _MANIFEST.match(path):
            continue
        if not any(fnmatchcase(path, p) for p in patterns):
            _add(report, "PRF012", path)


def _payload(bag: BagReport, profile: Mapping[str, Any], report: Report) -> None:
    for required in profile.get("Payload-Files-Required", []):
        folder = required.rstrip("/") + "/"
        if required not in bag.files and not any(p.startswith(folder) for p in bag.files):
            _add(report, "PRF019", required)
    patterns = profile.get("Payload-Files-Allowed")
    if patterns is not None:
        for path in bag.files:
            if not any(fnmatchcase(path, p) for p in patterns):
                _add(report, "PRF020", path)
    if profile.get("Data-Empty", False):
        sizes = [f.size for f in bag.files.values()]
        if len(sizes) > 1 or (sizes and sizes[0] != 0):
            _add(report, "PRF021", "data")
