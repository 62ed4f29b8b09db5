"""Sidecars for what the law requires the archive to prove later and no AIP holds: the rejected
submissions with their reports, and the hash-chained audit log. Written next to the AIPs in
every location (as ``storage.sidecar`` does for fonds, agencies and events) so that a catalog
rebuilt from the locations still has them. Layout::

    {archive}/_rejections/{job_id}.json     one rejected SIP: its record, job, report, events
    {archive}/_audit/{first:012d}-{last:012d}-{hash8}.jsonl
                                            audit-log entries first..last (catalog ids), one
                                            JSON object a line, with their chain hashes

Both are written once and never changed. An audit batch holds the entries after the highest id
already mirrored in that location; the reader follows the hash chain from the genesis across
every batch of every location, so a batch written twice or by two writers is harmless and a
gap or an altered entry stops the chain there (reported, never silently skipped over).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from preservation.catalog import state as catalog_state
from preservation.catalog.audit import GENESIS, entry_matches
from preservation.catalog.db import Catalog
from preservation.catalog.models import AuditEntry
from preservation.packaging.aip import layout
from storage.errors import ObjectMissing, StorageError
from storage.protocol import Storage
from storage.sidecar import iso, parse_when

REJECTION_FORMAT = "khoso-rejection/1"
AUDIT_BATCH = 500  # entries a line each: a busy day is a few objects, not thousands


def _dump(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1, default=str)
            + "\n").encode()


# -- rejections ---------------------------------------------------------------------------

def write_rejection(storages: Iterable[Storage], archive_code: str, record: Mapping[str, Any]
                    ) -> dict[str, str]:
    """Write one rejection record (``package``, ``job``, ``report``, ``events``) to every
    location that does not hold it yet; returns the locations that failed with their reason
    (best effort after the commit: the catalog holds it, a later call can write it again)."""
    key = layout.rejection_key(archive_code, record["job"]["id"])
    data = _dump({"format": REJECTION_FORMAT, **record})
    failed: dict[str, str] = {}
    for storage in storages:
        try:
            try:
                storage.stat(key)
                continue  # written once: the first record of a job is the one kept
            except ObjectMissing:
                pass
            storage.put(key, io.BytesIO(data), size=len(data))
        except StorageError as exc:
            failed[storage.name] = exc.message("en")
    return failed


def read_rejection(storage: Storage, key: str) -> dict[str, Any]:
    """A rejection record; ``ValueError`` when it is not one, storage errors as raised."""
    with storage.open(key) as f:
        value = json.loads(f.read().decode("utf-8"))
    if not isinstance(value, dict) or value.get("format") != REJECTION_FORMAT:
        raise ValueError("not a khoso rejection record")
    job = value.get("job") or {}
    if not layout.is_job_id(str(job.get("id") or "")) or not isinstance(value.get("package"), dict):
        raise ValueError("no job id or package")
    return value


# -- the audit log ------------------------------------------------------------------------

def entry_record(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": iso(entry.at), "actor": entry.actor, "action": entry.action,
            "object_type": entry.object_type, "object_id": entry.object_id,
            "detail": entry.detail, "prev_hash": entry.prev_hash, "entry_hash": entry.entry_hash}


def _mirrored_up_to(storage: Storage, archive_code: str) -> int:
    return max((r[1] for k in storage.list(layout.audit_prefix(archive_code))
                if (r := layout.audit_batch_range(k)) is not None), default=0)


def mirror_audit_log(catalog: Catalog, storages: Iterable[Storage], archive_code: str
                     ) -> dict[str, str]:
    """Append the audit-log entries each location does not hold yet as new batches; returns
    the locations that failed with their reason (best effort: the catalog holds the entries,
    and the next call writes whatever is still missing). What each location holds is kept in
    the catalog (``catalog_state``); a location it names not is listed once."""
    failed: dict[str, str] = {}
    with catalog.session() as s:
        mirrored = catalog_state.audit_mirrored(s)
    done: dict[str, int] = {}
    for storage in storages:
        try:
            after = mirrored.get(storage.name)
            if after is None:
                after = _mirrored_up_to(storage, archive_code)
            while True:
                with catalog.session() as s:
                    entries = list(s.scalars(sa.select(AuditEntry).where(AuditEntry.id > after)
                                             .order_by(AuditEntry.id).limit(AUDIT_BATCH)))
                if not entries:
                    break
                lines = [json.dumps(entry_record(e), ensure_ascii=False, sort_keys=True,
                                    default=str) for e in entries]
                data = ("\n".join(lines) + "\n").encode()
                first, last = entries[0].id, entries[-1].id
                key = layout.audit_batch_key(archive_code, first, last, entries[-1].entry_hash)
                storage.put(key, io.BytesIO(data), size=len(data))
                after = last
            if after != mirrored.get(storage.name):
                done[storage.name] = after
        except StorageError as exc:
            failed[storage.name] = exc.message("en")
    if done:
        try:
            with catalog.session() as s:
                catalog_state.set_audit_mirrored(s, done)
        except sa.exc.IntegrityError:  # another writer made the row first: it lists next time
            pass
    return failed


def read_audit_chain(sources: Iterable[tuple[Storage, str]]
                     ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The audit-log entries of every batch (``(storage, key)``), in chain order from the
    genesis, each hash checked; and the problems met as ``(key, reason)``. The chain stops at
    the first entry that cannot be linked or whose hash does not match its content."""
    by_prev: dict[str, list[dict[str, Any]]] = {}  # prev_hash -> candidates
    problems: list[tuple[str, str]] = []
    for storage, key in sources:
        try:
            with storage.open(key) as f:
                text = f.read().decode("utf-8", "replace")
        except StorageError as exc:
            problems.append((key, exc.message("en")))
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or not entry.get("prev_hash") or \
                        not entry.get("entry_hash") or not entry.get("at"):
                    raise ValueError("not an audit-log entry")
                parse_when(entry["at"])
            except ValueError as exc:
                problems.append((key, f"line {number}: {exc}"))
                continue
            by_prev.setdefault(entry["prev_hash"], []).append(entry)
    chain: list[dict[str, Any]] = []
    prev, last_id = GENESIS, 0
    while (candidates := by_prev.pop(prev, None)) is not None:
        entries = [{**e, "at": parse_when(e["at"]).replace(tzinfo=None)} for e in candidates
                   if isinstance(e.get("id"), int) and e["id"] > last_id]
        entry = next((e for e in entries if entry_matches(prev, e)), None)
        if entry is None:
            problems.append((f"audit entry {candidates[0].get('id')}",
                             "its hash or id does not follow on from the one before"))
            break
        chain.append(entry)
        prev, last_id = entry["entry_hash"], entry["id"]
    if by_prev:
        left = [e for c in by_prev.values() for e in c]
        first = min(left, key=lambda e: e.get("id") or 0)
        problems.append((f"audit entry {first.get('id')}",
                         f"{len(left)} entries do not follow on from the chain restored"))
    return chain, problems
