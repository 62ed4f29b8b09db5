"""information package creation: the SIP becomes a TT 05 AIP bag (see ``ingest.aip``).

Once the content files are in the AIP tree their replication starts (``start_storing``), so
the disks write them while the metadata, PREMIS and METS are generated."""

from __future__ import annotations

from ingest import aip
from ingest.context import IngestContext, StepResult
from ingest.steps.store_aip import start_storing
from preservation.issues import Report


def build_aip(ctx: IngestContext) -> StepResult:
    ctx.aip = aip.build(ctx, lambda prefix, folder, content: start_storing(
        ctx, prefix, folder, content))
    return StepResult.of(Report())
