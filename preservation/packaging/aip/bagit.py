"""BagIt (RFC 8493) tag files, written and read in one place.

Writers give the exact bytes khoso has always written (``Label: value`` lines, two spaces
between digest and path, LF line ends, UTF-8). Readers are liberal in what the SIP validator
(:mod:`ingest.bag`) must accept from other tools (CR, LF or CRLF line ends, a tab between digest
and path, md5sum's ``*`` marker) and report what they cannot read as data, never by raising
in the middle of a file, so each caller keeps its own issue codes.

Paths in manifests and fetch.txt: RFC 8493 §2.1.3 and §2.2.3 percent-encode CR, LF and ``%``
(and only those), and every writer here does. AIPs written before 2026-12-07 listed manifest
paths as they are, so a name holding ``%25``, ``%0A`` or ``%0D`` read back decoded names another
file: ``parse_aip_manifest`` reads both forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

BAGIT_TXT = "bagit.txt"
BAG_INFO = "bag-info.txt"
FETCH_TXT = "fetch.txt"
MANIFEST = "manifest-sha256.txt"
TAGMANIFEST = "tagmanifest-sha256.txt"
SIGNATURE = f"{TAGMANIFEST}.p7s"
BAGIT_VERSION = "1.0"
ENCODING = "UTF-8"

_PCT = re.compile(r"%(0[AaDd]|25)")
_PCT_CRLF = re.compile(r"%(0[AaDd])")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_ENTRY = re.compile(r"^(\S+)[ \t]+(.+)$")
_BAGIT_LINES = (re.compile(r"^BagIt-Version: (\d+\.\d+)$"),
                re.compile(r"^Tag-File-Character-Encoding: (\S+)$"))
_BAD_VALUE = re.compile(r"[\r\n]")


# -- paths and lines -------------------------------------------------------------------------

def encode_path(path: str) -> str:
    """RFC 8493 §2.1.3: CR, LF and ``%`` in a manifest or fetch.txt path, percent-encoded."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(raw: str) -> str:
    """The inverse of ``encode_path`` (either case of hex digit); other ``%`` stay as they are."""
    return _PCT.sub(lambda m: chr(int(m[1], 16)), raw)


def decode_path_liberally(raw: str, exists: Callable[[str], bool]) -> str:
    """``decode_path``, unless that names no file (``exists``) while decoding CR and LF alone
    does: BagIt 0.97 encoded only those, and bagit-python still writes so, so a ``%25`` in such
    a bag's path is the file name's own."""
    path = decode_path(raw)
    if path != raw and "%" in raw and not exists(path):
        older = _PCT_CRLF.sub(lambda m: chr(int(m[1], 16)), raw)
        if exists(older):
            return older
    return path


def split_lines(text: str) -> list[str]:
    """Lines ended by CRLF, CR or LF (not the other breaks ``str.splitlines`` knows, which a
    value may hold); a final line end does not make an empty last line."""
    lines = _NEWLINE.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


# -- bagit.txt -------------------------------------------------------------------------------

def bagit_txt(version: str = BAGIT_VERSION, encoding: str = ENCODING) -> str:
    return f"BagIt-Version: {version}\nTag-File-Character-Encoding: {encoding}\n"


def parse_bagit_txt(text: str) -> tuple[str, str]:
    """(BagIt-Version, Tag-File-Character-Encoding) as declared, unchecked: exactly two lines
    ``Label: value`` in this order (RFC 8493 §2.1.1); ``ValueError`` with the reason else."""
    lines = split_lines(text)
    if len(lines) != 2:
        raise ValueError(f"{len(lines)} lines instead of 2")
    found = [rx.match(line) for rx, line in zip(_BAGIT_LINES, lines, strict=True)]
    for m, line in zip(found, lines, strict=True):
        if m is None:
            raise ValueError(f"unexpected line {line[:80]!r}")
    return found[0][1], found[1][1]  # type: ignore[index]


# -- bag-info.txt ----------------------------------------------------------------------------

def bag_info(elements: Iterable[tuple[str, str]]) -> str:
    """``Label: value`` lines in the order given (labels may repeat). A value is written as it
    is: one holding CR or LF, or a label that could not be read back, is refused
    (``ValueError``) rather than written as a line that reads back as something else."""
    lines = []
    for label, value in elements:
        if not label or label != label.strip() or ":" in label or _BAD_VALUE.search(label):
            raise ValueError(f"not a bag-info label: {label!r}")
        if _BAD_VALUE.search(value):
            raise ValueError(f"bag-info value of {label} holds a line break")
        lines.append(f"{label}: {value}\n")
    return "".join(lines)


SPACE_BEFORE_COLON = "space before colon"  # allowed before BagIt 1.0, read the same way


@dataclass(frozen=True)
class InfoNote:
    """A bag-info line read with a remark: ``reason`` is ``SPACE_BEFORE_COLON`` (the element was
    kept), else why the line was skipped."""

    line: int
    reason: str
    label: str = ""


@dataclass(frozen=True)
class BagInfo:
    elements: tuple[tuple[str, str], ...]  # (label, value) in file order
    notes: tuple[InfoNote, ...] = ()  # in line order

    def values(self, label: str) -> tuple[str, ...]:
        return tuple(v for k, v in self.elements if k == label)

    def first(self, label: str) -> str | None:
        return next((v for k, v in self.elements if k == label), None)

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        """label -> its values in order, labels in order of first appearance."""
        out: dict[str, list[str]] = {}
        for label, value in self.elements:
            out.setdefault(label, []).append(value)
        return {k: tuple(v) for k, v in out.items()}


def parse_bag_info(text: str) -> BagInfo:
    """Labelled elements; continuation lines (starting with a space or tab) are joined with one
    space, blank lines skipped, label and value stripped. A line without a colon, with an empty
    label, or a continuation before any label is skipped with a note."""
    elements: list[list[str]] = []
    notes: list[InfoNote] = []
    for number, line in enumerate(split_lines(text), 1):
        if not line.strip():
            continue
        if line[0] in " \t":
            if not elements:
                notes.append(InfoNote(number, "continuation without a label"))
            else:
                elements[-1][1] += " " + line.strip()
            continue
        label, colon, value = line.partition(":")
        if not colon or not label.strip():
            notes.append(InfoNote(number, "no colon" if not colon else "empty label"))
            continue
        if label != label.rstrip():
            notes.append(InfoNote(number, SPACE_BEFORE_COLON, label.strip()))
        elements.append([label.strip(), value.strip()])
    return BagInfo(tuple((k, v) for k, v in elements), tuple(notes))


def payload_oxum(octets: int, count: int) -> str:
    return f"{octets}.{count}"


# -- manifests -------------------------------------------------------------------------------

def manifest_line(digest: str, path: str, *, encode: bool = True) -> str:
    """``digest  path`` (two spaces, as sha256sum writes), the path encoded unless told not."""
    return f"{digest}  {encode_path(path) if encode else path}\n"


def manifest(entries: Iterable[tuple[str, str]], *, encode: bool = True) -> str:
    """The lines of (path, digest) pairs in the order given."""
    return "".join(manifest_line(d, p, encode=encode) for p, d in entries)


def parse_manifest_line(line: str) -> tuple[str, str] | None:
    """(digest, path) as written, undecoded and unchecked; None when the line is not
    ``<digest> <path>``."""
    found = _ENTRY.match(line)
    return (found[1], found[2]) if found else None


def parse_manifest(text: str, *, decode: bool = True) -> dict[str, str]:
    """path -> lower-case digest; md5sum's ``*`` marker dropped, unreadable lines skipped (a
    caller that must name them reads line by line with ``parse_manifest_line``)."""
    out: dict[str, str] = {}
    for line in split_lines(text):
        entry = parse_manifest_line(line)
        if entry is None:
            continue
        raw = entry[1].removeprefix("*")
        if raw:
            out[decode_path(raw) if decode else raw] = entry[0].lower()
    return out


def parse_aip_manifest(text: str, exists: Callable[[str], bool]) -> dict[str, str]:
    """An AIP manifest (``parse_manifest``), read as a whole in the form that names its files.

    khoso writes a manifest either all encoded (since 2026-12-07) or all as is (before), so one
    reading holds for every line: decoded, unless that names a file that is not there (``exists``)
    or names one file twice (``a%`` and, as written before, ``a%25``) while the paths as written
    name more of the files."""
    raw = parse_manifest(text, decode=False)
    decoded: dict[str, str] = {}
    for path, digest in raw.items():
        decoded.setdefault(decode_path(path), digest)
    if len(decoded) == len(raw) and all(exists(p) for p in decoded):
        return decoded
    if sum(map(exists, raw)) > sum(map(exists, decoded)) or len(decoded) < len(raw):
        return raw
    return decoded


# -- fetch.txt -------------------------------------------------------------------------------

class FetchLine(NamedTuple):
    """One fetch.txt line as written: a field the line lacks is empty, for the caller to refuse."""

    url: str
    length: str  # decimal octets, or "-" when unknown
    path: str  # decoded

    @property
    def well_formed(self) -> bool:
        return bool(self.path) and (self.length == "-" or self.length.isdecimal())

    @property
    def size(self) -> int | None:
        """The length in octets; None when unknown (``-``) or not a number."""
        return int(self.length) if self.length.isdecimal() else None


def fetch_line(url: str, size: int | None, path: str) -> str:
    return f"{url} {'-' if size is None else size} {encode_path(path)}\n"


def parse_fetch_line(line: str) -> FetchLine:
    """``url length path`` split on the first two runs of white space, the path decoded."""
    url, length, path = (line.split(None, 2) + ["", ""])[:3]
    return FetchLine(url, length, decode_path(path))


def parse_fetch(text: str) -> list[FetchLine]:
    """Every non-blank line (``parse_fetch_line``)."""
    return [parse_fetch_line(line) for line in split_lines(text) if line.strip()]


# -- the AIP's bag-info.txt ------------------------------------------------------------------

SOURCE_ORGANIZATION = "Source-Organization"
PACKAGE_TYPE = "Package-Type"
EXTERNAL_IDENTIFIER = "External-Identifier"
BAGGING_DATE = "Bagging-Date"
PAYLOAD_OXUM = "Payload-Oxum"
ORGAN_ID = "Ma-Dinh-Danh-Co-Quan"  # the submitting agency's mã định danh (QĐ 20/2020)
SOFTWARE_AGENT = "Bag-Software-Agent"
AIP_VERSION = "Khoso-AIP-Version"
PREVIOUS_VERSION = "Khoso-Previous-Version"
AIP_TYPE_PREFIX = "AIP_"


def aip_package_type(content: str) -> str:
    """``AIP_hoso`` / ``AIP_tailieu`` (TT 05's package kinds)."""
    return f"{AIP_TYPE_PREFIX}{content}"


def aip_content(package_type: str) -> str:
    """The inverse of ``aip_package_type`` (unchecked: the caller refuses an unknown kind)."""
    return package_type.removeprefix(AIP_TYPE_PREFIX)


def aip_bag_info(*, source_organization: str, content: str, objid: str, bagging_date: str,
                 octets: int, count: int, organ_id: str | None, software: str,
                 version: int | None = None, previous: str | None = None) -> str:
    """An AIP's bag-info.txt. ``version``/``previous`` (``../vN``) only for a metadata version
    (v2 and later)."""
    return bag_info([
        (SOURCE_ORGANIZATION, source_organization),
        (PACKAGE_TYPE, aip_package_type(content)),
        (EXTERNAL_IDENTIFIER, objid),
        (BAGGING_DATE, bagging_date),
        (PAYLOAD_OXUM, payload_oxum(octets, count)),
        *([(ORGAN_ID, organ_id)] if organ_id else []),
        (SOFTWARE_AGENT, software),
        *([(AIP_VERSION, str(version))] if version is not None else []),
        *([(PREVIOUS_VERSION, previous)] if previous is not None else []),
    ])
