"""replication: write the AIP bag to every configured location, each verified by digest.

Nothing reaches a replica before every mandatory check passed: the content files start during
build_aip (after the last check), the rest here. A location that stays down fails the job
cleanly: what was written is removed, nothing is registered.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import overload

from ingest.aip import kept
from ingest.context import IngestContext, StepResult
from preservation.events import REPLICATION, Event, Outcome, khoso_agent
from preservation.issues import Report
from preservation.metadata.codelists import field_specs
from preservation.packaging.objects import ObjectToStore


def permanent(sip) -> bool:
    """Retention 01 (vĩnh viễn): the hồ sơ, or every loose document, is kept for ever.

    Read from the SIP, as the AIP's records carry it (``aip_values``: a kind whose AIP table
    has no retention counts as permanent), so the content files, replicated before those
    records exist, get the same lock as the rest of the package."""
    if sip.content == "hoso":
        return sip.ead.values.get("maintenance") == "01"
    return all(d.ead_record.values.get("maintenance", "01") == "01" for d in sip.documents
               if _aip_keeps_retention(d.ead_record.kind))


@functools.lru_cache(maxsize=8)
def _aip_keeps_retention(kind: str) -> bool:
    """Whether the AIP table of a document kind has the retention field (``aip_values``
    carries only the fields of that table)."""
    return any(s.name == "maintenance" for s in field_specs("AIP", kind))


class _Items(Sequence[ObjectToStore]):
    """Files of the AIP as ``ObjectToStore`` values, made when asked for: a list of them (key,
    Path, tuple) would cost ~450 B per file for the whole replication of a 100,000-file AIP
    (measured 2026-11-22)."""

    def __init__(self, prefix: str, folder: Path, files: Sequence, staged: dict[str, str],
                 lock: bool) -> None:
        self.prefix, self.folder, self.files, self.staged, self.lock = (
            prefix, folder, files, staged, lock)

    def __len__(self) -> int:
        return len(self.files)

    @overload
    def __getitem__(self, index: int) -> ObjectToStore: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[ObjectToStore]: ...

    def __getitem__(self, index: int | slice) -> ObjectToStore | Sequence[ObjectToStore]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        f = self.files[index]
        staged = self.staged.get(f.path.removeprefix("data/"))
        return ObjectToStore(f"{self.prefix}/{f.path}", None if staged else self.folder / f.path,
                         f.sha256, f.size, self.lock, staged)


def start_storing(ctx: IngestContext, prefix: str, folder: Path, content: list) -> None:
    """Start replicating the content files while build_aip writes the metadata (called by
    it once they are in the AIP tree; every check has passed by then). A later failure
    cancels it, which removes every object written (``ingest.pipeline``)."""
    start = ctx.services.start_replication
    if start is not None and content:
        ctx.storing = start(_Items(prefix, folder, content, ctx.staged, permanent(ctx.sip)),
                            progress=ctx.tick)


def replication_events(ctx: IngestContext) -> list[Event]:
    built = ctx.aip
    assert built is not None  # build_aip ran before anything was stored
    return [Event(REPLICATION, Outcome.SUCCESS,
                  f"location={r.location}; key={built.key_prefix}; objects={r.objects}; "
                  f"bytes={r.bytes}; seconds={r.seconds:.3f}; every object verified by SHA-256",
                  object_identifier=built.objid, agents=((khoso_agent(), "executing program"),),
                  outcome_data={"location": r.location, "key": built.key_prefix,
                                "objects": r.objects, "bytes": r.bytes,
                                "seconds": round(r.seconds, 3)})
            for r in ctx.stored]


def store_aip(ctx: IngestContext) -> StepResult:
    """Write every replica, or the part not written yet. With ``start_replication`` workers
    the registration runs while they write, and commits only after ``finish_storing``
    confirmed every replica (a failure there rolls it back and removes every object)."""
    built = ctx.aip
    assert built is not None
    lock = permanent(ctx.sip)
    if ctx.storing is not None:  # the content files are on their way (start_storing)
        rest = [f for f in built.files if not kept(f.path.removeprefix("data/"))]
        ctx.storing.add(_Items(built.key_prefix, built.folder, rest, ctx.staged, lock))
    else:
        items = _Items(built.key_prefix, built.folder, built.files, ctx.staged, lock)
        if ctx.services.start_replication is None:
            assert ctx.services.replicate is not None  # one of the two is wired
            ctx.stored = ctx.services.replicate(items, progress=ctx.tick)
            return StepResult.of(Report(), replication_events(ctx))
        ctx.storing = ctx.services.start_replication(items, progress=ctx.tick)
    if ctx.storing.running:
        return StepResult.of(Report())  # its events come with finish_storing
    return StepResult.of(Report(), finish_storing(ctx))


def finish_storing(ctx: IngestContext) -> list[Event]:
    """Wait for the replication to end; its events (none if they were recorded already)."""
    if ctx.storing is None:
        return []
    storing, ctx.storing = ctx.storing, None
    ctx.stored = storing.wait(progress=ctx.tick)
    return replication_events(ctx)
