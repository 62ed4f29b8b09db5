"""Reading a destruction file's ``case.json`` (``{archive}/_disposal/{case}/``) back, checked, for a
catalog rebuild: what the archive destroyed must be provable from any one location.

Execution writes it (``access_api.services.disposal.execution``), write-once in every location.
Two shapes exist: the first (no ``format`` key) carries the case, the council, the decisions,
the tombstones and a summary of each deletion event; ``format`` 2 adds the catalog rows of each
destroyed hồ sơ (its hồ sơ, tài liệu and AIP versions), each case item's who and when and
each deletion event as a sidecar record with its agents. (When the execution finished is not
in it: a retried execution must write the same bytes; the audit log has it.)
A file is believed whole or not at all: ``parse_case_file`` raises ``CaseFileError`` naming the
first field that is missing, of the wrong type, or names something outside its place (a code
or key that would leave its folder).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from preservation.catalog.vocab import CouncilOpinion
from preservation.packaging.aip.layout import disposal_prefix

FORMAT = 2  # the shape new executions write (the first had no ``format`` key)
CASE_FILE = "case.json"
# the largest case (2,000 hồ sơ) with 24 files and 12 tài liệu each is 13.9 MiB and parses in
# 1.7 s (measured 2026-12-07, load average 7.7 on the shared 2-core machine)
MAX_BYTES = 64 * 2**20
CASE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SHA256 = re.compile(r"[0-9a-f]{64}")
FOND_CODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z.-]{0,19}")


class CaseFileError(ValueError):
    """``case.json`` cannot be believed: ``field`` is where, ``reason`` why (English)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class Member:
    username: str
    opinion: str | None
    comment: str | None
    opinion_at: dt.datetime | None


@dataclass(frozen=True)
class Destroyed:
    """One destroyed hồ sơ: its tombstone as the file keeps it, and (format 2) its catalog
    rows and when it joined the case."""

    tombstone: dict[str, Any]  # the Tombstone columns, times parsed
    rows: dict[str, Any] | None  # format 2: record_file, documents, packages
    added_by: str | None
    added_at: dt.datetime | None

    @property
    def code(self) -> str:
        return str(self.tombstone["arc_file_code"] or self.tombstone["file_code"])


@dataclass(frozen=True)
class CaseFile:
    """What ``case.json`` says of one executed case."""

    format: int
    id: str
    title: str
    explanation: str
    proposer: str
    created_at: dt.datetime
    council: tuple[Member, ...]
    decisions: tuple[dict[str, Any], ...]
    records: tuple[Destroyed, ...]
    events: tuple[dict[str, Any], ...]
    locations: tuple[str, ...]
    executed_by: str
    started_at: dt.datetime


def _when(value: Any, field: str, optional: bool = False) -> dt.datetime | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise CaseFileError(field, "expected an ISO 8601 date and time")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise CaseFileError(field, f"not an ISO 8601 date and time: {value[:40]!r}") from None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


def _text(obj: Mapping[str, Any], key: str, field: str, *, most: int,
          optional: bool = False) -> str | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str) or (not value and not optional):
        raise CaseFileError(f"{field}.{key}", "expected a text")
    if len(value) > most:
        raise CaseFileError(f"{field}.{key}", f"longer than {most} characters")
    if "\0" in value:
        raise CaseFileError(f"{field}.{key}", "holds a NUL character")
    return value


def _must(obj: Mapping[str, Any], key: str, field: str, *, most: int) -> str:
    value = _text(obj, key, field, most=most)
    assert value is not None
    return value


def _int(obj: Mapping[str, Any], key: str, field: str, optional: bool = False) -> int | None:
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**62:
        raise CaseFileError(f"{field}.{key}", "expected a whole number")
    return value


def _dict(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise CaseFileError(field, "expected an object")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise CaseFileError(field, "expected a list")
    return value


def _code(obj: Mapping[str, Any], key: str, field: str, optional: bool = False) -> str | None:
    """An archival or file code: it names an AIP folder, so nothing that leaves one."""
    value = _text(obj, key, field, most=100, optional=optional)
    if value is None:
        return None
    segment = value.replace("/", "_")
    if segment in (".", "..") or segment.startswith(("_", ".")) or ".." in value.split("/") \
            or any(unicodedata.category(c) == "Cc" for c in value) or value != value.strip():
        raise CaseFileError(f"{field}.{key}", f"not a code: {value[:40]!r}")
    return value


def _member(obj: Any, field: str) -> Member:
    m = _dict(obj, field)
    opinion = m.get("opinion")
    if opinion is not None and opinion not in tuple(CouncilOpinion):
        raise CaseFileError(f"{field}.opinion", f"not an opinion: {str(opinion)[:20]!r}")
    return Member(_must(m, "username", field, most=80), opinion,
                  _text(m, "comment", field, most=2000, optional=True),
                  _when(m.get("opinion_at"), f"{field}.opinion_at", optional=True))


def _decision(obj: Any, field: str, archive: str, case_id: str) -> dict[str, Any]:
    d = _dict(obj, field)
    for key in ("number", "date", "signer", "decided_by"):
        _must(d, key, field, most=300)
    sha = _must(d, "sha256", field, most=64)
    if not SHA256.fullmatch(sha):
        raise CaseFileError(f"{field}.sha256", "not a SHA-256")
    _when(d.get("decided_at"), f"{field}.decided_at")
    _when(d.get("deadline"), f"{field}.deadline", optional=True)
    where = _text(d, "key", field, most=300, optional=True)
    if where is not None and where != f"{disposal_prefix(archive, case_id)}quyet-dinh-{sha[:16]}.pdf":
        raise CaseFileError(f"{field}.key", f"not this case's decision: {where[:80]!r}")
    return d


def _files(value: Any, field: str) -> list[dict[str, Any]]:
    out = []
    for i, obj in enumerate(_list(value, field)):
        f = _dict(obj, f"{field}[{i}]")
        sha = _must(f, "sha256", f"{field}[{i}]", most=64)
        if not SHA256.fullmatch(sha):
            raise CaseFileError(f"{field}[{i}].sha256", "not a SHA-256")
        out.append({"version": _int(f, "version", f"{field}[{i}]"),
                    "path": _must(f, "path", f"{field}[{i}]", most=1024), "sha256": sha,
                    "size": _int(f, "size", f"{field}[{i}]")})
    return out


def _documents(value: Any, field: str) -> list[dict[str, Any]]:
    out = []
    for i, obj in enumerate(_list(value, field)):
        d = _dict(obj, f"{field}[{i}]")
        out.append({"docId": _text(d, "docId", f"{field}[{i}]", most=100, optional=True),
                    "docCode": _code(d, "docCode", f"{field}[{i}]", optional=True),
                    "arcDocCode": _code(d, "arcDocCode", f"{field}[{i}]", optional=True)})
    return out


def _tombstone(obj: Any, field: str, archive: str, case_id: str) -> dict[str, Any]:
    t = _dict(obj, field)
    code, file_code = _code(t, "code", field), _code(t, "file_code", field)
    fond = _must(t, "fond_code", field, most=20)
    if not FOND_CODE.fullmatch(fond):
        raise CaseFileError(f"{field}.fond_code", f"not a fonds code: {fond!r}")
    locations = _dict(t.get("locations"), f"{field}.locations")
    for name, count in locations.items():
        if not isinstance(name, str) or not isinstance(count, int) or isinstance(count, bool):
            raise CaseFileError(f"{field}.locations", "expected location names and counts")
    decision = _decision(t.get("decision"), f"{field}.decision", archive, case_id)
    # a destroyed hồ sơ had an AIP (DES025), so an archival code: ``code`` is it
    return {"arc_file_code": code, "file_code": file_code,
            "fond_code": fond, "objid": _text(t, "objid", field, most=200, optional=True),
            "title": _must(t, "title", field, most=1000),
            "maintenance": _must(t, "maintenance", field, most=2),
            "retention_years": _int(t, "retention_years", field, optional=True),
            "start_date": _text(t, "start_date", field, most=10, optional=True),
            "end_date": _text(t, "end_date", field, most=10, optional=True),
            "documents": _documents(t.get("documents"), f"{field}.documents"),
            "files": _files(t.get("files"), f"{field}.files"), "locations": dict(locations),
            "decision": decision, "executed_by": _must(t, "executed_by", field, most=80),
            "executed_at": _when(t.get("executed_at"), f"{field}.executed_at")}


def _rows(obj: Any, field: str, tombstone: dict[str, Any]) -> dict[str, Any]:
    """Format 2: the destroyed hồ sơ's catalog rows; its codes must be the tombstone's."""
    rows = _dict(obj, field)
    rf = _dict(rows.get("record_file"), f"{field}.record_file")
    if rf.get("file_code") != tombstone["file_code"] \
            or rf.get("arc_file_code") != tombstone["arc_file_code"]:
        raise CaseFileError(f"{field}.record_file", "its codes are not the tombstone's")
    for key in ("title", "mode", "start_date", "end_date"):
        _must(rf, key, f"{field}.record_file", most=1000)
    docs = [_dict(d, f"{field}.documents[{i}]")
            for i, d in enumerate(_list(rows.get("documents"), f"{field}.documents"))]
    for i, d in enumerate(docs):
        _code(d, "arc_doc_code", f"{field}.documents[{i}]", optional=True)
        _int(d, "version", f"{field}.documents[{i}]", optional=True)
    packages = [_dict(p, f"{field}.packages[{i}]")
                for i, p in enumerate(_list(rows.get("packages"), f"{field}.packages"))]
    for i, p in enumerate(packages):
        _must(p, "objid", f"{field}.packages[{i}]", most=200)
        _int(p, "version", f"{field}.packages[{i}]")
    return {"record_file": rf, "documents": docs, "packages": packages}


def _event(obj: Any, field: str) -> dict[str, Any]:
    e = _dict(obj, field)
    _must(e, "event_uuid", field, most=36)
    _must(e, "objid", field, most=200)
    _int(e, "version", field)
    _when(e.get("event_datetime") or e.get("datetime"), f"{field}.datetime")
    return e


def parse_case_file(data: bytes, archive: str, case_id: str) -> CaseFile:
    """``case.json`` of the case in folder ``case_id``, checked whole; ``CaseFileError``."""
    if not CASE_ID.fullmatch(case_id):
        raise CaseFileError("folder", f"not a case id: {case_id[:60]!r}")
    if len(data) > MAX_BYTES:
        raise CaseFileError("case.json", f"larger than {MAX_BYTES} bytes")
    try:
        doc = _dict(json.loads(data.decode("utf-8")), "case.json")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CaseFileError("case.json", f"not JSON: {str(exc)[:120]}") from None
    fmt = doc.get("format", 1)
    if fmt not in (1, FORMAT):
        raise CaseFileError("format", f"unknown format {str(fmt)[:20]!r}")
    case = _dict(doc.get("case"), "case")
    if case.get("id") != case_id:
        raise CaseFileError("case.id", "not the folder's case id")
    if doc.get("archive") != archive:
        raise CaseFileError("archive", f"not this archive's ({archive})")
    decisions = tuple(_decision(d, f"decisions[{i}]", archive, case_id)
                      for i, d in enumerate(_list(doc.get("decisions"), "decisions")))
    if not decisions:
        raise CaseFileError("decisions", "no decision")
    stones = _list(doc.get("tombstones"), "tombstones")
    listed = {str(e.get("code")): e for e in _list(doc.get("list"), "list") if isinstance(e, dict)}
    extra = _list(doc.get("rows", [None] * len(stones)) if fmt == FORMAT else
                  [None] * len(stones), "rows")
    if len(extra) != len(stones):
        raise CaseFileError("rows", "not one per tombstone")
    records = []
    for i, obj in enumerate(stones):
        stone = _tombstone(obj, f"tombstones[{i}]", archive, case_id)
        rows = _rows(extra[i], f"rows[{i}]", stone) if fmt == FORMAT else None
        item = listed.get(str(stone["arc_file_code"] or stone["file_code"])) or {}
        records.append(Destroyed(stone, rows,
                                 _text(item, "added_by", f"list[{i}]", most=80, optional=True),
                                 _when(item.get("added_at"), f"list[{i}].added_at",
                                       optional=True)))
    codes = [r.code for r in records]
    if len(set(codes)) != len(codes):
        raise CaseFileError("tombstones", "a hồ sơ is named twice")
    locations = _list(doc.get("locations"), "locations")
    if not all(isinstance(n, str) and n for n in locations):
        raise CaseFileError("locations", "expected location names")
    started = _when(doc.get("executed_at"), "executed_at")
    assert started is not None
    created = _when(case.get("created_at"), "case.created_at")
    assert created is not None
    return CaseFile(
        fmt, case_id, _must(case, "title", "case", most=500),
        _must(case, "explanation", "case", most=10**6), _must(case, "proposer", "case", most=80),
        created,
        tuple(_member(m, f"council[{i}]") for i, m in enumerate(_list(doc.get("council"),
                                                                      "council"))),
        decisions, tuple(records),
        tuple(_event(e, f"events[{i}]") for i, e in enumerate(_list(doc.get("events"), "events"))),
        tuple(locations), _must(doc, "executed_by", "case.json", most=80), started)
