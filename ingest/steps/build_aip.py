"""information package creation: the SIP becomes a TT 05 AIP bag (see ``ingest.aip``)."""

from __future__ import annotations

from ingest import aip
from ingest.context import IngestContext, StepResult
from preservation.issues import Report


def build_aip(ctx: IngestContext) -> StepResult:
    ctx.aip = aip.build(ctx)
    return StepResult.of(Report())
