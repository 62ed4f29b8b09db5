"""virus check, in the one read pass that also computes every manifest digest.

Each payload byte is read once from the staging area: the same buffers go to the hashers (every
algorithm the bag's manifests use, plus SHA-256 for the AIP) and to clamd. Digests are compared
with the manifests here (BAG019), so a separate bag-hashing pass is never needed. A file clamd
could not fully scan is "not scanned" and rejects the SIP unless the policy says otherwise; clamd
being unreachable is no verdict at all and raises ``ScannerUnavailable`` (the job is retried).
Small files reach clamd in tar batches (``ingest.batchscan``), larger ones one by one.
"""

from __future__ import annotations

import collections
import functools
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ingest.adapters.clamd import ScannerUnavailable
from ingest.bag import payload_manifests, verify_tag_manifests
from ingest.batchscan import SMALL_MAX, plan, scan_small_files
from ingest.context import FileFacts, IngestContext, StepResult
from ingest.onepass import PIPELINE_MIN, FilePass, Sink, read_once
from ingest.spool import EventSpool
from ingest.steps.identify_formats import early_share, is_identified, start_identification
from ingest.unbagged import SubmissionForm
from preservation.blockhash import BLOCK
from preservation.events import (
    MESSAGE_DIGEST_CALCULATION,
    VIRUS_CHECK,
    Agent,
    Event,
    Outcome,
    khoso_agent,
)
from preservation.issues import Report
from preservation.packaging.model import CARRIED, nfc


@functools.lru_cache(maxsize=64)
def clamd_agent(engine: str | None, signatures: str | None) -> Agent:
    name = engine or "ClamAV"
    return Agent(name.replace(" ", "-"), name, note=f"virusDefinitions={signatures or 'unknown'}")


SCANNERS = 4
STAGE_MIN = PIPELINE_MIN  # content files this large go straight to the replicas
assert SMALL_MAX <= STAGE_MIN  # a batched file is never staged
CONTENT = "representations/rep1/data/"


def _check(ctx: IngestContext, report: Report, manifests: Mapping[str, Mapping[str, str]],
           rel: str, result: FilePass, same: dict[str, str]) -> Event:
    """Compare one file's digests with the manifests and judge its scan; its virus-check event."""
    sip_path = nfc(rel.removeprefix("data/"))
    for alg, listed in manifests.items():
        expected = listed.get(rel)
        if expected is None or result.digests[alg] == expected:
            continue
        if ctx.form is SubmissionForm.UNBAGGED:  # its METS is its manifest
            report.add("METS007", sip_path, href=sip_path, declared=expected.upper(),
                       actual=result.digests[alg].upper())
        else:
            report.add("BAG019", rel, algorithm=alg, expected=expected,
                       found=result.digests[alg], manifest=f"manifest-{alg}.txt")
    scan = result.scan
    assert scan is not None  # this step always reads with a scanner
    detail = scan.event_detail()
    detail = same.setdefault(detail, detail)
    ctx.files[sip_path] = FileFacts(sip_path, result.size, result.digests["sha256"], scan,
                                    signature_marker=result.marker,
                                    block_digests=result.block_digests)
    if scan.infected:
        report.add("AV001", sip_path, signature=scan.signature)
        outcome = Outcome.FAILURE
    elif not scan.scanned:
        if ctx.services.reject_not_scanned:
            report.add("AV003" if scan.limit_exceeded else "AV002", sip_path, detail=scan.detail)
            outcome = Outcome.FAILURE
        else:
            report.add("ING004", sip_path, detail=scan.detail)
            outcome = Outcome.NOT_PERFORMED
    else:
        outcome = Outcome.SUCCESS
    return Event(VIRUS_CHECK, outcome, detail,
                 outcome_detail=scan.signature or scan.detail or "clean", object_identifier=sip_path,
                 agents=((clamd_agent(scan.engine_version, scan.signature_version),
                          "executing program"),))


def _sinks(ctx: IngestContext, rel: str, index: int) -> tuple[list[Sink], Path | None]:
    """Where the read pass copies a file the AIP keeps (content, documentation, other
    metadata): a large one straight to every replica (staged, moved into place by
    store_aip), a small one of a folder submission to the workspace (the AIP takes it from
    there), under its NFC name. METS, EADs and schemas are rewritten for the AIP."""
    sip_path = nfc(rel.removeprefix("data/"))
    if not sip_path.startswith((CONTENT, *CARRIED)):
        return [], None
    assert ctx.bag is not None
    if ctx.services.stage is not None and ctx.bag.files[rel].size >= STAGE_MIN:
        sink = ctx.services.stage(ctx.job_id, index)
        ctx.staged[sip_path] = sink.key
        return [sink], None
    return [], ctx.content_copy(sip_path) if ctx.kind == "dir" else None


def _window_map(pool: ThreadPoolExecutor, fn, items, window: int):
    """``pool.map`` in order, with at most ``window`` tasks submitted ahead: ``map`` submits
    them all at once, a future and its result per file of a 100,000-file SIP."""
    pending: collections.deque = collections.deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def scan_viruses(ctx: IngestContext) -> StepResult:
    assert ctx.bag is not None and ctx.bag_root is not None
    bag = ctx.bag
    report = verify_tag_manifests(ctx.bag)
    manifests = payload_manifests(ctx.bag)
    algorithms = sorted({"sha256", *manifests})
    events = EventSpool(directory=ctx.workspace)  # one event per file
    same: dict[str, str] = {}  # one string per distinct event detail, not one per file
    total = len(ctx.bag.files)
    paths = sorted(ctx.bag.files)
    for p in paths:  # files are known by their NFC names from here on (macOS writes NFD)
        if not p.isascii() and (name := nfc(p.removeprefix("data/"))) != p.removeprefix("data/"):
            ctx.renamed[name] = p.removeprefix("data/")
    content = sorted(p for p in (nfc(p.removeprefix("data/")) for p in paths)
                     if is_identified(p))
    early = early_share(paths, len(content))
    if early:
        start_identification(ctx, content, range(early))

    def unit(indexes: list[int]) -> list[FilePass]:
        # Copies are written from this same pass, so no payload byte is read twice.
        first = paths[indexes[0]]
        if len(indexes) == 1 and bag.files[first].size >= SMALL_MAX:
            sinks, copy = _sinks(ctx, first, indexes[0])
            # its block digests too, for a cold download streamed from the first one: a
            # second SHA-256 in the same pass, next to clamd's scan of the same bytes
            return [read_once(ctx.payload_file(first), algorithms, ctx.services.scanner,
                              copy_to=copy, sinks=sinks, block_size=BLOCK)]
        # Small files: one clamd scan per batch (ingest.batchscan); never staged.
        return scan_small_files([(ctx.payload_file(paths[i]), _sinks(ctx, paths[i], i)[1])
                                 for i in indexes], algorithms, ctx.services.scanner)

    # Units (a batch of small files, or a larger file) are read and scanned SCANNERS at a
    # time: clamd's per-scan reply time, not the bytes, bounds small files, and hashing and
    # socket I/O release the GIL.
    units = plan(paths, lambda rel: bag.files[rel].size)
    with ThreadPoolExecutor(SCANNERS) as pool:
        done = 0
        for results in _window_map(pool, unit, units, 2 * SCANNERS):
            for result in results:
                if result.scan is not None and result.scan.unavailable:
                    # The archive's fault, not the file's: no verdict, no rejection; the job
                    # is retried (run_ingest removes what this attempt wrote).
                    raise ScannerUnavailable(getattr(ctx.services.scanner, "address", "?"),
                                             result.scan.detail or "not reachable")
                events.append(_check(ctx, report, manifests, paths[done], result, same))
                done += 1
                ctx.tick("scan", done, total)
    if report.ok and early < len(content):
        # The rest starts now, not with the read pass: on two cores the read pass and clamd
        # use both, while validate_sip (next) leaves one for the helper.
        start_identification(ctx, content, range(early, len(content)))
    against = ("METS checksums (no BagIt manifest)" if ctx.form is SubmissionForm.UNBAGGED
               else "bag manifests")
    events.append(Event(
        MESSAGE_DIGEST_CALCULATION, Outcome.SUCCESS if report.ok else Outcome.FAILURE,
        f"program=python hashlib; algorithms={','.join(algorithms)}; files={total}; "
        f"compared with the {against} in the same read pass",
        outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
        agents=((khoso_agent(), "executing program"),)))
    return StepResult.of(report, events)
