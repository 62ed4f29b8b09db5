"""digital signature validation: PAdES in PDFs and detached CMS ``.p7s`` beside a file.

A signature must be intact, valid, trusted against the configured roots and (for the newest PDF
signature) cover the entire file; bytes appended after signing fail. Unsigned files are simply
unsigned: TT 05 does not require every file to be signed.
"""

from __future__ import annotations

from ingest.adapters.signatures import SignatureVerification
from ingest.context import IngestContext, StepResult
from ingest.spool import EventSpool
from preservation.events import DIGITAL_SIGNATURE_VALIDATION, Agent, Event, Outcome
from preservation.issues import Report, Severity

PDF_PUIDS_PREFIX = ("fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20",
                    "fmt/276", "fmt/95", "fmt/354", "fmt/476", "fmt/477", "fmt/478", "fmt/479",
                    "fmt/480", "fmt/481", "fmt/1129", "fmt/493", "fmt/144", "fmt/145", "fmt/146",
                    "fmt/147", "fmt/148", "fmt/157", "fmt/488", "fmt/489", "fmt/490", "fmt/491",
                    "fmt/492")


def _is_pdf(ctx: IngestContext, path: str) -> bool:
    fmt = ctx.files[path].format
    if fmt is not None and fmt.mime == "application/pdf":
        return True
    return bool(fmt and fmt.puid in PDF_PUIDS_PREFIX)


def _outcome(result: SignatureVerification) -> Outcome:
    severities = {i.severity for i in result.issues}
    if Severity.ERROR in severities:
        return Outcome.FAILURE
    return Outcome.WARNING if Severity.WARNING in severities else Outcome.SUCCESS


def verify_signatures(ctx: IngestContext) -> StepResult:
    report = Report()
    events = EventSpool(directory=ctx.workspace)  # one event per file
    agent = Agent("pyHanko", "pyHanko", note="PAdES/CMS validation, trust roots of the archive")
    for path in sorted(ctx.files):
        result = None
        if path.endswith(".p7s") and path[:-4] in ctx.files and ctx.services.cms_verifier:
            result = ctx.services.cms_verifier.verify(ctx.received(path[:-4]),
                                                      ctx.received(path))
        elif (ctx.services.pdf_verifier and ctx.files[path].signature_marker
              and _is_pdf(ctx, path)):
            # The read pass saw a signature dictionary (/ByteRange, never compressed): only
            # such PDFs are parsed by pyHanko; an unsigned PDF costs nothing here.
            result = ctx.services.pdf_verifier.verify(ctx.received(path))
            if not result.signed and not any(i.severity is Severity.ERROR for i in result.issues):
                continue  # unsigned PDF
        if result is None:
            continue
        target = path[:-4] if path.endswith(".p7s") else path
        ctx.files[target].signatures = result
        issues = [i for i in result.issues if i.code != "SIG001"]
        report.extend(issues)
        signers = ", ".join(c.signer for c in result.checks) or "-"
        events.append(Event(
            DIGITAL_SIGNATURE_VALIDATION, _outcome(result),
            f"{'detached CMS ' + path if path.endswith('.p7s') else 'PAdES'}; signers={signers}",
            outcome_detail="; ".join(sorted({i.code for i in issues})) or "intact, valid, trusted",
            object_identifier=target, agents=((agent, "validator"),)))
    return StepResult.of(report, events)
