"""receive: identify what arrived (a folder or an archive) and digest it, as submitted."""

from __future__ import annotations

import hashlib

from ingest.context import IngestContext, StepResult
from ingest.unpack import detect_kind
from preservation.events import INGESTION_START, Event, Outcome, khoso_agent
from preservation.issues import Report


def receive(ctx: IngestContext) -> StepResult:
    """An unreadable or vanished submission raises ``OSError`` naming it: ``pipeline`` turns
    it into ``PKG078`` (or a system error when the archive's own disk fails)."""
    report = Report()
    src = ctx.source
    if src.is_symlink() or not (src.is_dir() or src.is_file()):
        report.add("PKG025", str(src), file=str(src))
        return StepResult.of(report)
    detail = f"source={src.name}"
    if src.is_file():
        kind = detect_kind(src)
        if kind is None:
            with open(src, "rb") as f:
                report.add("PKG001", src.name, file=src.name, magic=f.read(8).hex() or "empty")
            return StepResult.of(report)
        ctx.kind = kind
        h = hashlib.sha256()
        with open(src, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        detail += f"; kind={kind}; size={src.stat().st_size}; sha256={h.hexdigest()}"
    else:
        ctx.kind = "dir"
        detail += "; kind=dir"
    event = Event(INGESTION_START, Outcome.SUCCESS, detail, object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "executing program"),))
    return StepResult.of(report, [event])
