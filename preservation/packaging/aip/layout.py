"""Where an AIP and its catalog sidecars live in a storage location (the key layout).

Every AIP version is a BagIt bag under one key prefix::

    {archive}/{fonds}/{code}/v{N}/…              the bag of version N (write-once)
    {archive}/{fonds}/{code}/_events/…           sidecar event batches of every version
    {archive}/{fonds}/_fonds.json                fonds snapshot
    {archive}/_agencies/{organ_id}.json          agency snapshot
    {archive}/_rejections/{job_id}.json          a rejected SIP's record
    {archive}/_audit/{first}-{last}-{hash8}.jsonl  audit-log entries first..last

``{code}`` is the arcFileCode with ``/`` turned into ``_`` (a notation like ``12/QĐ-UBND``
would otherwise open folders). ``{archive}/{fonds}/{code}`` is the package *entity*: the
versions of one package share it, and a metadata version fetches unchanged files from a lower
version of the same entity. No key segment of an AIP starts with ``_``, so sidecars never
collide with AIPs. This module builds and parses every one of these keys; nothing else spells
them out.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

FONDS_FILE = "_fonds.json"
AGENCIES_DIR = "_agencies"
EVENTS_DIR = "_events"
REJECTIONS_DIR = "_rejections"
AUDIT_DIR = "_audit"
_JOB = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_AUDIT_BATCH = re.compile(r"(\d{12})-(\d{12})-[0-9a-f]{8}\.jsonl")
SIDECAR_MARK = "_"  # sidecar segments start with it; AIP segments never do
_VERSION = re.compile(r"v(\d+)")


def code_segment(arc_file_code: str) -> str:
    """The key segment of an arcFileCode (``/`` would open a folder)."""
    return arc_file_code.replace("/", "_")


def version_folder(version: int) -> str:
    """``v2``: the folder of version ``version`` below the entity."""
    return f"v{version}"


def parse_version_folder(segment: str) -> int | None:
    """``v2`` → 2; None when ``segment`` is not a version folder."""
    m = _VERSION.fullmatch(segment)
    return int(m[1]) if m else None


def is_version_folder(segment: str) -> bool:
    return _VERSION.fullmatch(segment) is not None


def split_package_prefix(key_prefix: str) -> tuple[str, int]:
    """``TTLTNA/P623/TTLTNA.X/v2`` → (``TTLTNA/P623/TTLTNA.X``, 2): the entity and its version.

    A trailing ``/`` is allowed; ``ValueError`` when the last segment is not ``vN`` or there is
    no entity before it."""
    entity, _, last = key_prefix.rstrip("/").rpartition("/")
    version = parse_version_folder(last)
    if not entity or version is None:
        raise ValueError(f"not a package key prefix (…/vN): {key_prefix!r}")
    return entity, version


def version_prefix(entity: str, version: int) -> str:
    """The key prefix of version ``version`` of the package ``entity``."""
    return f"{entity}/{version_folder(version)}"


def relative_version_path(version: int, path: str) -> str:
    """``../v1/data/…``: ``path`` of version ``version`` as seen from a sibling version (the
    relative reference a metadata version's fetch.txt and bag-info use)."""
    return f"../{version_folder(version)}/{path}" if path else f"../{version_folder(version)}"


@dataclass(frozen=True, slots=True)
class PackageKey:
    """One AIP version's place: ``{archive}/{fonds}/{code}/v{version}``."""

    archive: str
    fonds: str
    code: str  # the key segment (``code_segment`` of the arcFileCode)
    version: int = 1

    @classmethod
    def of(cls, archive: str, fonds: str, arc_file_code: str, version: int = 1) -> PackageKey:
        """The key of the AIP filed with this arcFileCode."""
        return cls(archive, fonds, code_segment(arc_file_code), version)

    @classmethod
    def parse(cls, prefix: str) -> PackageKey:
        """The inverse of ``prefix``; ``ValueError`` for anything else (a trailing ``/`` is
        allowed)."""
        entity, version = split_package_prefix(prefix)
        parts = entity.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"not a package key prefix ({{archive}}/{{fonds}}/{{code}}/vN): "
                             f"{prefix!r}")
        return cls(parts[0], parts[1], parts[2], version)

    @property
    def entity(self) -> str:
        """What every version of the package shares: ``{archive}/{fonds}/{code}``."""
        return f"{self.archive}/{self.fonds}/{self.code}"

    @property
    def prefix(self) -> str:
        return version_prefix(self.entity, self.version)

    def at(self, version: int) -> PackageKey:
        """The same package at another version."""
        return PackageKey(self.archive, self.fonds, self.code, version)


def aip_key_prefix(archive: str, fonds: str, arc_file_code: str) -> str:
    """Where an AIP's first version lives on every replica."""
    return PackageKey.of(archive, fonds, arc_file_code).prefix


def split_aip_key(key: str) -> tuple[str, str] | None:
    """``A/P1/C1/v1/data/x.pdf`` → (``A/P1/C1/v1``, ``data/x.pdf``): an object of an AIP
    version and its bag path; None for a sidecar or anything else."""
    parts = key.split("/", 4)
    if len(parts) == 5 and all(parts[:3]) and is_version_folder(parts[3]) \
            and not parts[1].startswith(SIDECAR_MARK):
        return "/".join(parts[:4]), parts[4]
    return None


# -- fetch.txt URLs between versions -----------------------------------------------------------

def fetch_url(version: int, path: str) -> str:
    """``../v1/data/a%20b.pdf``: a relative reference (RFC 3986) from a sibling version of the
    same entity to ``path`` of version ``version``. Relative, so one fetch.txt serves every
    replica (a folder on a filesystem, a key prefix on S3)."""
    return relative_version_path(version, quote(path))


def resolve_fetch_url(prefix: str, url: str) -> str:
    """The key a fetch.txt URL of the version at ``prefix`` points to; ``ValueError`` with the
    reason unless it is a relative reference landing in a lower version ``vK`` of the same
    entity (a metadata version fetches from the version that holds the file, never further)."""
    entity, version = split_package_prefix(prefix)
    if url.startswith("/") or ":" in url.split("/", 1)[0]:
        raise ValueError("not a relative reference")
    key = posixpath.normpath(f"{prefix}/{unquote(url)}")
    head, _, rest = key.removeprefix(f"{entity}/").partition("/")
    found = parse_version_folder(head)
    if not key.startswith(f"{entity}/") or found is None or not rest:
        raise ValueError(f"resolves to {key}, outside {entity}/vK/")
    if found >= version:
        raise ValueError(f"resolves to {key}, not in a version before v{version}")
    return key


# -- sidecars --------------------------------------------------------------------------------

def fonds_key(archive_code: str, fond_code: str) -> str:
    return f"{archive_code}/{fond_code}/{FONDS_FILE}"


def agency_key(archive_code: str, organ_id: str) -> str:
    return f"{archive_code}/{AGENCIES_DIR}/{organ_id}.json"


def events_prefix(entity: str) -> str:
    """The folder of a package entity's sidecar event batches (every version's)."""
    return f"{entity}/{EVENTS_DIR}/"


def parse_agency_key(key: str) -> str | None:
    """The organ id of an agency snapshot key; None for any other key."""
    parts = key.split("/")
    if len(parts) == 3 and parts[1] == AGENCIES_DIR and parts[2].endswith(".json"):
        return parts[2].removesuffix(".json")
    return None


def parse_fonds_key(key: str) -> str | None:
    """The fonds code of a fonds snapshot key; None for any other key."""
    parts = key.split("/")
    return parts[1] if len(parts) == 3 and parts[2] == FONDS_FILE else None


def split_events_key(key: str) -> tuple[str, str] | None:
    """(entity, file name) of an object directly in an entity's events folder; None else."""
    parts = key.split("/")
    if len(parts) == 5 and parts[3] == EVENTS_DIR:
        return "/".join(parts[:3]), parts[4]
    return None


def is_job_id(text: str) -> bool:
    """A job id safe as a key segment (khoso's are UUIDs)."""
    return _JOB.fullmatch(text) is not None


def rejection_key(archive_code: str, job_id: str) -> str:
    """``{archive}/_rejections/{job_id}.json``: one rejected SIP's record."""
    if not is_job_id(job_id):
        raise ValueError(f"not a job id: {job_id!r}")
    return f"{archive_code}/{REJECTIONS_DIR}/{job_id}.json"


def parse_rejection_key(key: str) -> str | None:
    """The job id of a rejection record's key; None for any other key."""
    parts = key.split("/")
    if len(parts) == 3 and parts[1] == REJECTIONS_DIR and parts[2].endswith(".json"):
        return parts[2].removesuffix(".json")
    return None


def audit_prefix(archive_code: str) -> str:
    return f"{archive_code}/{AUDIT_DIR}/"


def audit_batch_key(archive_code: str, first: int, last: int, last_hash: str) -> str:
    """``{archive}/_audit/{first:012d}-{last:012d}-{hash8}.jsonl``: audit-log entries first..last
    (ids), named by the last one's chained hash."""
    return f"{audit_prefix(archive_code)}{first:012d}-{last:012d}-{last_hash[:8]}.jsonl"


def audit_batch_range(key: str) -> tuple[int, int] | None:
    """(first, last) entry ids of an audit-log batch key; None for any other key."""
    parts = key.split("/")
    m = _AUDIT_BATCH.fullmatch(parts[-1])
    return (int(m[1]), int(m[2])) if m and len(parts) == 3 and parts[1] == AUDIT_DIR else None


DISPOSAL_DIR = "_disposal"


def disposal_prefix(archive_code: str, case_id: str) -> str:
    """``{archive}/_disposal/{case}/``: a destruction case's file (hồ sơ hủy), kept forever."""
    return f"{archive_code}/{DISPOSAL_DIR}/{case_id}/"


def parse_disposal_key(key: str) -> str | None:
    """``{archive}/_disposal/{case}/{file}`` → the case id; None for any other key."""
    parts = key.split("/")
    if len(parts) == 4 and parts[1] == DISPOSAL_DIR and parts[2] and parts[3]:
        return parts[2]
    return None
