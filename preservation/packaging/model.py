"""What a METS writer needs to know about a file: where it is, how big, its digest, its type.

Paths are package-relative POSIX (``representations/rep1/data/a.pdf``) everywhere in Python; the
rep1 METS writer and reader translate to and from rep1-relative hrefs. Digests are lowercase hex
inside khoso (as bag manifests and ``hashlib`` give them) and printed upper-case in METS (§5.3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from preservation.events import new_uuid

ICT = dt.timezone(dt.timedelta(hours=7), "ICT")
REP1 = "representations/rep1/"
CHUNK = 1 << 20
# Folders whose files a SIP hands on and the AIP keeps unchanged, in the same place (TT 05
# §5.2, E-ARK CSIP): documentation is listed in its METS's Documentation group, other metadata
# as a techMD of its METS (see ``packaging.mets``).
DOCUMENTATION = ("documentation/", REP1 + "documentation/")
OTHER_METADATA = ("metadata/other/", REP1 + "metadata/other/")
CARRIED = DOCUMENTATION + OTHER_METADATA

# §5.5 (PL I–V mimetype table); anything else is application/octet-stream.
MIME_TYPES = {
    ".txt": "text/plain", ".rtf": "application/rtf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pdf": "application/pdf", ".doc": "application/msword",
    ".odt": "application/vnd.oasis.opendocument.text", ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel", ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".htm": "text/html", ".html": "text/html",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".ppt": "application/vnd.ms-powerpoint",
    ".odp": "application/vnd.oasis.opendocument.presentation",
    ".jpeg": "image/jpeg", ".jpg": "image/jpeg", ".gif": "image/gif", ".tif": "image/tiff",
    ".tiff": "image/tiff", ".png": "image/png", ".mpeg": "video/mpeg", ".mpg": "video/mpeg",
    ".mp4": "video/mp4", ".avi": "video/x-msvideo", ".wmv": "video/x-ms-wmv",
    ".mov": "video/quicktime", ".qt": "video/quicktime", ".mp3": "audio/mpeg",
    ".wma": "audio/x-ms-wma", ".aac": "audio/aac", ".xml": "text/xml",
    ".xsd": "application/octet-stream",
}


def nfc(path: str) -> str:
    """``path`` in Unicode NFC: the form khoso stores and names files in (macOS writes NFD)."""
    return path if path.isascii() else unicodedata.normalize("NFC", path)


def new_id(prefix: str = "ID-") -> str:
    """``ID-{UUID}`` for METS files, ``uuid-{UUID}`` for sections (§4.2); upper-case UUID."""
    return f"{prefix}{new_uuid().upper()}"


def timestamp(value: dt.datetime) -> str:
    """``2026-06-12T11:45:37.690+07:00``: milliseconds, Vietnam offset, never ``Z`` (§4.2).

    A naive datetime is taken as already in ICT; an aware one is converted."""
    local = value.replace(tzinfo=ICT) if value.tzinfo is None else value.astimezone(ICT)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{local.microsecond // 1000:03d}+07:00"


def now() -> dt.datetime:
    return dt.datetime.now(ICT)


def mime_for(path: str) -> str:
    return MIME_TYPES.get(PurePosixPath(path).suffix.lower(), "application/octet-stream")


# The formats of the metadata files khoso writes into a package (METS, EAD, PREMIS; the XSDs it
# ships), as siegfried names them: known by construction, so they are not identified.
OWN_FORMATS = {".xml": ("fmt/101", "Extensible Markup Language"),
               ".xsd": ("x-fmt/280", "XML Schema Definition")}


def own_format(path: str) -> tuple[str | None, str | None]:
    """(PUID, format name) of a metadata file khoso wrote; (None, None) for anything else."""
    return OWN_FORMATS.get(PurePosixPath(path).suffix.lower(), (None, None))


@dataclass(frozen=True, slots=True)  # one per file of a 100,000-file package
class FileEntry:
    """One file as METS lists it (a ``file`` or an ``mdRef``)."""

    path: str
    size: int
    sha256: str
    mime: str
    created: dt.datetime
    id: str = field(default_factory=new_id)

    def __post_init__(self) -> None:
        if not self.sha256.islower():  # lower() copies even a lowercase digest
            object.__setattr__(self, "sha256", self.sha256.lower())


@dataclass(frozen=True, slots=True)
class DocumentEntry:
    """One document: its EAD_doc/pic/media file and the data file(s) it describes.

    ``dmd_id`` names its dmdSec in rep1 METS; ``adm_id`` is what the reader found on its div
    (the writer points AIP documents at the rep1 PREMIS digiprovMD when it is ``None``)."""

    ead: FileEntry
    files: tuple[FileEntry, ...]
    dmd_id: str = field(default_factory=lambda: new_id("uuid-"))
    adm_id: str | None = None


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_entry(root: Path, relative: str, *, created: dt.datetime | None = None,
               sha256: str | None = None, mime: str | None = None) -> FileEntry:
    """Describe ``root/relative``, hashing it unless the digest is already known."""
    path = root / relative
    return FileEntry(
        path=relative,
        size=path.stat().st_size,
        sha256=sha256 or sha256_file(path),
        mime=mime or mime_for(relative),
        created=created or now(),
    )
