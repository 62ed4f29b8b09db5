"""Catalog sidecars: what the catalog knows that the AIPs do not, stored next to the AIPs.

An AIP holds its hồ sơ, tài liệu, files and ingest events, but not the fonds record, the
agencies' contact details, nor the events written after it was stored (replication, fixity
checks, repairs). These small JSON objects carry them, in every location, so that any one
location alone is enough to rebuild the catalog (``storage.rebuild``). Layout (built and parsed
by :mod:`preservation.packaging.aip.layout`)::

    {archive}/_agencies/{organ_id}.json          agency snapshot, rewritten when it changes
    {archive}/{fond}/_fonds.json                 fonds + archive body + fonds agency snapshot
    {archive}/{fond}/{code}/_events/{seq:06d}-{nonce}.jsonl
                                                 immutable batches of events (one JSON object
                                                 a line) appended after registration, for
                                                 every version ``{code}/vN`` of the package

No key segment of an AIP starts with ``_`` (archive, fonds and arcFileCode codes start with a
letter or digit), so sidecars never collide with AIP objects. A batch is written once and never
changed: the sequence number orders batches, the random nonce keeps two writers racing for the
same number from overwriting each other (and puts are write-once: a batch is never replaced).
Readers order events by time and drop duplicate ``event_uuid``s, so writing a batch twice (a
retried job) is harmless. Datetimes are ISO 8601 in UTC with microseconds, unlike PREMIS XML
(milliseconds), so events restored from sidecars are exact.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from preservation.events import Event
from preservation.packaging.aip.layout import AGENCIES_DIR as AGENCIES_DIR
from preservation.packaging.aip.layout import EVENTS_DIR as EVENTS_DIR
from preservation.packaging.aip.layout import FONDS_FILE as FONDS_FILE
from preservation.packaging.aip.layout import agency_key as agency_key
from preservation.packaging.aip.layout import events_prefix as events_prefix
from preservation.packaging.aip.layout import fonds_key as fonds_key
from preservation.packaging.aip.layout import split_package_prefix as split_package_prefix
from storage.errors import ObjectMissing, StorageError
from storage.protocol import Storage

FONDS_FORMAT = "khoso-fonds-snapshot/1"
AGENCY_FORMAT = "khoso-agency-snapshot/1"
FONDS_FIELDS = ("fond_code", "fond_name", "status", "fond_history", "archives_time", "year_from",
                "year_to", "total_doc", "classification_scheme", "languages", "risk_recovery",
                "description")
AGENCY_FIELDS = ("organ_id", "name", "address", "contact_email")
ARCHIVE_FIELDS = ("code", "name", "kind")
_BATCH = re.compile(r"(\d{6,})-[0-9a-f]{8}\.jsonl")


# -- keys ---------------------------------------------------------------------------------

def batch_sequence(key: str) -> int | None:
    m = _BATCH.fullmatch(key.rsplit("/", 1)[-1])
    return int(m[1]) if m else None


# -- values -------------------------------------------------------------------------------

def iso(value: dt.datetime | None) -> str | None:
    """UTC ISO 8601 with microseconds; a naive datetime (SQLite) is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _fields(obj: Any, names: Iterable[str]) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return {n: obj.get(n) for n in names}
    return {n: getattr(obj, n, None) for n in names}


def event_record(event: Event, *, objid: str, copy: Mapping[str, Any] | None = None,
                 link_copy: bool = True, bitstream: str | None = None,
                 critical: bool = False) -> dict[str, Any]:
    """One sidecar line for ``event`` about package ``objid``.

    ``copy`` names the stored copy the event is about (``location``, ``key``) and, for a check,
    the copy's state after it (``result``, ``detail``, ``checked_at``): enough to restore
    ``stored_copy``. ``link_copy`` says whether the catalog row points at that copy
    (``stored_copy_id``; ingest's replication events do not). ``bitstream`` is the bag path of
    the file the event is about, if any. ``critical`` records that the event left the package
    with no good copy of some object (``package.critical``, set by repair).
    """
    return {
        "event_uuid": event.event_uuid, "event_type": event.event_type,
        "event_datetime": iso(event.when), "detail": event.detail, "outcome": event.outcome.value,
        "outcome_detail": event.outcome_detail, "object_identifier": event.object_identifier,
        "outcome_data": None if event.outcome_data is None else dict(event.outcome_data),
        "objid": objid, "bitstream": bitstream, "critical": critical,
        "copy": {k: iso(v) if isinstance(v, dt.datetime) else v for k, v in copy.items()}
        if copy else None, "link_copy": bool(copy) and link_copy,
        "agents": [{**_fields(a, ("identifier_type", "identifier_value", "name", "agent_type",
                                  "note")), "role": role} for a, role in event.agents],
    }


# -- writing ------------------------------------------------------------------------------

def _dump(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def _put_if_changed(storage: Storage, key: str, data: bytes) -> bool:
    try:
        with storage.open(key) as f:
            if f.read() == data:
                return False
    except ObjectMissing:
        pass
    storage.put(key, io.BytesIO(data), size=len(data), replace=True)  # a snapshot, meant to change
    return True


def write_fonds_snapshot(storage: Storage, archive_code: str, fonds: Any, agency: Any | None,
                         archive_body: Any | None = None) -> bool:
    """Write ``{archive}/{fond}/_fonds.json`` unless it already holds the same; True if written.

    ``fonds``/``agency``/``archive_body`` are catalog rows (or mappings with the same names);
    only their columns are read, so rows detached after their session closed are fine.
    Call it after every change of the fonds or its agency, and after each ingest.
    """
    body = _fields(archive_body, ARCHIVE_FIELDS) if archive_body is not None else {
        "code": archive_code, "name": None, "kind": None}
    snapshot: dict[str, Any] = {"format": FONDS_FORMAT, "archive_body": body,
                "fonds": _fields(fonds, FONDS_FIELDS),
                "agency": _fields(agency, AGENCY_FIELDS) if agency is not None else None}
    return _put_if_changed(storage, fonds_key(archive_code, snapshot["fonds"]["fond_code"]),
                           _dump(snapshot))


def write_agency_snapshot(storage: Storage, archive_code: str, agency: Any) -> bool:
    """Write ``{archive}/_agencies/{organ_id}.json`` (a package's submitting agency)."""
    snapshot: dict[str, Any] = {"format": AGENCY_FORMAT, "agency": _fields(agency, AGENCY_FIELDS)}
    return _put_if_changed(storage, agency_key(archive_code, snapshot["agency"]["organ_id"]),
                           _dump(snapshot))


def _batch(key_prefix: str, events: list[dict[str, Any]]) -> tuple[str, bytes]:
    entity, version = split_package_prefix(key_prefix)
    lines = [json.dumps({**e, "version": e.get("version") or version}, ensure_ascii=False,
                        sort_keys=True) for e in events]
    return events_prefix(entity), ("\n".join(lines) + "\n").encode()


def _last_sequence(storage: Storage, prefix: str) -> int:
    return max((s for k in storage.list(prefix) if (s := batch_sequence(k)) is not None),
               default=0)


def append_events(storage: Storage, key_prefix: str, events: list[dict[str, Any]]) -> str | None:
    """Write one new, never rewritten batch of ``event_record``s for the package stored under
    ``key_prefix`` (``…/vN``); returns its key, or None when there was nothing to write."""
    if not events:
        return None
    prefix, data = _batch(key_prefix, events)
    # The name ends with the batch's own digest: the same batch has the same name everywhere,
    # and two writers racing for one sequence number cannot overwrite each other.
    key = f"{prefix}{_last_sequence(storage, prefix) + 1:06d}-{_digest8(data)}.jsonl"
    storage.put(key, io.BytesIO(data), size=len(data))
    return key


def _digest8(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()[:8]


def append_events_everywhere(storages: Iterable[Storage], key_prefix: str,
                             events: list[dict[str, Any]]) -> dict[str, str]:
    """The same batch, under the same key, in every location (replicas stay identical); a
    location that fails is named with its reason (best effort: the catalog already holds the
    events, a later call can write them again)."""
    failed: dict[str, str] = {}
    if not events:
        return failed
    storages = list(storages)
    prefix, data = _batch(key_prefix, events)
    last = 0
    for storage in storages:
        try:
            last = max(last, _last_sequence(storage, prefix))
        except StorageError as exc:
            failed[storage.name] = exc.message("en")
    key = f"{prefix}{last + 1:06d}-{_digest8(data)}.jsonl"
    for storage in storages:
        if storage.name in failed:
            continue
        try:
            storage.put(key, io.BytesIO(data), size=len(data))
        except StorageError as exc:
            failed[storage.name] = exc.message("en")
    return failed


# -- reading ------------------------------------------------------------------------------

def read_json(storage: Storage, key: str) -> dict[str, Any]:
    """A snapshot; ``ValueError`` when it is not a JSON object, storage errors as raised."""
    with storage.open(key) as f:
        value = json.loads(f.read().decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def read_fonds_snapshot(storage: Storage, archive_code: str,
                        fond_code: str) -> dict[str, Any] | None:
    try:
        return read_json(storage, fonds_key(archive_code, fond_code))
    except ObjectMissing:
        return None


def read_batch(storage: Storage, key: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The events of one batch and the reasons of lines that could not be read (skipped)."""
    with storage.open(key) as f:
        text = f.read().decode("utf-8", "replace")
    events, bad = [], []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
            if not isinstance(event, dict) or not event.get("event_uuid") or \
                    not event.get("event_type") or not event.get("event_datetime"):
                raise ValueError("not an event record")
            parse_when(event["event_datetime"])
        except ValueError as exc:
            bad.append(f"line {number}: {exc}")
            continue
        events.append(event)
    return events, bad


def read_events(storage: Storage, key_prefix: str) -> list[dict[str, Any]]:
    """Every sidecar event of the package stored under ``key_prefix``, all versions, in time
    order, duplicates dropped; unreadable lines are skipped."""
    entity, _ = split_package_prefix(key_prefix)
    keys = sorted((k for k in storage.list(events_prefix(entity)) if batch_sequence(k) is not None),
                  key=lambda k: (batch_sequence(k), k))
    return merge_events(read_batch(storage, k)[0] for k in keys)


def merge_events(batches: Iterable[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for batch in batches:
        for event in batch:
            seen.setdefault(event["event_uuid"], event)
    return sorted(seen.values(), key=lambda e: parse_when(e["event_datetime"]))


def parse_when(text: str) -> dt.datetime:
    """An ISO 8601 datetime as aware UTC (a naive one is taken as UTC)."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
