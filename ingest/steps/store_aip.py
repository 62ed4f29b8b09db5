"""replication: write the AIP bag to every configured location, each verified by digest.

Nothing reached a replica before this step, i.e. before every mandatory check passed. A location
that stays down fails the job cleanly: what was written is removed, nothing is registered.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, overload

from ingest.context import IngestContext, StepResult, khoso_agent
from preservation.events import REPLICATION, Event, Outcome
from preservation.issues import Report


class StoreItem(NamedTuple):
    key: str
    path: Path | None  # None when staged: the replicas already hold it under ``staged``
    sha256: str
    size: int
    lock: bool  # under the location's Object Lock (COMPLIANCE) when kept permanently
    staged: str | None = None


def permanent(built) -> bool:
    """Retention 01 (vĩnh viễn): the hồ sơ, or every loose document, is kept for ever."""
    if built.hoso is not None:
        return built.hoso.values.get("maintenance") == "01"
    return all(d.record.values.get("maintenance", "01") == "01" for d in built.documents)


class _Items(Sequence[StoreItem]):
    """The AIP's files as StoreItems, made when asked for: a list of them (key, Path, tuple)
    would cost ~450 B per file for the whole replication of a 100,000-file AIP."""

    def __init__(self, ctx: IngestContext, lock: bool) -> None:
        self.built, self.staged, self.lock = ctx.aip, ctx.staged, lock

    def __len__(self) -> int:
        return len(self.built.files)

    @overload
    def __getitem__(self, index: int) -> StoreItem: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[StoreItem]: ...

    def __getitem__(self, index: int | slice) -> StoreItem | Sequence[StoreItem]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        built, f = self.built, self.built.files[index]
        staged = self.staged.get(f.path.removeprefix("data/"))
        return StoreItem(f"{built.key_prefix}/{f.path}",
                         None if staged else built.folder / f.path, f.sha256, f.size,
                         self.lock, staged)


def store_aip(ctx: IngestContext) -> StepResult:
    built = ctx.aip
    ctx.stored = ctx.services.replicate(_Items(ctx, permanent(built)), progress=ctx.tick)
    events = [Event(REPLICATION, Outcome.SUCCESS,
                    f"location={r.location}; key={built.key_prefix}; objects={r.objects}; "
                    f"bytes={r.bytes}; seconds={r.seconds:.3f}; every object verified by SHA-256",
                    object_identifier=built.objid, agents=((khoso_agent(), "executing program"),))
              for r in ctx.stored]
    return StepResult.of(Report(), events)
