"""unpack safely: archives are extracted under limits; folders are checked by the same rules."""

from __future__ import annotations

from ingest.context import IngestContext, StepResult
from ingest.unpack import (
    MAX_KEY_BYTES,
    PATH_MAX,
    UnpackLimits,
    aip_prefix_bytes,
    stage_directory,
    unpack,
)
from preservation.events import UNPACKING, Event, Outcome, khoso_agent
from preservation.settings import Settings


def max_key_bytes(settings: Settings) -> int:
    """The longest key every storage location takes: 1024 bytes, less on a filesystem replica
    whose root is so long that root + "/" + key would pass PATH_MAX."""
    limit = MAX_KEY_BYTES
    for loc in settings.storage_locations:
        if loc.scheme == "file":
            limit = min(limit, PATH_MAX - 1 - len(str(loc.path.absolute()).encode()) - 1)
    return limit


def unpack_safely(ctx: IngestContext) -> StepResult:
    limits = UnpackLimits(max_total_bytes=ctx.settings.max_upload_bytes,
                          max_files=ctx.settings.max_files,
                          max_key_bytes=max_key_bytes(ctx.settings),
                          key_prefix_bytes=aip_prefix_bytes(ctx.settings.archive_code))
    if ctx.kind == "dir":
        result = stage_directory(ctx.source, limits)
        detail = "folder submission checked in place"
    else:
        result = unpack(ctx.source, ctx.workspace / "sip", limits)
        detail = f"{ctx.kind} archive extracted: {len(result.files)} files, {result.total_bytes} bytes"
    if result.ok:
        ctx.bag_root = result.bag_root
    outcome = Outcome.SUCCESS if result.ok else Outcome.FAILURE
    event = Event(UNPACKING, outcome, detail, object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "executing program"),))
    return StepResult.of(result.report, [event] if ctx.kind != "dir" else [])
