"""format identification (PRONOM) of every content file, checked against the TT 05 policy.

Content files are what the AIP preserves; the SIP's documentation and other metadata, which it
keeps too, are identified but not held to the policy. The SIP's metadata (METS, EAD, schemas) is parsed
and validated against its XSDs by validate_sip, which says more than a signature match, and
is not carried into the AIP: khoso writes the AIP's own METS, EAD and PREMIS, whose formats it
knows (``preservation.packaging.model.OWN_FORMATS``). Identifying them cost a third of siegfried's time.
"""

from __future__ import annotations

import functools
from pathlib import Path

from ingest import aip
from ingest.adapters.formats import BackgroundIdentifier
from ingest.context import IngestContext, StepResult
from ingest.spool import EventSpool
from preservation.events import FORMAT_IDENTIFICATION, Agent, Event
from preservation.issues import Report, outcome_of
from preservation.packaging.model import CARRIED

CONTENT_PREFIX = "representations/"


def is_content(path: str) -> bool:
    """A file of a representation's ``data/`` folder (SIP-relative path)."""
    return path.startswith(CONTENT_PREFIX) and "/data/" in path


def is_identified(path: str) -> bool:
    """A file the AIP keeps as it came: content, and the documentation and other metadata
    (identified too, so their format is registered, but not held to the TT 05 format policy,
    which is about the records)."""
    return is_content(path) or path.startswith(CARRIED)


BATCH = 2000


# siegfried spends ~0.5 ms of CPU on a 10 KiB PDF; validate_sip ~0.35 ms on a document's EAD
# (measured 2026-12-01 on 2 vCPUs). While validate_sip runs, the helper has the other core.
HIDDEN_PER_OTHER_FILE = 1.5  # content files whose identification hides behind one other file


def early_share(paths: list[str], content: int) -> int:
    """How many content files to identify during the read pass: those validate_sip is too
    short to hide (it takes about as long per document EAD as identification per file).
    Identifying them all during the read pass took both cores from clamd (a 10,000-document
    hồ sơ 2 s slower); identifying them all after it left one document with 10,000
    attachments waiting 4 s for identification (measured 2026-12-01)."""
    return max(0, content - int(HIDDEN_PER_OTHER_FILE * (len(paths) - content)))


def start_identification(ctx: IngestContext, paths: list[str], part: range | None = None) -> None:
    """Hand ``paths[part]`` (all by default) to an identifier that works in the background
    (``submit``); ``identify_formats`` collects the answers. Parts are started in order. A
    plain identifier waits for that step instead."""
    if not isinstance(ctx.services.identifier, BackgroundIdentifier):
        return
    submit = ctx.services.identifier.submit
    part = range(len(paths)) if part is None else part
    if ctx.identifying is None:
        ctx.identifying = (paths, [])
    # Batches are kept as index ranges into ``paths``: a Path per file costs ~400 B (measured
    # 2026-11-22) for as long as the futures wait, i.e. the whole read pass.
    ctx.identifying[1].extend(
        (range(i, min(i + BATCH, part.stop)),
         submit(_batch(ctx, paths, range(i, min(i + BATCH, part.stop))), workers=2))
        for i in range(part.start, part.stop, BATCH))


def _batch(ctx: IngestContext, paths: list[str], where: range) -> list[Path]:
    return [ctx.received(p) for p in paths[where.start:where.stop]]


def _identify(ctx: IngestContext, paths: list[str]):
    """Identify in batches: the identifier holds native memory per file until a call returns."""
    identifier = ctx.services.identifier
    if ctx.identifying is not None and ctx.identifying[0] == paths:
        assert isinstance(identifier, BackgroundIdentifier)  # it started them
        for where, future in ctx.identifying[1]:
            yield from identifier.result(future, _batch(ctx, paths, where), workers=2)
        return
    for start in range(0, len(paths), BATCH):
        batch = [ctx.received(p) for p in paths[start:start + BATCH]]
        yield from identifier.identify_many(batch, workers=2)


@functools.lru_cache(maxsize=16)
def _agent(tool: str, version: str, signatures: str) -> Agent:
    return Agent(f"{tool}-{version}", f"{tool} {version}", note=signatures)


def identify_formats(ctx: IngestContext) -> StepResult:
    assert ctx.bag_root is not None
    report = Report()
    events = EventSpool(directory=ctx.workspace)  # one event per file
    same: dict[str, str] = {}  # one string per distinct detail, not one per file
    paths = sorted(p for p in ctx.files if is_identified(p))
    if ctx.identifying is not None and ctx.sip is not None:
        # The helper is still at work on one core: meanwhile the other writes the AIP's EADs,
        # which need no format (a hồ sơ of 10,000 documents: about a second).
        ctx.described = aip.describe(ctx)
    for path, ident in zip(paths, _identify(ctx, paths), strict=True):
        ctx.files[path].format = ident
        # the TT 05 allowed formats, for the records
        issues = ctx.services.policy.check(ident, path) if is_content(path) else []
        report.extend(issues)
        outcome = outcome_of(issues)
        detail = ident.event_detail()
        outcome_detail = f"{ident.puid or 'UNKNOWN'} {ident.format_name or ''}".strip()
        events.append(Event(
            FORMAT_IDENTIFICATION, outcome, same.setdefault(detail, detail),
            outcome_detail=same.setdefault(outcome_detail, outcome_detail),
            object_identifier=path,
            agents=((_agent(ident.tool, ident.tool_version, ident.signature_file),
                     "executing program"),)))
    ctx.identifying = None  # every answer is in ctx.files: the paths and batches can go
    return StepResult.of(report, events)
