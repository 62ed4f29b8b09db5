"""Keeping the index current: one AIP after its catalog rows changed (ingest, a metadata
correction), or everything (``khoso search reindex``, after a catalog rebuild). Each runs in the
caller's transaction, so the index never disagrees with committed catalog rows."""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.search.backend import ENTRY, backend_for
from preservation.search.entries import current_aips, entries_of

CHUNK = 5000


@dataclass(frozen=True)
class Reindexed:
    records: int
    documents: int
    seconds: float
    backend: str


def _insert(s: Session, rows: list[dict[str, Any]]) -> list[int]:
    return list(s.execute(sa.insert(ENTRY).returning(ENTRY.c.id, sort_by_parameter_order=True),
                          rows).scalars())


def index_aip(s: Session, objid: str) -> int:
    """Replace the entries of ``objid`` by those of its current version (none if it has no
    active version any more); the number of entries written."""
    backend = backend_for(s)
    where = ENTRY.c.objid == objid
    backend.removing(s, where)
    s.execute(sa.delete(ENTRY).where(where))
    written = 0
    entries = entries_of(s, current_aips(s, objid))
    while chunk := list(islice(entries, CHUNK)):
        backend.added(s, _insert(s, chunk))
        written += len(chunk)
    return written


def reindex(s: Session) -> Reindexed:
    """Build the whole index again from the catalog; idempotent."""
    started = time.perf_counter()
    backend = backend_for(s)
    s.execute(sa.delete(ENTRY))
    counts = {"record": 0, "document": 0}
    entries = entries_of(s, current_aips(s))
    while chunk := list(islice(entries, CHUNK)):
        s.execute(sa.insert(ENTRY), chunk)
        for row in chunk:
            counts[row["kind"]] += 1
    backend.rebuilt(s)
    return Reindexed(counts["record"], counts["document"],
                     round(time.perf_counter() - started, 3), backend.name)
