"""digital signature validation: PAdES in PDFs and detached CMS ``.p7s`` beside a file.

A signature must be intact, valid, trusted against the configured roots and (for the newest PDF
signature) cover the entire file; bytes appended after signing fail. Unsigned files are simply
unsigned: TT 05 does not require every file to be signed.

The PREMIS event says what was checked, per signature and document timestamp (intact, valid,
trusted and when, timestamp token and its time, what it covers) and what the PDF's DSS held and
how validation used it, so a later reader need not trust a bare "success".
"""

from __future__ import annotations

import datetime as dt

from ingest.adapters.signatures import (
    SignatureCheck,
    SignatureKind,
    SignatureVerification,
    TimestampCheck,
)
from ingest.context import IngestContext, StepResult
from ingest.spool import EventSpool
from preservation.events import DIGITAL_SIGNATURE_VALIDATION, Agent, Event, Outcome
from preservation.issues import Report, outcome_of

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
    return outcome_of(result.issues)


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds") if moment else "?"


def _judged(intact: bool, valid: bool, trusted: bool) -> str:
    return ", ".join(w if ok else f"NOT {w}" for w, ok in (
        ("intact", intact), ("valid", valid), ("trusted", trusted)))


def _token(stamp: TimestampCheck) -> str:
    return (f"{_when(stamp.time)} by {stamp.tsa or '?'}: token "
            f"{_judged(stamp.intact, stamp.valid, stamp.trusted)}")


def _describe_check(check: SignatureCheck) -> str:
    name = check.field_name or "?"
    revision = f" (revision {check.revision})" if check.revision is not None else ""
    if check.validated_at is None:  # pyHanko could not validate it (SIG002)
        return f"{name}: {check.kind.value}{revision} could not be validated"
    if check.kind is SignatureKind.DOCUMENT_TIMESTAMP and check.timestamp is not None:
        head = f"{name}: document timestamp {_token(check.timestamp)}{revision}"
    else:
        head = (f"{name}: {check.kind.value} by {check.signer or '?'}{revision}: "
                f"{_judged(check.intact, check.valid, check.trusted)}")
    head += f"; trust judged at {_when(check.validated_at)}"
    if check.proof_of_existence:
        head += " (time of a trusted timestamp: proof of existence)"
    if check.covers_entire_file:
        head += "; covers the entire file"
    elif check.coverage == "ENTIRE_REVISION":
        head += "; covers its revision"
    else:
        head += f"; coverage {check.coverage or 'unknown'}"
    if check.later_changes and check.later_changes != "NONE":
        head += f", later changes {check.later_changes}"
    if check.kind is SignatureKind.SIGNATURE:
        head += ("; signature timestamp " + _token(check.timestamp) if check.timestamp
                 else "; no signature timestamp")
    return head


def describe(result: SignatureVerification) -> str:
    """What was checked, as recorded in the PREMIS event (eventOutcomeDetailNote)."""
    parts = [_describe_check(c) for c in result.checks]
    parts += [f"not checked (unsupported type): {i.params['fields']}"
              for i in result.problems if i.code == "SIG100"]
    embedded = result.dss is not None or any(c.revision is not None for c in result.checks)
    if embedded:  # a PDF's signatures (a detached CMS has no revisions and no DSS)
        dss = result.dss
        if dss is None:
            parts.append("DSS: absent")
        else:
            parts.append(
                f"DSS: present ({dss.certificates} certificates offered to certificate path "
                f"building; {dss.crls} CRLs and {dss.ocsps} OCSP responses not evaluated, "
                f"no revocation checking offline; {dss.vri} VRI entries)")
    codes = sorted({i.code for i in result.issues if i.code != "SIG001"})
    if codes:
        parts.append("issues: " + ", ".join(codes))
    return " | ".join(parts) or "no signature"


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
            if not result.signed and all(i.code == "SIG001" for i in result.issues):
                continue  # unsigned PDF
        if result is None:
            continue
        target = path[:-4] if path.endswith(".p7s") else path
        ctx.files[target].signatures = result
        issues = [i for i in result.issues if i.code != "SIG001"]
        report.extend(issues)
        signers = ", ".join(c.signer for c in result.checks
                            if c.kind is SignatureKind.SIGNATURE) or "-"
        stamps = sum(c.kind is SignatureKind.DOCUMENT_TIMESTAMP for c in result.checks)
        events.append(Event(
            DIGITAL_SIGNATURE_VALIDATION, _outcome(result),
            f"{'detached CMS ' + path if path.endswith('.p7s') else 'PAdES'}; signers={signers}"
            f"; document timestamps={stamps}",
            outcome_detail=describe(result), object_identifier=target,
            agents=((agent, "validator"),)))
    return StepResult.of(report, events)
