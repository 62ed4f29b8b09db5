"""virus check, in the one read pass that also computes every manifest digest.

Each payload byte is read once from the staging area: the same buffers go to the hashers (every
algorithm the bag's manifests use, plus SHA-256 for the AIP) and to clamd. Digests are compared
with the manifests here (BAG019), so a separate bag-hashing pass is never needed. A file clamd
could not fully scan is "not scanned" and rejects the SIP unless the policy says otherwise.
"""

from __future__ import annotations

from ingest.bag import payload_manifests, verify_tag_manifests
from ingest.context import FileFacts, IngestContext, StepResult, khoso_agent
from ingest.onepass import read_once
from preservation.events import MESSAGE_DIGEST_CALCULATION, VIRUS_CHECK, Agent, Event, Outcome


def clamd_agent(engine: str | None, signatures: str | None) -> Agent:
    name = engine or "ClamAV"
    return Agent(name.replace(" ", "-"), name, note=f"virusDefinitions={signatures or 'unknown'}")


def scan_viruses(ctx: IngestContext) -> StepResult:
    assert ctx.bag is not None and ctx.bag_root is not None
    report = verify_tag_manifests(ctx.bag)
    manifests = payload_manifests(ctx.bag)
    algorithms = sorted({"sha256", *manifests})
    events: list[Event] = []
    total = len(ctx.bag.files)
    for done, rel in enumerate(sorted(ctx.bag.files), 1):
        result = read_once(ctx.bag_root / rel, algorithms, ctx.services.scanner)
        for alg, listed in manifests.items():
            expected = listed.get(rel)
            if expected is not None and result.digests[alg] != expected:
                report.add("BAG019", rel, algorithm=alg, expected=expected,
                           found=result.digests[alg], manifest=f"manifest-{alg}.txt")
        sip_path = rel.removeprefix("data/")
        scan = result.scan
        ctx.files[sip_path] = FileFacts(sip_path, result.size, result.digests["sha256"], scan)
        assert scan is not None
        if scan.infected:
            report.add("AV001", sip_path, signature=scan.signature)
            outcome = Outcome.FAILURE
        elif not scan.scanned:
            if ctx.services.reject_not_scanned:
                report.add("AV003" if scan.limit_exceeded else "AV002", sip_path,
                           detail=scan.detail)
                outcome = Outcome.FAILURE
            else:
                report.add("ING004", sip_path, detail=scan.detail)
                outcome = Outcome.NOT_PERFORMED
        else:
            outcome = Outcome.SUCCESS
        events.append(Event(
            VIRUS_CHECK, outcome, scan.event_detail(),
            outcome_detail=scan.signature or scan.detail or "clean", object_identifier=sip_path,
            agents=((clamd_agent(scan.engine_version, scan.signature_version),
                     "executing program"),)))
        ctx.tick("scan", done, total)
    events.append(Event(
        MESSAGE_DIGEST_CALCULATION, Outcome.SUCCESS if report.ok else Outcome.FAILURE,
        f"program=python hashlib; algorithms={','.join(algorithms)}; files={total}; "
        "compared with the bag manifests in the same read pass",
        outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
        agents=((khoso_agent(), "executing program"),)))
    return StepResult.of(report, events)
